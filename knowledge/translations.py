"""Translated passage answers and topic titles (knowledge/translations/<lang>/), and their lint.

A translation is written from one English passage and records `source_sha`, a hash of the English
answer it was made from. When the English changes, the translation is *stale*: it may no longer say
what the reviewed English says, so it is never served (`Translations.answer_text` returns None and
the caller answers in English) and `python -m knowledge lint` fails until someone re-translates it.

Layout (issue 13):
    translations/<lang>/<topic>/<passage id>.yml   id, topic, lang, source_sha, answer,
                                                    [answer_with_price_list, price_source_sha],
                                                    questions, reviewed {by, on}
    translations/<lang>/topics.yml                  lang, reviewed, topics: [{id, title, source_sha}]

Every translation waits for a clinician who reads the language (`reviewed.on: null`): that is a
count in the lint, not an error.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from actions.safety.texts import source_sha
from core.clinic import ClinicConfig
from knowledge.lint import LintIssue
from knowledge.passages import Passage, Reviewed
from knowledge.taxonomy import Topic

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
TOPICS_FILE_NAME = "topics.yml"
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


class TranslationError(ValueError):
    """A translation file that cannot be read as one at all."""


@dataclass(frozen=True)
class PassageTranslation:
    id: str
    topic: str
    lang: str
    answer: str
    questions: tuple[str, ...]
    reviewed: Reviewed
    source_sha: str
    stale: bool
    """The English answer changed since it was translated."""
    answer_with_price_list: str | None = None
    price_source_sha: str | None = None
    price_stale: bool = False
    """The English `answer_with_price_list` changed, is gone, or exists but was never translated."""
    path: Path | None = field(default=None, compare=False)

    @property
    def pending_review(self) -> bool:
        return not self.reviewed.on


@dataclass(frozen=True)
class TopicTitle:
    id: str
    title: str
    source_sha: str
    stale: bool


@dataclass(frozen=True)
class Translations:
    """One language's translations, checked against the English passages and topics they came from."""

    lang: str
    passages: Mapping[str, PassageTranslation]
    topics: Mapping[str, TopicTitle]

    def get(self, passage_id: str) -> PassageTranslation | None:
        """The current translation of a passage, or None (missing or stale: answer in English)."""
        found = self.passages.get(passage_id)
        return found if found is not None and not found.stale else None

    def answer_text(self, passage: Passage, clinic: ClinicConfig | None = None) -> str | None:
        """Like knowledge.render.answer_text, in this language; None when there is no current
        translation of what the English would say (the caller then answers in English)."""
        found = self.get(passage.id)
        if found is None:
            return None
        if passage.answer_with_price_list and clinic is not None and clinic.price_list:
            if found.answer_with_price_list is None or found.price_stale:
                return None
            try:
                return found.answer_with_price_list.format(
                    clinic_name=clinic.name, price_list=clinic.formatted_prices(), currency=clinic.currency
                )
            except (KeyError, IndexError, ValueError):  # a broken template (the lint names it): English
                return None
        return found.answer

    def topic_title(self, topic_id: str) -> str | None:
        """The translated button label of a topic, or None (missing or stale)."""
        found = self.topics.get(topic_id)
        return found.title if found is not None and not found.stale else None


# --- loading ----------------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TranslationError(f"{path}: cannot read it: {exc}") from exc
    if not isinstance(data, dict):
        raise TranslationError(f"{path}: must hold a mapping")
    return data


def _reviewed(raw: Any) -> Reviewed:
    raw = raw if isinstance(raw, dict) else {}
    on = raw.get("on", raw.get(True))  # YAML 1.1 reads a bare `on:` key as the boolean True
    return Reviewed(by=str(raw.get("by") or "").strip(), on=str(on or "").strip())


def _text(raw: Any) -> str | None:
    return " ".join(raw.split()) if isinstance(raw, str) else None


