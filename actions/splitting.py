"""Splits a message holding several questions ("does it hurt and what does it cost?") into parts."""

from __future__ import annotations

import re

_QUESTION_WORDS = (
    r"what|what's|whats|how|does|do|is|are|can|could|will|would|when|where|why|which|who|should|"
    r"kya|kitna|kitne|kitni|kab|kaise|kahan|kaun"
)
_SPLIT = re.compile(
    r"\?+\s*|[;\n]+\s*|\.\s+(?=(?:" + _QUESTION_WORDS + r")\b)|"
    r",?\s+(?:and|also|plus|aur|&|n)\s+(?:also\s+)?(?=(?:" + _QUESTION_WORDS + r")\b)",
    re.IGNORECASE,
)
MAX_PARTS = 3


def split_questions(text: str) -> list[str]:
    """The question-like parts of a message, in order; a single-question message gives one part."""
    parts = [p.strip(" ,.!-") for p in _SPLIT.split(text[:1000])]
    parts = [p for p in parts if len(re.findall(r"\w+", p)) >= 2]
    return parts[:MAX_PARTS] if parts else [text]
