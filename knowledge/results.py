"""What a search returns: typed results the action server, CLI and evaluation share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Decision = Literal["answer", "unsure", "out_of_scope", "empty"]

TOO_CLOSE = "top topics too close"
"""The reason an "unsure" result gives when its two best topics score nearly the same."""
WEAK_MATCH = "weak match"
LOW_CONFIDENCE = "low confidence"
CLOSEST_TO_OUT_OF_SCOPE = "closest to an out-of-scope example"


@dataclass(frozen=True)
class Hit:
    """One passage and how well it matched."""

    passage_id: str
    topic: str
    title: str
    score: float
    """Fused hybrid score in 0..1 (dense and lexical combined)."""
    dense: float
    """Best cosine similarity between the query and the passage's question variants or answer."""
    lexical: float
    """Best BM25 score of the passage's documents, squashed to 0..1."""


@dataclass(frozen=True)
class Result:
    """The outcome of one query: ranked hits, a calibrated confidence and a decision.

    decision:
      - "answer": confident enough to answer with hits[0]
      - "unsure": in scope but ambiguous or weak: ask which of `candidates` is meant
      - "out_of_scope": not something the knowledge base covers
      - "empty": nothing searchable in the query (blank, emoji only, punctuation)
    """

    query: str
    decision: Decision
    confidence: float
    hits: tuple[Hit, ...] = ()
    candidates: tuple[str, ...] = ()
    """Topic ids worth offering when unsure, best first (also filled when answering)."""
    out_of_scope_score: float = 0.0
    reasons: tuple[str, ...] = field(default=())

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def topics(self) -> list[str]:
        """Distinct topics of the hits, best first."""
        seen: list[str] = []
        for h in self.hits:
            if h.topic not in seen:
                seen.append(h.topic)
        return seen
