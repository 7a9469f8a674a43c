"""The canonical topic ids (knowledge/topics.yml, a vendored copy of ../shared/eval/topics.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Topic:
    id: str
    title: str
    covers: str


def load_topics(path: Path) -> dict[str, Topic]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {t["id"]: Topic(id=t["id"], title=t["title"], covers=t.get("covers", "")) for t in data["topics"]}