def _price_stale(price: str | None, price_sha: str | None, english: str | None) -> bool:
    if price is None:
        return english is not None  # the English quotes the price list; this translation cannot
    return english is None or price_sha != source_sha(english)


def parse_translation(path: Path, english: Mapping[str, Passage]) -> PassageTranslation:
    """One translation file, checked against the English passage of its id (an unknown id is not stale)."""
    data = _read(path)
    answer = _text(data.get("answer"))
    if not isinstance(data.get("id"), str) or not answer:
        raise TranslationError(f"{path}: needs `id` and a non-empty `answer`")
    questions = data.get("questions") or []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise TranslationError(f"{path}: `questions` must be a list of strings")
    pid = data["id"].strip()
    sha = str(data.get("source_sha") or "")
    price_sha = str(data["price_source_sha"]) if data.get("price_source_sha") else None
    price = _text(data.get("answer_with_price_list"))
    p = english.get(pid)
    return PassageTranslation(
        id=pid,
        topic=str(data.get("topic") or "").strip(),
        lang=str(data.get("lang") or "").strip(),
        answer=answer,
        questions=tuple(q.strip() for q in questions),
        reviewed=_reviewed(data.get("reviewed")),
        source_sha=sha,
        stale=p is not None and sha != source_sha(p.answer),
        answer_with_price_list=price,
        price_source_sha=price_sha,
        price_stale=p is not None and _price_stale(price, price_sha, p.answer_with_price_list),
        path=path,
    )


def translation_files(lang_dir: Path) -> list[Path]:
    return sorted(p for p in lang_dir.rglob("*.yml") if p.is_file() and p != lang_dir / TOPICS_FILE_NAME)


def _load_topics(path: Path, english: Mapping[str, Topic]) -> dict[str, TopicTitle]:
    if not path.is_file():
        return {}
    items = _read(path).get("topics")
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise TranslationError(f"{path}: needs a `topics:` list of mappings")
    out: dict[str, TopicTitle] = {}
    for t in items:
        tid, title, sha = str(t.get("id") or ""), str(t.get("title") or "").strip(), str(t.get("source_sha") or "")
        en = english.get(tid)
        out[tid] = TopicTitle(tid, title, sha, stale=en is not None and sha != source_sha(en.title))
    return out


def load_translations(
    passages: Iterable[Passage],
    topics: Mapping[str, Topic],
    lang: str = "hi",
    directory: Path = TRANSLATIONS_DIR,
) -> Translations:
    """Every translation into `lang`, checked against the English it was made from.
    Raises TranslationError on a file that cannot be read; a missing language is empty."""
    english = {p.id: p for p in passages}
    lang_dir = directory / lang
    found: dict[str, PassageTranslation] = {}
    for path in translation_files(lang_dir) if lang_dir.is_dir() else []:
        t = parse_translation(path, english)
        if t.id in found:
            raise TranslationError(f"{path}: `{t.id}` is also translated in {found[t.id].path}")
        found[t.id] = t
    return Translations(lang=lang, passages=found, topics=_load_topics(lang_dir / TOPICS_FILE_NAME, topics))


# --- lint ---------------------------------------------------------------------------------------------


def _fields(text: str) -> set[str] | None:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return None  # a stray brace: str.format would fail on it


def _compare(en: str, tr: str, what: str) -> list[str]:
    """What a faithful translation keeps: the {placeholders} and every number as written."""
    out: list[str] = []
    en_fields, tr_fields = _fields(en), _fields(tr)
    if tr_fields is None:
        out.append(f"{what}: a brace that is not a {{placeholder}}")
    elif en_fields is not None and tr_fields != en_fields:
        out.append(f"{what}: placeholders differ from the English ({sorted(tr_fields)} vs {sorted(en_fields)})")
    lost = Counter(_NUMBER.findall(en)) - Counter(_NUMBER.findall(tr))
    added = Counter(_NUMBER.findall(tr)) - Counter(_NUMBER.findall(en))
    if lost or added:
        out.append(f"{what}: digits differ from the English (missing {sorted(lost)}, extra {sorted(added)})")
    return out


