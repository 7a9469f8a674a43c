"""python -m knowledge {build,search,lint,eval}"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT, get_settings


def _lint(args: argparse.Namespace) -> int:
    from knowledge import translations
    from knowledge.lint import lint

    settings = get_settings()
    seeds = Path(args.seeds) if args.seeds else PROJECT_ROOT.parent / "shared" / "seeds"
    translated = settings.passages_dir.parent / "translations"  # translations live beside the passages
    issues = lint(settings.passages_dir, settings.topics_file, seeds if seeds.is_dir() else None, translated)
    errors = [i for i in issues if i.level == "error"]
    for issue in issues:
        if issue.level == "error" or args.warnings:
            print(issue)
    warnings = len(issues) - len(errors)
    for lang in translations.languages(translated):
        pending, total = translations.pending_review(lang, translated)
        print(f"translations/{lang}: {total} passage translation(s), {pending} awaiting clinical review")
    print(f"lint: {len(errors)} error(s), {warnings} warning(s)" + ("" if args.warnings else " (--warnings to list)"))
    return 1 if errors else 0


def _build(args: argparse.Namespace) -> int:
    from knowledge.retriever import Retriever

    t0 = time.perf_counter()
    retriever = Retriever.open(rebuild="auto" if args.if_stale else "always")
    if not retriever.rebuilt:
        print(f"index is up to date ({get_settings().index_dir})")
        return 0
    m = retriever.index.manifest
    print(
        f"built {m['passages']} passages / {m['documents']} documents into {get_settings().index_dir} "
        f"in {time.perf_counter() - t0:.1f}s (calibration: {m['calibration_set']})"
    )
    return 0


def _search(args: argparse.Namespace) -> int:
    from knowledge.retriever import Retriever

    retriever = Retriever.open(rebuild="never" if args.no_rebuild else "auto")
    result = retriever.search(args.text, k=args.k)
    print(
        f"decision: {result.decision}  confidence: {result.confidence:.3f}  "
        f"out-of-scope score: {result.out_of_scope_score:.3f}  {'; '.join(result.reasons)}"
    )
    if result.candidates:
        print(f"candidates: {', '.join(result.candidates)}")
    for n, hit in enumerate(result.hits, 1):
        print(
            f"{n}. {hit.score:.3f} (dense {hit.dense:.3f}, lexical {hit.lexical:.3f})  {hit.passage_id:<26} {hit.title}"
        )
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from knowledge.embedder import default_model_path
    from knowledge.finetune import finetune
    from knowledge.passages import load_passages

    settings = get_settings()
    out = Path(args.out)
    if out.exists():
        print(f"error: {out} already exists", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    finetune(settings.model_path or default_model_path(), load_passages(settings.passages_dir), out)
    print(
        f"fine-tuned model written to {out} in {time.perf_counter() - t0:.0f}s; "
        f"use it with MESO_MODEL_PATH={out} (then `python -m knowledge build`)"
    )
    return 0


def _ask(args: argparse.Namespace) -> int:
    """A small interactive console over the knowledge base, for curators and first runs."""
    from core.clinic import load_clinic
    from knowledge.render import DISCLAIMER, answer_text
    from knowledge.retriever import Retriever

    retriever = Retriever.open()
    clinic = load_clinic(get_settings().clinic_file)
    print(f"{clinic.name}: knowledge base console. Type a question (empty line or Ctrl-D to quit).")
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text.strip():
            return 0
        result = retriever.search(text)
        if result.decision == "answer" and result.top:
            passage = retriever.index.passages[result.top.passage_id]
            print(answer_text(passage, clinic))
            print(f"  ({DISCLAIMER})")
            print(f"  [{passage.id}, confidence {result.confidence:.2f}, sources: {', '.join(passage.sources)}]")
        elif result.decision == "unsure":
            print(f"Did you mean: {', '.join(result.candidates)}?  [confidence {result.confidence:.2f}]")
        else:
            print("I can only answer questions about mesotherapy at this clinic.")


def _eval(args: argparse.Namespace) -> int:
    from knowledge.evaluate import evaluate, load_cases
    from knowledge.retriever import Retriever

    cases, skipped = load_cases(Path(args.file))
    report = evaluate(Retriever.open(), cases, skipped)
    print(
        f"answer cases: {report.answer_cases}  top1={report.top1:.3f} top3={report.top3:.3f} "
        f"mrr={report.mrr:.3f} answered_correct={report.answered_correct:.3f} "
        f"answered_wrong={report.answered_wrong} abstained={report.abstained}"
    )
    print(f"out-of-scope cases: {report.oos_cases}  abstention={report.oos_abstention:.3f}")
    print(
        f"skipped context-dependent follow-ups: {report.skipped_followups}  "
        f"latency p50={report.p50_ms:.1f}ms p95={report.p95_ms:.1f}ms"
    )
    if args.verbose:
        for o in report.failures:
            r = o.result
            print(
                f"MISS {o.case.id} {o.case.text!r} want={list(o.case.topics) or 'out_of_scope'} "
                f"got={r.decision}:{r.topics[:3]} conf={r.confidence:.2f} oos={r.out_of_scope_score:.2f}"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="build the search index from the passages")
    p.add_argument("--if-stale", action="store_true", help="only when missing, stale or corrupted")
    p.set_defaults(func=_build)
    p = sub.add_parser("search", help="search the knowledge base and show the decision")
    p.add_argument("text")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--no-rebuild", action="store_true", help="fail instead of rebuilding a stale index")
    p.set_defaults(func=_search)
    p = sub.add_parser("finetune", help="domain-adapt the embedding model on the question variants")
    p.add_argument("--out", default="var/models/minilm-meso")
    p.set_defaults(func=_finetune)
    p = sub.add_parser("ask", help="interactive console: ask questions, read the answers")
    p.set_defaults(func=_ask)
    p = sub.add_parser("lint", help="check the passages")
    p.add_argument("--seeds", help="folder of seed articles to check sources against (default ../shared/seeds)")
    p.add_argument("--warnings", action="store_true", help="list warnings too")
    p.set_defaults(func=_lint)
    p = sub.add_parser("eval", help="retrieval-only scoring of an evaluation file")
    p.add_argument("file")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=_eval)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("knowledge").setLevel(logging.INFO)
    try:
        return int(args.func(args))
    except Exception as exc:  # a clear message, not a stack trace, for known failures
        from knowledge.index import IndexUnusable
        from knowledge.passages import PassageError

        if isinstance(exc, (IndexUnusable, PassageError, FileNotFoundError)):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
