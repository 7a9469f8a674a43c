"""Hindi passage answers (issue 13): every passage has a current translation that keeps the English
numbers and placeholders, and the lint catches a translation the English has moved away from."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from core.clinic import ClinicConfig, load_clinic
from core.settings import PROJECT_ROOT, Settings
from knowledge import translations
from knowledge.lint import lint as knowledge_lint
from knowledge.passages import load_passages
from knowledge.taxonomy import load_topics

SETTINGS = Settings()
PASSAGES = load_passages(SETTINGS.passages_dir)
TOPICS = load_topics(SETTINGS.topics_file)
CLINIC = load_clinic(PROJECT_ROOT / "clinic.yml")
HINDI = translations.load_translations(PASSAGES, TOPICS, "hi")


def _no_price_list() -> ClinicConfig:
    data = yaml.safe_load((PROJECT_ROOT / "clinic.yml").read_text(encoding="utf-8"))
    data["price_list"] = []
    return ClinicConfig.model_validate(data)


def _has_devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)


# --- the real translations --------------------------------------------------------------------------


@pytest.mark.parametrize("passage", PASSAGES, ids=lambda p: p.id)
def test_every_passage_has_a_current_hindi_answer(passage) -> None:
    found = HINDI.get(passage.id)
    assert found is not None, f"{passage.id}: no current Hindi translation"
    assert found.topic == passage.topic and not found.stale and not found.price_stale
    for clinic in (CLINIC, _no_price_list(), None):
        text = HINDI.answer_text(passage, clinic)
        assert text and _has_devanagari(text) and "{" not in text


def test_every_topic_has_a_current_hindi_title() -> None:
    for topic in TOPICS:
        title = HINDI.topic_title(topic)
        assert title and _has_devanagari(title), topic


def test_the_real_translations_pass_the_lint() -> None:
    assert [str(i) for i in translations.lint(PASSAGES, TOPICS, "hi")] == []


def test_every_translation_awaits_review_and_is_counted() -> None:
    pending, total = translations.pending_review("hi")
    assert total == len(PASSAGES) and 0 <= pending <= total
    assert all(t.pending_review == (not t.reviewed.on) for t in HINDI.passages.values())


def test_the_cost_answer_quotes_the_clinic_prices_in_hindi() -> None:
    cost = next(p for p in PASSAGES if p.id == "cost-01")
    with_prices = HINDI.answer_text(cost, CLINIC)
    assert with_prices is not None
    assert CLINIC.name in with_prices and "INR 6,500 per session" in with_prices and "15,000" not in with_prices
    ranges = HINDI.answer_text(cost, _no_price_list())
    assert ranges is not None and "3,000" in ranges and "40,000" in ranges


# --- the lint on temporary copies ----------------------------------------------------------------------


@pytest.fixture()
def tr_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "translations"
    shutil.copytree(translations.TRANSLATIONS_DIR, copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _errors(directory: Path) -> list[str]:
    return [str(i) for i in translations.lint(PASSAGES, TOPICS, "hi", directory) if i.level == "error"]


def test_a_stale_sha_is_an_error_and_never_served(tr_dir: Path) -> None:
    path = tr_dir / "hi" / "pain" / "pain-01.yml"
    sha = yaml.safe_load(path.read_text(encoding="utf-8"))["source_sha"]
    _edit(path, f"source_sha: {sha}", "source_sha: 0000000000000000")
    assert any("pain-01" in e and "stale" in e for e in _errors(tr_dir))
    stale = translations.load_translations(PASSAGES, TOPICS, "hi", tr_dir)
    assert stale.passages["pain-01"].stale and stale.get("pain-01") is None
    pain = next(p for p in PASSAGES if p.id == "pain-01")
    assert stale.answer_text(pain, CLINIC) is None  # the caller answers in English


def test_an_english_edit_makes_the_translation_stale() -> None:
    edited = [replace(p, answer=p.answer + " New.") if p.id == "downtime-01" else p for p in PASSAGES]
    assert any("downtime-01" in e and "stale" in e for e in [str(i) for i in translations.lint(edited, TOPICS, "hi")])


def test_a_dropped_number_is_an_error(tr_dir: Path) -> None:
    _edit(tr_dir / "hi" / "cost" / "cost-01.yml", "INR 3,000 से 15,000", "INR 3,000 से")
    assert any("cost-01" in e and "digits differ" in e and "15,000" in e for e in _errors(tr_dir))


def test_a_lost_placeholder_is_an_error(tr_dir: Path) -> None:
    _edit(tr_dir / "hi" / "cost" / "cost-01.yml", "ये हैं: {price_list}।", "ये हैं।")
    assert any("cost-01" in e and "placeholders differ" in e for e in _errors(tr_dir))


def test_a_stray_brace_is_an_error(tr_dir: Path) -> None:
    _edit(tr_dir / "hi" / "cost" / "cost-01.yml", "{clinic_name} की", "{clinic_name की")
    assert any("cost-01" in e and "brace" in e for e in _errors(tr_dir))


def test_an_unknown_passage_id_is_an_error(tr_dir: Path) -> None:
    path = tr_dir / "hi" / "pain" / "pain-99.yml"
    shutil.copy(tr_dir / "hi" / "pain" / "pain-01.yml", path)
    _edit(path, "id: pain-01", "id: pain-99")
    assert any("pain-99" in e and "no English passage" in e for e in _errors(tr_dir))


def test_a_missing_translation_is_a_warning(tr_dir: Path) -> None:
    (tr_dir / "hi" / "pain" / "pain-01.yml").unlink()
    issues = translations.lint(PASSAGES, TOPICS, "hi", tr_dir)
    assert [i.level for i in issues if "pain-01" in i.where] == ["warning"]


def test_a_stale_topic_title_is_an_error(tr_dir: Path) -> None:
    path = tr_dir / "hi" / "topics.yml"
    sha = next(t["source_sha"] for t in yaml.safe_load(path.read_text(encoding="utf-8"))["topics"] if t["id"] == "pain")
    _edit(path, f"source_sha: {sha}", "source_sha: 0000000000000000")
    assert any("topics/pain" in e and "stale" in e for e in _errors(tr_dir))


def test_knowledge_lint_includes_the_translations(tr_dir: Path) -> None:
    assert not [
        i for i in knowledge_lint(SETTINGS.passages_dir, SETTINGS.topics_file, None, tr_dir) if i.level == "error"
    ]
    _edit(tr_dir / "hi" / "cost" / "cost-01.yml", "INR 3,000 से 15,000", "INR 3,000 से")
    found = knowledge_lint(SETTINGS.passages_dir, SETTINGS.topics_file, None, tr_dir)
    assert any(i.level == "error" and "cost-01" in i.where for i in found)
