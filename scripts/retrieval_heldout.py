"""Retrieval alone on the held-out patient messages (issue 13): which embedding model and calibration answer
patients' first messages best. Not part of `make bench` (a fine-tune takes minutes): the figures in
docs/benchmarks.md ("Retrieval on the held-out patient messages") were produced with it.

    # the index as `make train` builds it
    .venv/bin/python scripts/retrieval_heldout.py eval
    # a model fine-tuned on the passages and half the training messages (fold a) ...
    .venv/bin/python scripts/retrieval_heldout.py finetune var/exp/model-a --fold a
    # ... calibrated on the other half (fold b), in an index of its own
    .venv/bin/python scripts/retrieval_heldout.py eval --model var/exp/model-a --index var/exp/index-a --calibrate-on b

The held-out split is only read to report; nothing here is fitted on it."""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import Settings
from understanding.corpus import CORPUS, Message, load


def fold_of(message_id: str) -> str:
    return "a" if int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % 2 == 0 else "b"


def evaluate(settings: Settings) -> dict[str, dict[str, object]]:
    from knowledge.retriever import Retriever

    retriever = Retriever.open(settings, rebuild="auto")
    held = [m for m in load("heldout") if m.lang in ("en", "hinglish") and m.after is None]
    report: dict[str, dict[str, object]] = {}
    for lang in ("en", "hinglish"):
        questions = [m for m in held if m.route == "answer" and m.lang == lang]
        other = [m for m in held if m.route == "out_of_scope" and m.lang == lang]
        top1 = right = 0
        for m in questions:
            result = retriever.search(m.text)
            first = result.hits[0].topic if result.hits else None
            top1 += first in m.topics
            right += result.decision == "answer" and first in m.topics
        answered = sum(retriever.search(m.text).decision == "answer" for m in other)
        report[lang] = {
            "questions": len(questions),
            "top1": round(top1 / len(questions), 3),
            "answered_correctly": round(right / len(questions), 3),
            "out_of_scope_answered": f"{answered}/{len(other)}",
        }
    return report


def training_messages(fold: str | None) -> list[Message]:
    return [
        m
        for m in load("train")
        if m.route == "answer" and m.topics and m.lang != "hi" and m.after is None and fold in (None, fold_of(m.id))
    ]


def finetune_with_messages(out: Path, fold: str | None) -> None:
    import knowledge.finetune as ft
    from knowledge.embedder import default_model_path
    from knowledge.passages import load_passages

    passages = load_passages(Settings().passages_dir)
    by_topic: dict[str, list] = {}
    for p in passages:
        by_topic.setdefault(p.topic, []).append(p)
    rng = random.Random(7)
    extra = [
        (m.topics[0], m.text[:1000], rng.choice(by_topic[m.topics[0]]).title)
        for m in training_messages(fold)
        if m.topics[0] in by_topic
    ]
    base_pairs = ft.training_pairs
    ft.training_pairs = lambda ps: base_pairs(ps) + extra  # type: ignore[assignment]
    ft.finetune(default_model_path(), passages, out)


def fold_folder(fold: str) -> Path:
    """The training split's messages of one fold, as a folder of JSON lines (calibration probes)."""
    folder = Path(tempfile.mkdtemp(prefix=f"corpus-{fold}-"))
    for path in sorted((CORPUS / "train").glob("*.jsonl")):
        kept = [
            line for line in path.read_text(encoding="utf-8").splitlines() if fold_of(json.loads(line)["id"]) == fold
        ]
        (folder / path.name).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval")
    ev.add_argument("--model", type=Path)
    ev.add_argument("--index", type=Path)
    ev.add_argument("--calibrate-on", choices=["all", "a", "b", "none"], default="all")
    tune = sub.add_parser("finetune")
    tune.add_argument("out", type=Path)
    tune.add_argument("--fold", choices=["a", "b"])
    args = parser.parse_args()
    if args.command == "finetune":
        finetune_with_messages(args.out, args.fold)
        return
    overrides: dict[str, object] = {}
    if args.model:
        overrides["model_path"] = args.model
    if args.index:
        overrides["index_dir"] = args.index
    if args.calibrate_on == "none":
        overrides["calibration_messages_dir"] = None
    elif args.calibrate_on in ("a", "b"):
        overrides["calibration_messages_dir"] = fold_folder(args.calibrate_on)
    print(json.dumps(evaluate(Settings().model_copy(update=overrides)), indent=1))


if __name__ == "__main__":
    main()
