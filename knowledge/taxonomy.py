"""The canonical topic ids (knowledge/topics.yml, a vendored copy of ../shared/eval/topics.yml),
with this project's two additions per topic: whether it is a comparison, and its subject tag."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

TOPICS_FILE = Path(__file__).with_name("topics.yml")


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    covers: str
    comparison: bool = False
    """Compares mesotherapy with other treatments: a follow-up naming a treatment stays a comparison."""
    subject: str | None = None
    """The passage tag a follow-up inherits from an answer on this topic (face, hair, fat...)."""


def load_topics(path: Path = TOPICS_FILE) -> dict[str, Topic]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        t["id"]: Topic(
            id=t["id"],
            title=t["title"],
            covers=t.get("covers", ""),
            comparison=t.get("comparison", False) is True,
            subject=t.get("subject") or None,
        )
        for t in data["topics"]
    }
