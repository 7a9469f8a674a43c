"""Text normalisation and tokenisation shared by the lexical index, lint and dedup checks."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

MAX_QUERY_CHARS = 1000
"""Queries are cut to this length before search: no patient question needs more, and
it keeps a 10,000-character paste from costing a 10,000-character embedding."""

_WORD = re.compile(r"[a-z0-9]+")

# Very common English and Hinglish function words; they carry no topic signal.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at for with by from as is are was were be been being
    do does did doing have has had having i me my we our you your it its this that these those
    there their they them he she his her can could will would should shall may might must
    what which who whom whose when where why how about into over after before than then so
    just also very any some much many more most get got am not no yes please tell know want
    hai hain ho hota hoti hote kya ka ki ke ko se me mein mai main aur ya bhi toh to na nahi
    kaise kitna kitne kitni kab kaun""".split()
) | {"meso", "mesotherapy", "therapy"}
"""The last three name the subject of nearly every passage, so they only add noise to BM25."""


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse white space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(_WORD.findall(text))


def clip(text: str) -> str:
    """Trim white space and cut overly long input to MAX_QUERY_CHARS."""
    return (text or "").strip()[:MAX_QUERY_CHARS]


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def content_words(text: str) -> list[str]:
    """The words that can carry a topic: all but the function words and the subject's own name."""
    return [w for w in words(text) if w not in STOPWORDS]


def lexical_tokens(text: str, char_ngrams: int = 4) -> list[str]:
    """Stemmed content words plus character n-grams of longer words.

    The n-grams let a misspelt word ("mesothrapy", "pigmantation") still share most of
    its pieces with the correct spelling, which plain word matching would miss.
    """
    content = content_words(text)
    tokens = _stemmer().stemWords(content)
    if char_ngrams:
        for w in content:
            if len(w) > char_ngrams:
                padded = f"<{w}>"
                tokens.extend("#" + padded[i : i + char_ngrams] for i in range(len(padded) - char_ngrams + 1))
    return tokens


def word_count(text: str) -> int:
    return len(text.split())
