"""Checks the knowledge base against the rules in knowledge/README.md."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from knowledge.passages import AUDIENCE_SAFETY, TAGS, Passage, PassageError, parse_passage, passage_files
from knowledge.readability import reading_grade
from knowledge.taxonomy import load_topics
from knowledge.text import normalize, word_count

MAX_ANSWER_WORDS = 120
MIN_QUESTIONS = 8
MAX_READING_GRADE = 9.0
TEMPLATE_FIELDS = {"clinic_name", "price_list", "currency"}
_ID = re.compile(r"^[a-z_]+-[a-z0-9]+$")
_SEED = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")


@dataclass(frozen=True)
class LintIssue:
    level: str  # "error" or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def _check_passage(p: Passage, topics: set[str], seeds_dir: Path | None) -> list[LintIssue]:
    out: list[LintIssue] = []

    def err(msg: str) -> None:
        out.append(LintIssue("error", p.id, msg))

    if not _ID.match(p.id) or not p.id.startswith(p.topic + "-"):
        err(f"id should look like '{p.topic}-01'")
    if p.topic not in topics:
        err(f"topic '{p.topic}' is not in the taxonomy")
    if not p.title:
        err("empty title")
    n = word_count(p.answer)
    if n == 0:
        err("empty answer")
    elif n > MAX_ANSWER_WORDS:
        err(f"answer has {n} words, over the limit of {MAX_ANSWER_WORDS}")
    if p.answer_with_price_list is not None:
        if word_count(p.answer_with_price_list) > MAX_ANSWER_WORDS:
            err(f"answer_with_price_list is over {MAX_ANSWER_WORDS} words")
        fields = {f for _, f, _, _ in string.Formatter().parse(p.answer_with_price_list) if f}
        if fields - TEMPLATE_FIELDS:
            err(f"answer_with_price_list uses unknown field(s): {sorted(fields - TEMPLATE_FIELDS)}")
    if len(p.questions) < MIN_QUESTIONS:
        err(f"only {len(p.questions)} question variants, at least {MIN_QUESTIONS} needed")
    if not p.sources:
        err("no sources")
    for src in p.sources:
        if not _SEED.match(src):
            err(f"source '{src}' is not a seed file name")
        elif seeds_dir is not None and seeds_dir.is_dir() and not (seeds_dir / src).is_file():
            err(f"source '{src}' does not exist in {seeds_dir}")
    if p.audience_safety not in AUDIENCE_SAFETY:
        err(f"audience_safety must be one of {AUDIENCE_SAFETY}")
    if not p.reviewed.by or not p.reviewed.on:
        err("reviewed needs `by` and `on`")
    bad_tags = set(p.tags) - set(TAGS)
    if bad_tags:
        err(f"unknown tag(s) {sorted(bad_tags)}; known: {TAGS}")
    grade = reading_grade(p.answer)
    if grade > MAX_READING_GRADE:
        out.append(LintIssue("warning", p.id, f"reading grade {grade:.1f} (aim for 8 or below)"))
    return out


def lint(
    passages_dir: Path, topics_file: Path, seeds_dir: Path | None = None, translations_dir: Path | None = None
) -> list[LintIssue]:
    """Every rule broken by the passages, and with `translations_dir` by their translations
    (knowledge/translations.py: stale or unfaithful ones are errors, missing ones warnings)."""
    issues: list[LintIssue] = []
    taxonomy = load_topics(topics_file)
    topics = set(taxonomy)
    passages: list[Passage] = []
    for path in passage_files(passages_dir):
        try:
            passages.append(parse_passage(path))
        except PassageError as exc:
            issues.append(LintIssue("error", str(path), str(exc).split(": ", 1)[-1]))

    by_id: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        by_id[p.id].append(p)
        issues.extend(_check_passage(p, topics, seeds_dir))
        if p.path is not None and p.path.stem != p.id:
            issues.append(LintIssue("error", p.id, f"file name {p.path.name} does not match the id"))
    for pid, same in by_id.items():
        if len(same) > 1:
            issues.append(LintIssue("error", pid, f"duplicate id in {[str(p.path) for p in same]}"))

    covered = {p.topic for p in passages}
    for topic in sorted(topics - covered):
        issues.append(LintIssue("error", topic, "taxonomy topic has no passage"))

    owners: dict[str, set[str]] = defaultdict(set)
    for p in passages:
        for q in p.questions:
            owners[normalize(q)].add(p.id)
    for q, ids in sorted(owners.items()):
        if not q:
            issues.append(LintIssue("error", ",".join(sorted(ids)), "empty question variant"))
        elif len(ids) > 1:
            issues.append(LintIssue("error", ",".join(sorted(ids)), f"question variant shared: '{q}'"))
    if translations_dir is not None:
        from knowledge import translations  # imports this module: only when asked

        for lang in translations.languages(translations_dir):
            issues.extend(translations.lint(passages, taxonomy, lang, translations_dir))
    return issues
