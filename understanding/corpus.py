"""The labelled corpus of patient messages (`understanding/corpus/{train,heldout}/*.jsonl`).

Written by the team in many voices (see understanding/README.md); nothing from the evaluation
set. The held-out split is written in voices the training split does not use, before any tuning,
and is never read by training code: `load("heldout")` is for benchmarks and reports only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
SPLITS = ("train", "heldout")
ROUTES = ("answer", "medical", "emergency", "human", "booking", "clinic_info", "smalltalk", "yes_no", "out_of_scope")
LANGS = ("en", "hinglish", "hi")


class CorpusError(ValueError):
    pass


@dataclass(frozen=True)
class Message:
    id: str
    text: str
    route: str
    topics: tuple[str, ...]
    lang: str
    style: tuple[str, ...]
    after: str | None
    """The patient's previous message, for follow-ups that lean on context."""
    split: str


def topic_ids() -> set[str]:
    data = yaml.safe_load((ROOT / "knowledge" / "topics.yml").read_text(encoding="utf-8")) or {}
    return {str(t["id"]) for t in data.get("topics") or []}


def _parse(line: str, where: str, split: str) -> Message:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(row, dict):
        raise CorpusError(f"{where}: not a JSON object")
    text, after = row.get("text"), row.get("after")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: `text` must be a non-empty string")
    if after is not None and not isinstance(after, str):
        raise CorpusError(f"{where}: `after` must be a string")
    return Message(
        id=str(row.get("id") or ""),
        text=text,
        route=str(row.get("route") or ""),
        topics=tuple(str(t) for t in row.get("topics") or ()),
        lang=str(row.get("lang") or ""),
        style=tuple(str(s) for s in row.get("style") or ()),
        after=after or None,
        split=split,
    )


def load(split: str) -> list[Message]:
    if split not in SPLITS:
        raise CorpusError(f"unknown split {split!r}: one of {SPLITS}")
    out: list[Message] = []
    for path in sorted((CORPUS / split).glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append(_parse(line, f"{path.name}:{n}", split))
    return out


def lint() -> list[str]:
    """Problems in the corpus: bad labels, duplicate ids or texts, a text in both splits."""
    problems: list[str] = []
    topics = topic_ids()
    ids: Counter[str] = Counter()
    seen: dict[str, str] = {}
    for split in SPLITS:
        try:
            messages = load(split)
        except CorpusError as exc:
            problems.append(str(exc))
            continue
        if not messages:
            problems.append(f"{split}: no messages")
        for m in messages:
            ids[m.id] += 1
            where = f"{split}:{m.id or '?'}"
            if not m.id:
                problems.append(f"{where}: no id")
            if m.route not in ROUTES:
                problems.append(f"{where}: route {m.route!r} is not one of {ROUTES}")
            if m.lang not in LANGS:
                problems.append(f"{where}: lang {m.lang!r} is not one of {LANGS}")
            if (m.route == "answer") != bool(m.topics):
                problems.append(f"{where}: topics are required for route answer and only there")
            problems += [f"{where}: unknown topic {t!r}" for t in m.topics if t not in topics]
            has_devanagari = any("\u0900" <= ch <= "\u097f" for ch in m.text)
            if (m.lang == "hi") != has_devanagari:
                problems.append(f"{where}: lang {m.lang} but Devanagari {'present' if has_devanagari else 'absent'}")
            key = " ".join(m.text.lower().split())
            if key in seen:
                problems.append(f"{where}: same text as {seen[key]}")
            seen.setdefault(key, where)
    problems += [f"id {i!r} used {n} times" for i, n in ids.items() if n > 1]
    return problems
