#!/usr/bin/env python
"""Retrieval benchmark: BM25 alone, dense alone and the hybrid (and optionally the hybrid on a
domain-adapted model), each on the dev set and on held-out paraphrases, with query latency,
index load time and build time. Writes its section of the benchmark report.

    .venv/bin/python scripts/bench_retrieval.py --cases ../shared/eval/dev.jsonl \
        --report docs/benchmarks.md [--finetune] [--modes hybrid ...]

A quick check that it still runs (one index build): --modes hybrid --report /tmp/retrieval.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "knowledge"))

from core.settings import Settings  # noqa: E402
from knowledge import index as index_mod  # noqa: E402
from knowledge.embedder import Embedder, default_model_path  # noqa: E402
from knowledge.evaluate import Case, Report, evaluate, load_cases  # noqa: E402
from knowledge.retriever import Retriever, sources_from  # noqa: E402
from knowledge.scoring import Fusion  # noqa: E402
from scripts.benchlib import cpu_name, git_commit, write_section  # noqa: E402

MODES = {"BM25 alone": Fusion(0.0, 1.0), "dense alone": Fusion(1.0, 0.0), "hybrid": Fusion()}


@dataclass
class Row:
    name: str
    dev: Report
    held_out: Report
    load_ms: float
    build_s: float


def held_out_cases() -> list[Case]:
    """The paraphrases and out-of-scope questions written for tests/knowledge/test_retrieval.py:
    in neither the passages nor the dev set."""
    from test_retrieval import OUT_OF_SCOPE, PARAPHRASES

    cases = [Case(f"p-{t}-{i}", q, (t,)) for t, qs in PARAPHRASES.items() for i, q in enumerate(qs)]
    return cases + [Case(f"o-{i}", q, ()) for i, q in enumerate(OUT_OF_SCOPE)]


def run_mode(
    name: str, fusion: Fusion, embedder: Embedder, settings: Settings, dev: list[Case], held: list[Case]
) -> Row:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "index"
        sources = sources_from(settings)
        t0 = time.perf_counter()
        index_mod.build(sources, embedder, out, fusion=fusion)
        build_s = time.perf_counter() - t0
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            idx = index_mod.load(out, sources.fingerprint())
            loads.append((time.perf_counter() - t0) * 1000)
        retriever = Retriever(idx, embedder)
        for c in dev[:5]:
            retriever.search(c.text)  # warm-up
        return Row(name, evaluate(retriever, dev), evaluate(retriever, held), statistics.median(loads), build_s)


def table(rows: list[Row], attr: str) -> list[str]:
    out = [
        "| mode | top-1 | top-3 | MRR | answered correctly | answered wrongly | abstained (in scope) "
        "| out-of-scope abstention | query p50 | query p95 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rep: Report = getattr(r, attr)
        out.append(
            f"| {r.name} | {rep.top1:.3f} | {rep.top3:.3f} | {rep.mrr:.3f} | {rep.answered_correct:.3f} "
            f"| {rep.answered_wrong} | {rep.abstained} | {rep.oos_abstention:.3f} ({rep.oos_cases}) "
            f"| {rep.p50_ms:.1f} ms | {rep.p95_ms:.1f} ms |"
        )
    return out


def finetuned_row(settings: Settings, dev: list[Case], held: list[Case]) -> tuple[Row, float]:
    """Fine-tunes the model on the passages (in a temporary folder) and benches the hybrid on it."""
    from knowledge.finetune import finetune
    from knowledge.passages import load_passages

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        t0 = time.perf_counter()
        finetune(default_model_path(), load_passages(settings.passages_dir), model_dir)
        ft_s = time.perf_counter() - t0
        ft_settings = Settings(model_path=model_dir)
        return run_mode("hybrid, fine-tuned model", Fusion(), Embedder(model_dir), ft_settings, dev, held), ft_s


def print_rows(rows: list[Row]) -> None:
    for r in rows:
        print(
            f"{r.name:<26} dev top1={r.dev.top1:.3f} answered={r.dev.answered_correct:.3f} "
            f"oos={r.dev.oos_abstention:.3f} p50={r.dev.p50_ms:.1f}ms | held-out top1={r.held_out.top1:.3f} "
            f"answered={r.held_out.answered_correct:.3f} oos={r.held_out.oos_abstention:.3f}"
        )


def report(
    args: argparse.Namespace, rows: list[Row], dev: list[Case], skipped: int, model_load_s: float, ft_s: float | None
) -> str:
    lines = [
        "## Retrieval (knowledge base issue)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} at commit `{git_commit()}` on "
        f"{os.cpu_count()} cores ({cpu_name()}), Python {platform.python_version()}, with",
        "",
        "```",
        "make bench   # = .venv/bin/python scripts/bench_retrieval.py --cases ../shared/eval/dev.jsonl "
        "--report docs/benchmarks.md" + (" --finetune" if args.finetune else ""),
        "```",
        "",
        f"Each mode gets its own index and its own fitted calibration. {len(dev)} dev questions "
        f"(first turns; {skipped} context-dependent follow-ups left to the dialogue), "
        f"{sum(1 for c in dev if not c.topics)} of them out of scope. "
        "*top-1/top-3/MRR* rank topics whatever the decision; *answered correctly* is what a patient "
        "gets: the decision is `answer` and its topic is right. *Out-of-scope abstention*: share of "
        "out-of-scope questions not answered. Latency is one query, end to end (embedding, faiss, "
        "BM25, fusion, calibration), single process; every mode runs the same pipeline with one side "
        "weighted to zero, so BM25-alone latency still includes computing the embedding.",
        "",
        "### Dev set (`../shared/eval/dev.jsonl`)",
        "",
        *table(rows, "dev"),
        "",
        "### Held-out paraphrases (written for the tests; in neither the passages nor the dev set)",
        "",
        *table(rows, "held_out"),
        "",
        "### Load and build",
        "",
        "| mode | index load (median of 5) | index build (embedding, BM25, calibration) |",
        "|---|---|---|",
        *[f"| {r.name} | {r.load_ms:.0f} ms | {r.build_s:.1f} s |" for r in rows],
        "",
        f"Loading the embedding model itself (torch + MiniLM, once per process): {model_load_s:.1f} s.",
    ]
    hybrid = next((r for r in rows if r.name == "hybrid"), None)
    if hybrid is not None:
        lines += [
            "",
            "### Against the targets",
            "",
            f"- hybrid answered-correctly on dev: {hybrid.dev.answered_correct:.3f} (target top-1 >= 0.95; "
            f"ranking top-1 {hybrid.dev.top1:.3f})",
            f"- hybrid out-of-scope abstention on dev: {hybrid.dev.oos_abstention:.3f} (target >= 0.95)",
            f"- hybrid query p50: {hybrid.dev.p50_ms:.1f} ms (target <= 15 ms)",
            f"- index load: {hybrid.load_ms:.0f} ms (target < 1 s)",
        ]
    if ft_s is not None:
        lines += [
            "",
            f"Fine-tuning took {ft_s:.0f} s on this machine (`python -m knowledge finetune`). The default build "
            "uses the base model; the fine-tuned one is opt-in (`MESO_MODEL_PATH`), and its index is calibrated "
            "only on the variants it did not train on.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--cases", default=str(ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--finetune", action="store_true", help="also fine-tune the model and bench the hybrid on it")
    ap.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES), help="which modes (default: all)")
    args = ap.parse_args(argv)

    settings = Settings()
    t0 = time.perf_counter()
    embedder = Embedder(settings.model_path or default_model_path())
    model_load_s = time.perf_counter() - t0
    dev, skipped = load_cases(Path(args.cases))
    held = held_out_cases()
    rows = [run_mode(name, MODES[name], embedder, settings, dev, held) for name in args.modes]
    ft_s = None
    if args.finetune:
        row, ft_s = finetuned_row(settings, dev, held)
        rows.append(row)
    print_rows(rows)
    write_section(Path(args.report), "retrieval", report(args, rows, dev, skipped, model_load_s, ft_s))
    print(f"report written to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
