"""The knowledge base passes its own rules, and the lint really catches each broken rule."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from knowledge.lint import lint

SETTINGS = Settings()
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"


def _errors(passages_dir: Path) -> list[str]:
    seeds = SEEDS if SEEDS.is_dir() else None
    return [str(i) for i in lint(passages_dir, SETTINGS.topics_file, seeds) if i.level == "error"]


def test_real_knowledge_base_is_clean() -> None:
    assert _errors(SETTINGS.passages_dir) == []


@pytest.fixture()
def kb(tmp_path: Path) -> Path:
    copy = tmp_path / "passages"
    shutil.copytree(SETTINGS.passages_dir, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_unknown_topic_is_an_error(kb: Path) -> None:
    _edit(kb / "pain" / "pain-01.yml", "topic: pain", "topic: painz")
    assert any("pain-01" in e and "not in the taxonomy" in e for e in _errors(kb))


def test_topic_without_passage_is_an_error(kb: Path) -> None:
    shutil.rmtree(kb / "insurance")
    assert any("insurance" in e and "no passage" in e for e in _errors(kb))


def test_duplicate_id_is_an_error(kb: Path) -> None:
    shutil.copy(kb / "pain" / "pain-01.yml", kb / "pain" / "copy-of-pain-01.yml")
    assert any("duplicate id" in e for e in _errors(kb))


def test_missing_sources_is_an_error(kb: Path) -> None:
    path = kb / "downtime" / "downtime-01.yml"
    lines = path.read_text().splitlines()
    start = lines.index("sources:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  -"))
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n")
    assert any("downtime-01" in e and "no sources" in e for e in _errors(kb))


def test_answer_over_length_limit_is_an_error(kb: Path) -> None:
    _edit(kb / "cost" / "cost-01.yml", "answer: >-\n", "answer: >-\n  " + "word " * 130 + "\n")
    assert any("cost-01" in e and "over the limit" in e for e in _errors(kb))


def test_shared_question_variant_is_an_error(kb: Path) -> None:
    _edit(kb / "cost" / "cost-02.yml", "questions:\n", "questions:\n  - Kitna kharcha hota hai meso ka?\n")
    assert any("question variant shared" in e for e in _errors(kb))


def test_broken_yaml_is_reported_not_raised(kb: Path) -> None:
    (kb / "pain" / "pain-99.yml").write_text("id: [unclosed\n")
    assert any("pain-99.yml" in e for e in _errors(kb))
