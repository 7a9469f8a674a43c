"""Translations of the replies `actions/texts.py` writes in its own words (`actions/texts.<lang>.yml`;
Hindi for issue 13). The safety texts have their own (`actions/safety/translations.py`).

Each entry keeps `en`, the English it was translated from with the f-string fields written as
{name}, {phone} ..., and `source_sha` of it. A translation is said only while `en`, filled with the
clinic's values, is exactly what `actions/texts.py` writes in English: when someone edits the English
in the code and not here, the patient gets the English (never an out-of-date translation) and `lint()`
names the entry.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.safety.texts import PLACEHOLDER, source_sha

TEXTS_DIR = Path(__file__).resolve().parent
"""Where `texts.<lang>.yml` are read (tests point it at a temporary copy)."""
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


class ReplyTextsError(ValueError):
    """A translation file that cannot be read at all."""


@dataclass(frozen=True)
class ReplyTranslation:
    id: str
    en: str
    text: str
    source_sha: str
    reviewed_by: str
    reviewed_on: str
    """Empty until a clinician who reads the language has reviewed it."""

    @property
    def stale(self) -> bool:
        return self.source_sha != source_sha(self.en)

    def problems(self) -> list[str]:
        """Why it cannot stand in for its English (empty: it can)."""
        out: list[str] = []
        if self.stale:
            out.append("stale: `en` changed since it was translated (source_sha)")
        ours, theirs = set(PLACEHOLDER.findall(self.text)), set(PLACEHOLDER.findall(self.en))
        if ours != theirs:
            out.append(f"placeholders differ from `en`: {sorted(ours ^ theirs)}")
        for field in (self.en, self.text):
            stray = PLACEHOLDER.sub("", field)
            if "{" in stray or "}" in stray:
                out.append("a brace that is not a {placeholder}")
        if Counter(_NUMBER.findall(self.text)) != Counter(_NUMBER.findall(self.en)):
            out.append("numbers differ from `en`")
        if not self.reviewed_by:
            out.append("reviewed needs `by` (and `on`: null until reviewed)")
        return out


def path_for(lang: str) -> Path:
    return TEXTS_DIR / f"texts.{lang}.yml"


def read(path: Path) -> list[ReplyTranslation]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReplyTextsError(f"{path}: cannot read it: {exc}") from exc
    items = data.get("texts") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ReplyTextsError(f"{path}: needs a `texts:` list")
    return [_entry(path, n, item) for n, item in enumerate(items, 1)]


def _entry(path: Path, n: int, item: Any) -> ReplyTranslation:
    if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "en", "hi")):
        raise ReplyTextsError(f"{path}: text #{n} needs `id`, `en` and `hi` strings")
    reviewed = item.get("reviewed")
    reviewed = reviewed if isinstance(reviewed, dict) else {}
    return ReplyTranslation(
        id=item["id"],
        en=item["en"].strip(),
        text=item["hi"].strip(),
        source_sha=str(item.get("source_sha") or ""),
        reviewed_by=str(reviewed.get("by") or "").strip(),
        reviewed_on=str(reviewed.get("on", reviewed.get(True)) or "").strip(),  # YAML 1.1: bare `on` is True
    )


def load(lang: str) -> Mapping[str, ReplyTranslation]:
    """The usable translations into `lang` by id; empty when there is no file or it is unreadable
    (then every reply is said in English, and `lint()` reports why)."""
    return _load(str(path_for(lang)))


@lru_cache(maxsize=8)
def _load(path: str) -> Mapping[str, ReplyTranslation]:
    try:
        entries = read(Path(path)) if Path(path).is_file() else []
    except ReplyTextsError:
        return {}
    return {e.id: e for e in entries if not e.problems()}


def fill(template: str, values: Mapping[str, str]) -> str | None:
    """The template with its placeholders filled in one pass; None if a value is missing."""
    if any(name not in values for name in PLACEHOLDER.findall(template)):
        return None
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def say(lang: str, reply_id: str, english: str, values: Mapping[str, str]) -> str:
    """`english` in `lang` when a usable translation of exactly that English exists, else `english`."""
    if lang == "en":
        return english
    entry = load(lang).get(reply_id)
    if entry is None:
        return english
    source = fill(entry.en, values)
    if source is None or source.split() != english.split():  # translated from other English
        return english
    return fill(entry.text, values) or english


def lint(lang: str = "hi", clinic_file: Path | None = None) -> list[str]:
    """Problems in `texts.<lang>.yml`: unreadable, an unknown or repeated id, an entry unlike its
    `en` or stale, a reply of actions/texts.py without a translation, and an entry whose `en` is not
    what the code writes (so the patient would get the English)."""
    from actions import texts
    from core.clinic import load_clinic

    path = path_for(lang)
    try:
        entries = read(path)
    except ReplyTextsError as exc:
        return [str(exc)]
    clinic = load_clinic(clinic_file or Path(__file__).resolve().parents[1] / "clinic.yml")
    replies, values = texts.translatable(clinic), {**texts.reply_values(clinic), **texts.EXAMPLE_VALUES}
    problems = [f"{i}: translated twice" for i, n in Counter(e.id for e in entries).items() if n > 1]
    for e in entries:
        problems += [f"{e.id}: {p}" for p in e.problems()]
        if e.id not in replies:
            problems.append(f"{e.id}: no reply of actions/texts.py has this id")
        elif not e.problems() and (fill(e.text, values) or "{") not in replies[e.id](lang):
            problems.append(f"{e.id}: `en` is not what actions/texts.py writes (the English changed?)")
    problems += [f"{i}: no translation (said in English)" for i in sorted(set(replies) - {e.id for e in entries})]
    return problems
