"""Retrieval-only scoring of an evaluation file (the ../shared/eval format): the answer
and out-of-scope turns that stand on their own (each conversation's first turn)."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from knowledge.results import Result


class Searcher(Protocol):
    def search(self, text: str, k: int = 5) -> Result: ...


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    topics: tuple[str, ...]  # empty for out-of-scope


@dataclass(frozen=True)
class Outcome:
    case: Case
    result: Result
    ms: float

    @property
    def rank(self) -> int | None:
        for i, topic in enumerate(self.result.topics):
            if topic in self.case.topics:
                return i + 1
        return None


@dataclass
class Report:
    answer_cases: int = 0
    top1: float = 0.0
    top3: float = 0.0
    mrr: float = 0.0
    answered_correct: float = 0.0
    """decision == answer and the top topic is an accepted one (what a patient would get)."""
    answered_wrong: int = 0
    abstained: int = 0
    oos_cases: int = 0
    oos_abstention: float = 0.0
    skipped_followups: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    failures: list[Outcome] = field(default_factory=list)


def load_cases(path: Path) -> tuple[list[Case], int]:
    cases, skipped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        conv = json.loads(line)
        for n, turn in enumerate(conv["turns"]):
            expect = turn["expect"]
            if expect.get("kind") not in ("answer", "out_of_scope"):
                continue
            if n > 0:
                skipped += 1  # depends on the conversation's context: the dialogue's job
                continue
            topics = tuple(expect.get("topics", ())) if expect["kind"] == "answer" else ()
            cases.append(Case(id=f"{conv['id']}#{n}", text=turn["text"], topics=topics))
    return cases, skipped


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def evaluate(searcher: Searcher, cases: list[Case], skipped: int = 0) -> Report:
    outcomes = []
    for case in cases:
        t0 = time.perf_counter()
        result = searcher.search(case.text)
        outcomes.append(Outcome(case, result, (time.perf_counter() - t0) * 1000))
    report = Report(skipped_followups=skipped)
    answer = [o for o in outcomes if o.case.topics]
    oos = [o for o in outcomes if not o.case.topics]
    if answer:
        n = len(answer)
        report.answer_cases = n
        report.top1 = sum(o.rank == 1 for o in answer) / n
        report.top3 = sum(o.rank is not None and o.rank <= 3 for o in answer) / n
        report.mrr = sum(1 / o.rank for o in answer if o.rank) / n
        report.answered_correct = sum(o.result.decision == "answer" and o.rank == 1 for o in answer) / n
        report.answered_wrong = sum(o.result.decision == "answer" and o.rank != 1 for o in answer)
        report.abstained = sum(o.result.decision != "answer" for o in answer)
        report.failures += [o for o in answer if not (o.result.decision == "answer" and o.rank == 1)]
    if oos:
        report.oos_cases = len(oos)
        report.oos_abstention = sum(o.result.decision != "answer" for o in oos) / len(oos)
        report.failures += [o for o in oos if o.result.decision == "answer"]
    ms = [o.ms for o in outcomes]
    report.p50_ms = statistics.median(ms) if ms else 0.0
    report.p95_ms = percentile(ms, 0.95)
    return report
