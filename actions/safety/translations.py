"""Translations of the safety texts (`texts.<lang>.yml` beside `texts.yml`; Hindi for issue 13).

A translation entry carries the English text's `source_sha` (`texts.source_sha`), its own `text` with
exactly the English placeholders, the same `params` (choices name ids of the same file), and a
`reviewed` mapping whose `on` stays null until a clinician who reads the language has checked it.
`where` and `carries_disclaimer` come from the English entry.

`translated()` builds the same set of ids as the English file, each in the language where a usable
translation exists and in English otherwise: missing, stale (the English changed since), or unlike
its English (placeholders, params or numbers differ). Whatever is wrong with a translation, the
patient still reads the reviewed safety wording, in English, and `lint()` reports it as an error.

Standard library and PyYAML only; importable from Python 3.10 (Rasa) and 3.11 (action server).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.safety.texts import (
    PLACEHOLDER,
    ClinicFacts,
    Param,
    Reviewed,
    SafetyText,
    SafetyTexts,
    SafetyTextsError,
    _expand,
    _params,
    _problems,
    source_sha,
)

log = logging.getLogger(__name__)

_KEYS = {"id", "source_sha", "text", "params", "reviewed"}
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_LANG = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Entry:
    """One translated text as written in the file."""

    id: str
    text: str
    source_sha: str
    params: Mapping[str, Param]
    reviewed: Reviewed


def translated_path(english: Path, lang: str) -> Path:
    return english.with_name(f"{english.stem}.{lang}{english.suffix}")


def beside(english: Path) -> dict[str, Path]:
    """The translation files next to an English texts file, by language code."""
    found = {
        p.name[len(english.stem) + 1 : -len(english.suffix)]: p
        for p in english.parent.glob(f"{english.stem}.*{english.suffix}")
    }
    return {lang: p for lang, p in sorted(found.items()) if _LANG.fullmatch(lang)}


def read(path: Path) -> list[Entry]:
    """The entries of a translation file. Raises SafetyTextsError when it cannot be read at all."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SafetyTextsError(f"{path}: cannot read it: {exc}") from exc
    items = data.get("texts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SafetyTextsError(f"{path}: needs a `texts:` list")
    return [_entry(path, n, item) for n, item in enumerate(items, 1)]


def _entry(path: Path, n: int, item: Any) -> Entry:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise SafetyTextsError(f"{path}: text #{n} must be a mapping with an `id`")
    where = f"{path}: `{item['id']}`"
    unknown = sorted(map(str, set(item) - _KEYS))
    if unknown:
        raise SafetyTextsError(f"{where}: unknown keys {', '.join(unknown)}")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SafetyTextsError(f"{where}: `text` must be a non-empty string")
    reviewed = item.get("reviewed")
    reviewed = reviewed if isinstance(reviewed, dict) else {}
    return Entry(
        id=item["id"],
        text=text.strip(),
        source_sha=str(item.get("source_sha") or ""),
        params=_params(where, item.get("params") or {}),
        reviewed=Reviewed(
            by=str(reviewed.get("by") or "").strip(),
            on=str(reviewed.get("on", reviewed.get(True)) or "").strip(),  # YAML 1.1: a bare `on` is True
        ),
    )


def check(english: SafetyTexts, entry: Entry) -> list[str]:
    """Why this translation cannot stand in for its English text (empty: it can)."""
    en = english.texts.get(entry.id)
    if en is None:
        return ["no text of that id in the English file"]
    if en.where == "widget":
        return ["the widget's fixed wording is not translated here (the widget shows it in English)"]
    out: list[str] = []
    if entry.source_sha != source_sha(en.text):
        out.append("stale: the English text changed since it was translated (source_sha)")
    stray = PLACEHOLDER.sub("", entry.text)
    if "{" in stray or "}" in stray:
        out.append("a brace that is not a {placeholder}")
    ours, theirs = set(PLACEHOLDER.findall(entry.text)), set(PLACEHOLDER.findall(en.text))
    if ours != theirs:
        out.append(f"placeholders differ from the English: {sorted(ours ^ theirs)}")
    if set(entry.params) != set(en.params) or any(
        set(p.texts) != set(en.params[name].texts) for name, p in entry.params.items() if name in en.params
    ):
        out.append("params differ from the English (same names, same listed texts)")
    if Counter(_NUMBER.findall(entry.text)) != Counter(_NUMBER.findall(en.text)):
        out.append("numbers differ from the English")
    return out


def translated(english: SafetyTexts, lang: str) -> SafetyTexts:
    """The English ids in `lang`: each usable translation, the English text for the rest."""
    path = translated_path(english.path, lang)
    entries: list[Entry] = []
    if path.is_file():
        try:
            entries = read(path)
        except SafetyTextsError as exc:
            log.warning("safety texts in %s unusable, English used: %s", lang, exc)
    usable: dict[str, SafetyText] = {}
    for e in entries:
        if e.id in usable or check(english, e):
            continue
        en = english.texts[e.id]
        usable[e.id] = SafetyText(e.id, e.text, en.where, e.params, en.carries_disclaimer, e.reviewed)
    merged = {i: usable.get(i, t) for i, t in english.texts.items()}
    # The same includes as the English (checked above), so no new cycle can appear.
    expanded = {i: _expand(path, merged, i, ()) for i in merged}
    return SafetyTexts(path, merged, expanded, lang=lang, english=frozenset(set(merged) - set(usable)))


def lint(english: SafetyTexts, path: Path, lang: str, facts: ClinicFacts, used: set[str]) -> list[str]:
    """Errors in a translation file: unreadable, an id twice, an entry `check` refuses, and for each
    usable entry the English file's own rules (disclaimer, emergency number, markup, length)."""
    try:
        entries = read(path)
    except SafetyTextsError as exc:
        return [str(exc)]
    problems = [f"{i}: translated twice" for i, n in Counter(e.id for e in entries).items() if n > 1]
    for e in entries:
        problems += [f"{e.id}: {p}" for p in check(english, e)]
    texts = translated(english, lang)
    the_disclaimer = texts.render("disclaimer", facts)
    for t in texts:
        if t.id not in texts.english:
            problems += [
                f"{t.id}: {p}" for p in _problems(texts, t, facts, used, the_disclaimer, pending_review_ok=True)
            ]
    return problems


def pending_review(path: Path) -> tuple[int, int]:
    """(entries awaiting review by a clinician who reads the language, entries)."""
    entries = read(path)
    return sum(not e.reviewed.on for e in entries), len(entries)
