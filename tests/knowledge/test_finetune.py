"""Domain adaptation runs offline, writes a loadable model, and an index built on it is
calibrated only on the variants it did not train on."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from knowledge.embedder import Embedder, default_model_path
from knowledge.finetune import is_finetuned, training_pairs
from knowledge.passages import load_passages
from knowledge.retriever import Retriever

pytestmark = pytest.mark.slow


def test_finetuned_model_loads_and_serves_search(tmp_path: Path) -> None:
    from knowledge.finetune import finetune

    passages = load_passages(Settings().passages_dir)
    subset = [p for p in passages if p.topic in ("pain", "cost", "downtime")]
    out = finetune(default_model_path(), subset, tmp_path / "model", epochs=1)
    assert is_finetuned(out)
    assert not any(q == p.questions[4] for p in subset for _, q, _ in training_pairs(subset))

    settings = Settings(model_path=out, index_dir=tmp_path / "index")
    retriever = Retriever.open(settings, rebuild="always", embedder=Embedder(out))
    probes = retriever.index.manifest["calibration_set"]["probes"]  # type: ignore[index]
    all_variants = sum(len(p.questions) for p in passages)
    assert probes < all_variants / 2  # held-out variants and anchors only
    assert retriever.search("is the injection painful").topics[0] == "pain"