def _check(t: PassageTranslation, p: Passage, lang: str) -> list[str]:
    errors: list[str] = []
    if t.lang != lang:
        errors.append(f"lang is '{t.lang}', the folder says '{lang}'")
    if t.topic != p.topic:
        errors.append(f"topic '{t.topic}' is not the passage's topic '{p.topic}'")
    if t.path is not None and (t.path.stem != t.id or t.path.parent.name != p.topic):
        errors.append(f"should be {p.topic}/{t.id}.yml")
    if t.stale:
        errors.append("stale: the English answer changed since it was translated (source_sha)")
    else:
        errors += _compare(p.answer, t.answer, "answer")
    if t.answer_with_price_list is not None and p.answer_with_price_list is None:
        errors.append("answer_with_price_list, but the English passage has none")
    elif t.answer_with_price_list is not None and p.answer_with_price_list is not None:
        if t.price_stale:
            errors.append("stale: the English answer_with_price_list changed (price_source_sha)")
        else:
            errors += _compare(p.answer_with_price_list, t.answer_with_price_list, "answer_with_price_list")
    if not t.reviewed.by:
        errors.append("reviewed needs `by` (and `on`: null until a clinician has reviewed it)")
    if t.reviewed.on:
        try:
            date.fromisoformat(t.reviewed.on)
        except ValueError:
            errors.append("reviewed.on must be a date (YYYY-MM-DD) or null")
    return errors


def lint(
    passages: Iterable[Passage], topics: Mapping[str, Topic], lang: str = "hi", directory: Path = TRANSLATIONS_DIR
) -> list[LintIssue]:
    """Errors: stale, unknown id, placeholders or numbers differing from the English, a broken file.
    Warnings: a passage or topic without a translation, an untranslated price-list answer."""
    english = {p.id: p for p in passages}
    where = f"translations/{lang}"
    try:
        tr = load_translations(english.values(), topics, lang, directory)
    except TranslationError as exc:
        return [LintIssue("error", where, str(exc))]
    issues: list[LintIssue] = []
    for pid, t in sorted(tr.passages.items()):
        p = english.get(pid)
        if p is None:
            issues.append(LintIssue("error", f"{where}/{pid}", "no English passage has this id"))
            continue
        issues += [LintIssue("error", f"{where}/{pid}", e) for e in _check(t, p, lang)]
        if p.answer_with_price_list is not None and t.answer_with_price_list is None:
            issues.append(LintIssue("warning", f"{where}/{pid}", "answer_with_price_list not translated"))
    for pid in sorted(set(english) - set(tr.passages)):
        issues.append(LintIssue("warning", f"{where}/{pid}", "no translation (the English answer is used)"))
    for tid, title in sorted(tr.topics.items()):
        if tid not in topics:
            issues.append(LintIssue("error", f"{where}/topics/{tid}", "not a topic of the taxonomy"))
        elif title.stale:
            issues.append(LintIssue("error", f"{where}/topics/{tid}", "stale: the English title changed"))
        elif not title.title:
            issues.append(LintIssue("error", f"{where}/topics/{tid}", "empty title"))
    for tid in sorted(set(topics) - set(tr.topics)):
        issues.append(LintIssue("warning", f"{where}/topics/{tid}", "no translated title"))
    return issues


def pending_review(lang: str = "hi", directory: Path = TRANSLATIONS_DIR) -> tuple[int, int]:
    """(translations awaiting a clinician's review, translations): a count for the lint summary."""
    lang_dir = directory / lang
    files = translation_files(lang_dir) if lang_dir.is_dir() else []
    pending = 0
    for path in files:
        try:
            pending += not _reviewed(_read(path).get("reviewed")).on
        except TranslationError:
            continue  # reported by lint()
    return pending, len(files)


def languages(directory: Path = TRANSLATIONS_DIR) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
