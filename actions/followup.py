"""Follow-up questions that lean on the previous answer: "how many sessions for that?" after a
pigmentation answer, "what about PRP then?" after a comparison."""

from __future__ import annotations

import re

from knowledge.taxonomy import load_topics

_ANAPHORA = re.compile(
    r"\b(that|this|it|its|these|those|them|then|same|also|too|there|iske|uske|isme|usme|iska|uska)\b"
    r"|^\s*(and|but|so|what about|how about|and what about|aur)\b",
    re.IGNORECASE,
)
_TREATMENTS = {
    "prp": "PRP (platelet-rich plasma)",
    "platelet": "PRP (platelet-rich plasma)",
    "botox": "Botox",
    "filler": "fillers",
    "fillers": "fillers",
    "laser": "laser treatment",
    "peel": "chemical peel",
    "peels": "chemical peel",
    "microneedling": "microneedling",
    "dermapen": "microneedling",
    "liposuction": "liposuction",
    "lipo": "liposuction",
    "coolsculpting": "fat freezing",
    "hifu": "HIFU",
    "lipolysis": "fat-dissolving injections",
    "kybella": "fat-dissolving injections",
    "hydrafacial": "facials",
    "facial": "facials",
    "dermaplaning": "dermaplaning",
    "microdermabrasion": "microdermabrasion",
    "tattoo": "tattoo removal",
    "transplant": "hair transplant",
}
_MESOTHERAPY = re.compile(r"\b(meso\w*|this (treatment|procedure|injection)|your (treatment|injections?))\b|मेसो", re.I)
_COMPARING = re.compile(
    r"\b(vs|versus|better|best|compare[sd]?|comparison|difference|different|differ|instead|than|rather|or|"
    r"alternatives?|option|along|combine[sd]?|together|same day|ya|behtar|accha|jagah|saath)\b",
    re.IGNORECASE,
)
_TOPICS = load_topics()
COMPARISON_TOPICS = tuple(t.id for t in _TOPICS.values() if t.comparison)
"""Topics comparing mesotherapy with other treatments (`comparison: true` in knowledge/topics.yml)."""
TOPIC_TAGS = {t.id: t.subject for t in _TOPICS.values() if t.subject}
"""topic id -> the subject tag a follow-up inherits (`subject:` in knowledge/topics.yml)."""


def is_followup(text: str) -> bool:
    words = re.findall(r"\w+", text)
    return 0 < len(words) <= 9 and bool(_ANAPHORA.search(text))


def mentioned_treatment(text: str) -> tuple[str, str] | None:
    """(the word the patient used, the treatment's name) for the first treatment mentioned."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _TREATMENTS:
            return word, _TREATMENTS[word]
    return None


def about_another_treatment(text: str) -> bool:
    """A question about another treatment alone ("how long does Botox last?", "PRP for hair, does it
    work?"): it names one, does not name mesotherapy and compares or combines nothing."""
    return (
        mentioned_treatment(text) is not None and _MESOTHERAPY.search(text) is None and _COMPARING.search(text) is None
    )


def is_comparison(topic: str | None) -> bool:
    return topic in COMPARISON_TOPICS
