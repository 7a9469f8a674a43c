"""The reply metadata every turn carries (../shared/CONTRACT.md): what the bot did and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal[
    "answer", "clarify", "handoff", "emergency", "out_of_scope", "smalltalk", "clinic_info", "booking", "consent"
]
KINDS_NEEDING_DISCLAIMER = ("answer", "clarify", "handoff", "emergency")


@dataclass(frozen=True)
class ReplyMeta:
    kind: Kind
    topics: tuple[str, ...] = ()
    passage_ids: tuple[str, ...] = ()
    confidence: float = 0.0
    disclaimer: bool = False
    handoff: bool = False
    sources: tuple[str, ...] = ()
    """Seed articles behind the passages (an addition to the contract, for staff and the widget)."""
    rules: tuple[str, ...] = ()
    """The safety rules behind the decision ("warning_sign:breathing", "personal_medical:medicine"):
    catalogue ids, so staff can see which reviewed rule fired (an addition to the contract)."""
    reason: str = ""
    """Why this kind was chosen, e.g. "warning_sign:breathing" or "retrieval:unsure" (for staff review)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["topics"] = list(self.topics)
        data["passage_ids"] = list(self.passage_ids)
        data["sources"] = list(self.sources)
        data["rules"] = list(self.rules)
        data["confidence"] = round(float(self.confidence), 4)
        if not self.extra:
            data.pop("extra")
        return data

    def payload(self) -> dict[str, Any]:
        """The custom payload as sent to channels: {"meta": {...}}."""
        return {"meta": self.to_json()}
