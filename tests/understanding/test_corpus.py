"""The patient-message corpus: labels a clinic can trust, and a held-out split that stays apart."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from understanding import corpus


def test_the_corpus_has_no_problems() -> None:
    assert corpus.lint() == []


def test_it_is_big_enough_and_the_held_out_split_is_at_least_a_quarter() -> None:
    train, heldout = corpus.load("train"), corpus.load("heldout")
    assert len(train) + len(heldout) >= 2500
    assert len(heldout) >= (len(train) + len(heldout)) / 4


@pytest.mark.parametrize("split", corpus.SPLITS)
def test_every_route_and_language_is_covered(split: str) -> None:
    messages = corpus.load(split)
    routes = Counter(m.route for m in messages)
    assert set(routes) == set(corpus.ROUTES)
    for lang in corpus.LANGS:
        assert sum(m.lang == lang for m in messages if m.route == "answer") >= 50


def test_every_topic_has_general_questions_in_both_splits() -> None:
    for split in corpus.SPLITS:
        first = Counter(m.topics[0] for m in corpus.load(split) if m.route == "answer")
        assert set(first) == corpus.topic_ids(), split


def test_nothing_from_the_evaluation_set_is_in_the_corpus() -> None:
    dev = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "dev.jsonl"
    if not dev.exists():
        pytest.skip("../shared/eval/dev.jsonl is not beside the project")
    asked = {
        " ".join(t["text"].lower().split())
        for line in dev.read_text().splitlines()
        if line.strip()
        for t in json.loads(line)["turns"]
    }
    written = {" ".join(m.text.lower().split()) for s in corpus.SPLITS for m in corpus.load(s)}
    assert not asked & written


def test_the_lint_catches_a_bad_label_and_a_text_in_both_splits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for split in corpus.SPLITS:
        (tmp_path / split).mkdir()
    row = {"id": "t-1", "text": "does it hurt?", "route": "answer", "topics": ["pain"], "lang": "en"}
    (tmp_path / "train" / "a.jsonl").write_text(
        json.dumps(row) + "\n" + json.dumps({**row, "id": "t-2", "text": "x", "route": "nonsense", "topics": []}) + "\n"
    )
    (tmp_path / "heldout" / "a.jsonl").write_text(json.dumps({**row, "id": "h-1", "text": "Does it  hurt?"}) + "\n")
    monkeypatch.setattr(corpus, "CORPUS", tmp_path)
    problems = corpus.lint()
    assert any("route 'nonsense'" in p for p in problems)
    assert any("same text as train:t-1" in p for p in problems)
