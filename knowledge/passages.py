"""Curated passages: the data files under knowledge/passages/ and their typed form."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

AUDIENCE_SAFETY = ("general", "needs_clinician")
TAGS = ("face", "pigmentation", "hair", "fat", "scars")


class PassageError(ValueError):
    """A passage file that cannot be read as a passage at all."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Reviewed:
    by: str
    on: str


@dataclass(frozen=True)
class Passage:
    id: str
    topic: str
    title: str
    answer: str
    questions: tuple[str, ...]
    sources: tuple[str, ...]
    audience_safety: str
    reviewed: Reviewed
    tags: tuple[str, ...] = ()
    answer_with_price_list: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def needs_clinician(self) -> bool:
        return self.audience_safety == "needs_clinician"


def _strings(raw: Any, name: str, path: Path) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise PassageError(path, f"`{name}` must be a list of strings")
    return tuple(x.strip() for x in raw)


def parse_passage(path: Path) -> Passage:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PassageError(path, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PassageError(path, "a passage file must hold a mapping")
    missing = [k for k in ("id", "topic", "title", "answer") if not isinstance(data.get(k), str)]
    if missing:
        raise PassageError(path, f"missing or non-text field(s): {', '.join(missing)}")
    reviewed = data.get("reviewed") or {}
    if not isinstance(reviewed, dict):
        raise PassageError(path, "`reviewed` must be a mapping with `by` and `on`")
    price_template = data.get("answer_with_price_list")
    return Passage(
        id=data["id"].strip(),
        topic=data["topic"].strip(),
        title=data["title"].strip(),
        answer=" ".join(data["answer"].split()),
        questions=_strings(data.get("questions"), "questions", path),
        sources=_strings(data.get("sources"), "sources", path),
        audience_safety=str(data.get("audience_safety", "")).strip(),
        # YAML 1.1 reads a bare `on:` key as the boolean True, so accept both spellings.
        reviewed=Reviewed(
            by=str(reviewed.get("by", "")).strip(),
            on=str(reviewed.get("on", reviewed.get(True, ""))).strip(),
        ),
        tags=_strings(data.get("tags"), "tags", path),
        answer_with_price_list=" ".join(price_template.split()) if isinstance(price_template, str) else None,
        path=path,
    )


def passage_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_passages(directory: Path) -> list[Passage]:
    """Every passage under `directory`, sorted by id. Raises PassageError on a broken file."""
    return sorted((parse_passage(p) for p in passage_files(directory)), key=lambda p: p.id)


def content_hash(paths: list[Path], root: Path) -> str:
    """A stable hash of the files' names (relative to `root`) and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
