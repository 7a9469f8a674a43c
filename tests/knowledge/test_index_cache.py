"""The cached index is reused only when it matches the passages and model; a stale,
corrupted or missing index is detected and reported, or rebuilt, never silently used."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from core.settings import Settings
from knowledge import index as index_mod
from knowledge.retriever import Retriever, sources_from

pytestmark = pytest.mark.slow


@pytest.fixture()
def private_index(tmp_path: Path, retriever, index_settings: Settings) -> Settings:
    """A copy of the session's built index and passages that a test may damage."""
    passages = tmp_path / "passages"
    shutil.copytree(index_settings.passages_dir, passages)
    shutil.copytree(index_settings.index_dir, tmp_path / "index")
    return Settings(passages_dir=passages, index_dir=tmp_path / "index")


def test_fresh_index_loads_without_rebuilding(private_index: Settings, embedder) -> None:
    before = json.loads((private_index.index_dir / "manifest.json").read_text())["built_at"]
    r = Retriever.open(private_index, rebuild="never", embedder=embedder)
    assert r.index.manifest["built_at"] == before
    assert not r.rebuilt
    assert r.search("does it hurt").topics[0] == "pain"


def test_changed_passage_makes_the_index_stale(private_index: Settings, embedder) -> None:
    path = private_index.passages_dir / "pain" / "pain-01.yml"
    path.write_text(path.read_text().replace("questions:\n", "questions:\n  - does the jab sting much\n", 1))
    with pytest.raises(index_mod.IndexStale):
        Retriever.open(private_index, rebuild="never", embedder=embedder)


def test_stale_index_is_rebuilt_in_auto_mode(private_index: Settings, embedder, caplog) -> None:
    path = private_index.passages_dir / "pain" / "pain-01.yml"
    path.write_text(path.read_text().replace("questions:\n", "questions:\n  - does the jab sting much\n", 1))
    r = Retriever.open(private_index, rebuild="auto", embedder=embedder)
    assert "Rebuilding" in caplog.text
    assert r.rebuilt
    assert r.index.manifest["fingerprint"] == sources_from(private_index).fingerprint()
    assert "does the jab sting much" in r.index.passages["pain-01"].questions


def test_corrupted_file_is_detected(private_index: Settings, embedder) -> None:
    target = private_index.index_dir / "dense.faiss"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(index_mod.IndexCorrupt):
        Retriever.open(private_index, rebuild="never", embedder=embedder)


def test_truncated_manifest_is_detected(private_index: Settings, embedder) -> None:
    (private_index.index_dir / "manifest.json").write_text('{"fingerprint": ')
    with pytest.raises(index_mod.IndexCorrupt):
        Retriever.open(private_index, rebuild="never", embedder=embedder)


def test_missing_index_is_reported(tmp_path: Path, embedder, index_settings: Settings) -> None:
    settings = Settings(index_dir=tmp_path / "nowhere")
    with pytest.raises(index_mod.IndexMissing):
        Retriever.open(settings, rebuild="never", embedder=embedder)
