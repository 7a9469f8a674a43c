"""Domain adaptation: fine-tunes the bi-encoder on our own question variants, offline.

Each training pair is (a patient-style question variant, another variant or the title of the same passage),
with the other topics' passages in the same batch as negatives (multiple-negatives ranking
loss). Every fifth variant of each passage is held out of training so the confidence can
be calibrated on questions the model has not seen (see index.build)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from knowledge.passages import Passage

HOLDOUT_EVERY = 5
EPOCHS = 3
LEARNING_RATE = 3e-5
SEED = 13
FINETUNE_VERSION = 1


MARKER = "meso_finetune.json"


def is_finetuned(model_path: Path) -> bool:
    return (model_path / MARKER).is_file()


def is_held_out(position: int) -> bool:
    """Whether the variant at this position in a passage's list is kept out of training."""
    return position % HOLDOUT_EVERY == HOLDOUT_EVERY - 1


def training_pairs(passages: list[Passage]) -> list[tuple[str, str, str]]:
    """(topic, question variant, a sibling text) for every variant that is not held out.
    The sibling is the next training variant of the same passage (its title for the last),
    short texts that keep training fast on a CPU."""
    pairs = []
    for p in passages:
        kept = [q for i, q in enumerate(p.questions) if not is_held_out(i)]
        for n, q in enumerate(kept):
            sibling = kept[n + 1] if n + 1 < len(kept) else p.title
            pairs.append((p.topic, q, sibling))
    return pairs


def _batches(pairs: list[tuple[str, str, str]], rng: random.Random) -> list[list[tuple[str, str]]]:
    """Batches holding at most one pair per topic, so no in-batch negative is a same-topic passage."""
    by_topic: dict[str, list[tuple[str, str]]] = {}
    for topic, q, doc in pairs:
        by_topic.setdefault(topic, []).append((q, doc))
    for items in by_topic.values():
        rng.shuffle(items)
    rounds = max(len(v) for v in by_topic.values())
    batches = []
    for r in range(rounds):
        batch = [items[r] for items in by_topic.values() if r < len(items)]
        if len(batch) >= 2:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def finetune(base_path: Path, passages: list[Passage], out_dir: Path, epochs: int = EPOCHS) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    model = SentenceTransformer(str(base_path), device="cpu")
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    pairs = training_pairs(passages)
    model.train()
    for _ in range(epochs):
        for batch in _batches(pairs, rng):
            questions = model.preprocess([q for q, _ in batch])
            docs = model.preprocess([d for _, d in batch])
            loss = loss_fn([questions, docs], torch.empty(0))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    model.save(str(tmp))
    (tmp / MARKER).write_text(
        json.dumps(
            {
                "version": FINETUNE_VERSION,
                "epochs": epochs,
                "learning_rate": LEARNING_RATE,
                "seed": SEED,
                "holdout_every": HOLDOUT_EVERY,
                "pairs": len(pairs),
            }
        )
    )
    tmp.rename(out_dir)
    return out_dir
