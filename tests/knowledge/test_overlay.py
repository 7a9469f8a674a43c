"""The knowledge overlay (knowledge/overlay.py): a question variant approved in the staff console is
answered by the running retriever within seconds, with no restart and no rebuild of the index on disk;
a broken overlay file is ignored and the assistant keeps answering."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge import overlay
from knowledge.overlay import Overlay, OverlayError, OverlayVariant
from knowledge.retriever import Retriever

# Our own wording (not from the evaluation set): asked before any passage has it as a question.
STRAWBERRY = "will i look like a strawberry"
FLYING = "can i fly on a plane the day after"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def following(retriever, index_settings, tmp_path) -> tuple[Retriever, Path, Clock]:
    """A retriever on the session's real index, following an overlay file of its own, with a clock the
    test moves (the shared session retriever is left as it is)."""
    mine = Retriever(retriever.index, retriever.embedder)
    path = tmp_path / "overlay.json"
    mine.follow_overlay(path, index_settings.calibration_file, every=3.0)
    clock = Clock()
    assert mine.overlay is not None
    mine.overlay.clock = clock
    return mine, path, clock


def approve(path: Path, version: int, *variants: tuple[str, str]) -> None:
    overlay.write(path, Overlay(version, tuple(OverlayVariant(pid, text, n) for n, (pid, text) in enumerate(variants))))


@pytest.mark.slow
def test_an_approved_variant_is_answered_without_a_restart(following):
    retriever, path, clock = following
    before = retriever.search(STRAWBERRY)
    assert before.decision != "answer" or before.top is None or before.top.passage_id != "side_effects-02"
    base = retriever.index

    approve(path, 1, ("side_effects-02", STRAWBERRY))
    clock.now += 0.5  # within the check interval: the file is not even looked at yet
    assert retriever.search(STRAWBERRY).decision == before.decision
    clock.now += 3.0
    after = retriever.search(STRAWBERRY)
    assert after.decision == "answer" and after.top is not None and after.top.passage_id == "side_effects-02"
    assert after.confidence > 0.8

    # The index on disk and the retriever's own base are untouched; other questions answer as before.
    assert retriever.index is base and "overlay" not in base.manifest
    assert retriever.search("does it hurt").top.passage_id == "pain-01"  # type: ignore[union-attr]

    # A later approval adds to it; the first one stays.
    approve(path, 2, ("side_effects-02", STRAWBERRY), ("aftercare-04", FLYING))
    clock.now += 3.0
    flying = retriever.search(FLYING)
    assert flying.decision == "answer" and flying.top.passage_id == "aftercare-04"  # type: ignore[union-attr]
    assert retriever.search(STRAWBERRY).top.passage_id == "side_effects-02"  # type: ignore[union-attr]
    assert retriever.overlay is not None and retriever.overlay.applied is not None
    assert len(retriever.overlay.applied.added) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "broken",
    [
        b"{not json",
        b"\xff\xfe garbage",
        json.dumps({"format": 99, "version": 1, "variants": []}).encode(),
        json.dumps({"format": 1, "version": "one", "variants": []}).encode(),
        json.dumps(
            {"format": 1, "version": 2, "variants": [{"passage_id": "pain-01", "text": ["not", "text"]}]}
        ).encode(),
        json.dumps({"format": 1, "version": 2, "variants": "side_effects-02"}).encode(),
    ],
)
def test_a_broken_overlay_is_logged_and_ignored(following, broken, caplog):
    retriever, path, clock = following
    expected = retriever.search(STRAWBERRY)
    path.write_bytes(broken)
    clock.now += 3.0
    with caplog.at_level(logging.ERROR, logger="knowledge.overlay"):
        result = retriever.search(STRAWBERRY)
    assert (result.decision, result.confidence) == (expected.decision, expected.confidence)
    assert "broken and ignored" in caplog.text
    assert retriever.search("does it hurt").decision == "answer"


@pytest.mark.slow
def test_a_broken_overlay_after_a_good_one_keeps_the_good_one(following):
    retriever, path, clock = following
    before = retriever.search(STRAWBERRY)
    approve(path, 1, ("side_effects-02", STRAWBERRY))
    clock.now += 3.0
    assert retriever.search(STRAWBERRY).top.passage_id == "side_effects-02"  # type: ignore[union-attr]
    path.write_text("{half a file", encoding="utf-8")
    clock.now += 3.0
    assert retriever.search(STRAWBERRY).top.passage_id == "side_effects-02"  # type: ignore[union-attr]
    path.unlink()  # removed on purpose (the patch landed and the index was rebuilt): back to the base
    clock.now += 3.0
    assert retriever.search(STRAWBERRY) == before


@pytest.mark.slow
def test_variants_the_passages_have_or_unknown_passages_are_left_out(following):
    retriever, path, clock = following
    approve(
        path,
        1,
        ("pain-01", "does it sting a lot"),  # already a question of pain-01 (the patch landed)
        ("downtime-01", "Does it sting a lot?"),  # the same question, for another passage
        ("no_such-01", STRAWBERRY),
    )
    clock.now += 3.0
    retriever.search("anything")
    assert retriever.overlay is not None and retriever.overlay.applied is not None
    assert retriever.overlay.applied.added == ()
    reasons = [why for _, why in retriever.overlay.applied.skipped]
    assert reasons == ["already in the passage", "already a question of pain-01", "no such passage in the index"]
    assert retriever.overlay.index is retriever.index  # nothing added: the base itself


@pytest.mark.slow
def test_the_file_is_looked_at_at_most_every_few_seconds(following, monkeypatch):
    retriever, path, clock = following
    looked: list[Path] = []
    real = overlay.read

    def counted(p: Path) -> Overlay:
        looked.append(p)
        return real(p)

    monkeypatch.setattr(overlay, "read", counted)
    approve(path, 1, ("side_effects-02", STRAWBERRY))
    for _ in range(5):
        retriever.search("does it hurt")
        clock.now += 0.5
    assert len(looked) == 1  # read once; later checks within 3 s do nothing, and an unchanged file is not re-read
    clock.now += 10
    retriever.search("does it hurt")
    assert len(looked) == 1


def test_parse_refuses_what_is_not_an_overlay():
    good = {
        "format": 1,
        "version": 3,
        "variants": [{"passage_id": "pain-01", "text": "  sting   a lot ", "proposal_id": 4}],
    }
    assert overlay.parse(json.dumps(good).encode()) == Overlay(3, (OverlayVariant("pain-01", "sting a lot", 4),))
    for bad in (
        {**good, "version": -1},
        {**good, "version": True},
        {**good, "variants": [{"passage_id": "", "text": "x"}]},
        {**good, "variants": [{"passage_id": "pain-01", "text": "x" * 301}]},
        {**good, "variants": [{"passage_id": "pain-01", "text": "x", "proposal_id": "4"}]},
        {**good, "variants": [7]},
        [good],
    ):
        with pytest.raises(OverlayError):
            overlay.parse(json.dumps(bad).encode())


def test_missing_file_is_an_empty_overlay_and_writes_are_whole(tmp_path):
    path = tmp_path / "var" / "knowledge" / "overlay.json"
    assert overlay.read(path) == overlay.EMPTY
    written = Overlay(7, (OverlayVariant("pain-01", 'a "quoted" question: ok? café', 1),))
    overlay.write(path, written)
    assert overlay.read(path) == written
    assert [p.name for p in path.parent.iterdir()] == ["overlay.json"]  # no temporary file left behind
