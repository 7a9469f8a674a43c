"""Text normalisation and small regex helpers shared by the rule-based safety detectors.

Standard library only, and importable from Python 3.10 (the Rasa NLU component) as well as
3.11 (the action server). Every pattern built here is compiled once, at import.

Normalised text is lower-case NFKC with straight quotes, no control characters, single spaces
(newlines kept as sentence breaks), letters repeated three or more times squeezed to one
("soooo" -> "so", "helppp" -> "help"), and the common contractions spelt out, so patterns only
need one spelling: every "can't / cant / can not / cannot / couldn't / unable to / not able to"
becomes "cannot", "i'm / im" becomes "i am", "it's" becomes "it is", "don't / dont" becomes
"do not", and so on.
"""

from __future__ import annotations

import bisect
import re
import unicodedata

MAX_CHARS = 10_000
"""Every channel accepts up to 10,000 characters, and every one of them is checked: normalised text
is clipped only beyond that (normalising never makes a text longer than NFKC does)."""

_RAW_CLIP = 4 * MAX_CHARS
"""Raw input beyond this (more than any channel accepts) is cut before normalising, so a megabyte
paste that bypassed a channel costs nothing either."""

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u02bc": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u093c": None,  # Devanagari nukta: "तेज़" and "तेज" are one word to a patient
        "\u0901": "\u0902",  # candrabindu as anusvara: "साँस" and "सांस"
        "\u0964": ".",  # the danda ends a Hindi sentence as a full stop ends an English one
        "\u2013": ",",  # en and em dashes set off a clause, as commas do
        "\u2014": ",",
        "\u0965": ".",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FORMAT = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_NEWLINES = re.compile(r"\s*[\n\r\u2028\u2029\x85]+\s*")
_SPACES = re.compile(r"[^\S\n]+")
_JOINERS = re.compile(r"(?<=\w)[-_/~]+(?=\w)")
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")

_CONTRACTIONS = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (
            r"\b(?:ca?n'?t|can\s+not|cannot|could\s*n'?t|could\s+not|unable\s+to|not\s+able\s+to)\b",
            "cannot",
        ),
        (r"\bi'?m\b", "i am"),
        (r"\bi'?ve\b", "i have"),
        (r"\bi'll\b", "i will"),
        (r"\bi'd\b", "i would"),
        (r"\bit's\b", "it is"),
        (r"\b(what|that|there|who|how|where)'s\b", r"\1 is"),
        (r"\b(we|they|you)'re\b", r"\1 are"),
        (r"\b(he|she)'s\b", r"\1 is"),
        (
            r"(?<=[a-z])'s(?=\s+(?:gone|going|got|getting|been|become|becoming|turned|turning|puffed|swollen|swelling|"
            r"a\b|an\b|really|very|so|all|now|still|just|not|never|always|like|started|starting|feeling|looking|"
            r"doing|[a-z]+ed\b|[a-z]+ing\b))",
            " is",
        ),
        (r"\bwon'?t\b", "will not"),
        (r"\b(do|does|did|is|are|was|were|have|has|had|should|would|must)n'?t\b", r"\1 not"),
        (r"\bu\b", "you"),
        (r"\b(?:pl[sz]|plese|plz)\b", "please"),
    )
)


def normalise(text: object) -> str:
    """The detectors' view of a message; "" for anything that is not a non-empty string."""
    if not isinstance(text, str) or not text:
        return ""
    text = unicodedata.normalize("NFKC", text[:_RAW_CLIP])
    text = text.translate(_QUOTES).lower()
    text = _FORMAT.sub("", _CONTROL.sub(" ", text))
    text = _NEWLINES.sub("\n", text)
    text = _one_line(text)
    text = _SPACES.sub(" ", text)
    text = _JOINERS.sub(" ", text)
    text = _ELONGATED.sub(r"\1", text)
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text.strip()[:_RAW_CLIP]


def _one_line(text: str) -> str:
    """A message typed a word or two per line ("saans / nahi / aa / rahi") is one sentence: its
    newlines are spaces. Ordinary line breaks (sentences, lists) are kept."""
    lines = text.count("\n") + 1
    if lines >= 3 and len(text.split()) <= 2 * lines:
        return text.replace("\n", " ")
    return text


def gap(most: int) -> str:
    """Up to `most` whole words (each preceded by white space or a comma), as a regex fragment."""
    return r"(?:[\s,]+[\w']+){0," + str(most) + "}?"


def alt(*parts: str) -> str:
    """A non-capturing alternation of regex fragments."""
    return "(?:" + "|".join(parts) + ")"


def compile_words(*parts: str) -> re.Pattern[str]:
    """An alternation of fragments, compiled with word boundaries on both sides."""
    return re.compile(r"\b" + alt(*parts) + r"\b")


FIRST_PERSON = re.compile(
    r"\b(?:i|me|my|mine|myself|we|our|ours|mujhe|mujhko|mujhse|muje|mereko|meko|mera|meri|mere|main|mai|"
    r"hum|humein|humko|hamara|hamari|hamare|apna|apni|hoon|hun|hu|karu|karoon|karun)\b|"
    "\u092e\u0941\u091d|\u092e\u0947\u0930[\u093e\u0940\u0947]|\u092e\u0948\u0902"  # मुझ, मेरा/मेरी/मेरे, मैं
)
"""A speaker talking about themselves (or their own family: "our son"). Hinglish "main / mai" is
also the word for "in" in some spellings; counting it anyway only makes a detector more cautious."""

URGENCY = re.compile(
    r"\b(?:now|help|urgent\w*|emergency|suddenly|sudden|currently|it\s+is|is\s+getting|are\s+getting|"
    r"asap|sos|ambulance|hospital|what\s+to\s+do|what\s+do\s+we\s+do|abhi|turant|jaldi|bachao|"
    r"kya\s+kar[eu]\w*|rah[aie]|rhe|rha|rhi)\b|"
    "\u0905\u092d\u0940|\u0930\u0939[\u093e\u0940\u0947]|\u092e\u0926\u0926|\u092c\u091a\u093e\u0913"  # अभी, रहा/रही/रहे, मदद, बचाओ
)
"""Something happening now, or a call for help ("rahi / raha" is the Hinglish progressive)."""

_SENTENCE_BREAK = re.compile(r"[!?;:\n]|\.(?!\d)")


class Sentences:
    """Sentence boundaries of one normalised text, for asking which sentence a match is in."""

    __slots__ = ("_ends", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends = [m.end() for m in _SENTENCE_BREAK.finditer(text)]

    def around(self, start: int, end: int | None = None) -> tuple[int, int]:
        """The (start, end) offsets of the sentence holding text[start:end]."""
        end = start if end is None else end
        i = bisect.bisect_right(self._ends, start)
        lo = self._ends[i - 1] if i else 0
        j = bisect.bisect_left(self._ends, end)
        hi = self._ends[j] if j < len(self._ends) else len(self.text)
        return lo, hi


def before(text: str, start: int, pattern: re.Pattern[str], window: int = 40) -> bool:
    """Whether `pattern` (anchored with `$`) matches the text just before offset `start`."""
    return pattern.search(text, max(0, start - window), start) is not None


def after(text: str, end: int, pattern: re.Pattern[str], window: int = 40) -> bool:
    """Whether `pattern` matches right at offset `end` (use it like a lookahead)."""
    return pattern.match(text[end : end + window]) is not None
