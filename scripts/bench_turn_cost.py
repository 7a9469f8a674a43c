#!/usr/bin/env python
"""Where Rasa's CPU goes in a turn, at turn 1 against turn 50 of one conversation (issue 15). Writes its section
of the benchmark report (`make bench-turn-cost`).

    .venv/bin/python scripts/bench_turn_cost.py [--report docs/benchmarks.md] [--turns 60] [--conversations 3]

1. The real assistant as `make run` starts it (scripts/run.sh, SQLite, on free ports); a few conversations of
   `--turns` general questions each through the REST channel, one message after the other. Each turn is split
   with the tracker's own event timestamps (as scripts/bench_turns.py does): until the user event (request,
   tracker read, NLU), until the action event (policies, the action server call), and the rest (action_listen,
   tracker save, response). Medians over turns 1-10 and over turns 51-60.
2. The Rasa environment's probe (scripts/turn_cost_probe.py) on the first conversation as stored: each part of
   a turn timed alone on the tracker as it was at turn 1 and at turn 50.

Needs .venv, .venv-rasa and a trained model (`make train`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_turns import (  # noqa: E402
    MODEL,
    RASA_PY,
    Bench,
    Breakdown,
    Project,
    Sample,
    missing_prerequisite,
    post_turn,
    start_real,
    timeline,
)
from scripts.benchlib import (  # noqa: E402
    CpuByServer,
    cpu_name,
    git_commit,
    interrupt_on_stop_signals,
    uninterrupted,
    write_section,
)

SECTION = "turn-cost"
QUESTIONS = (
    "What is mesotherapy?",
    "Does it hurt?",
    "How many sessions will I need?",
    "Is there any downtime after a session?",
    "How much does mesotherapy cost?",
    "How long do the results last?",
    "What are the side effects?",
    "How is it different from Botox?",
    "Can it help with hair loss?",
    "Is it better than microneedling?",
)
EARLY, LATE = range(0, 10), range(50, 60)
"""Turn indexes (0 = the first message) of the two groups compared."""
PROBE_TURNS = (1, 50)
SERVERS = {"Rasa": "bot.rasa_run", "action server": "actions.server"}
"""The servers whose CPU per turn is reported, by a word of their command line."""
NEW_TEXT_TURNS = 30
"""Turns of a last conversation whose every message is new to the servers (nothing remembered)."""


def say(msg: str) -> None:
    print(f"[turn-cost] {msg}", flush=True)


@dataclass
class Measured:
    samples: list[Sample] = field(default_factory=list)
    split: Breakdown = field(default_factory=Breakdown)
    probe: dict[str, object] = field(default_factory=dict)
    cpu_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    """Pass ("asked again", "new") -> server -> CPU ms per turn."""


def new_texts(n: int, run_id: str) -> list[str]:
    """`n` questions no server has seen: the benchmark's questions, each with a number of its own."""
    return [f"{QUESTIONS[i % len(QUESTIONS)]} (question {run_id}-{i})" for i in range(n)]


def median_of(values: Sequence[float], turns: Sequence[int], group: range) -> float:
    chosen = [v for v, t in zip(values, turns, strict=True) if t in group]
    return statistics.median(chosen) if chosen else float("nan")


def report(m: Measured, command: str, turns: int, conversations: int, seconds: float) -> str:
    def ms(x: float) -> str:
        return "—" if x != x else f"{x:.1f} ms"

    samples_turns = [s.turn for s in m.samples]
    totals = [s.ms for s in m.samples]
    split = m.split
    stages = (
        ("whole turn, as the patient waits", totals, samples_turns),
        ("request in, tracker read, NLU (until the user event)", split.before_user, split.turn),
        ("policies, the action server call (until the action event)", split.to_action, split.turn),
        ("`action_listen`, tracker save, response", split.after_action, split.turn),
    )
    rows = [
        f"| {name} | {ms(median_of(values, idx, EARLY))} | {ms(median_of(values, idx, LATE))} |"
        for name, values, idx in stages
    ]
    probe_turns: dict[str, dict[str, object]] = m.probe.get("turns", {})  # type: ignore[assignment]
    first, later = (probe_turns.get(str(k), {}) for k in PROBE_TURNS)
    parts: dict[str, float] = first.get("parts_ms", {})  # type: ignore[assignment]
    later_parts: dict[str, float] = later.get("parts_ms", {})  # type: ignore[assignment]
    part_rows = [
        f"| {name} | {ms(value)} | {ms(later_parts.get(name, float('nan')))} |" for name, value in parts.items()
    ]
    again, new = m.cpu_ms.get("asked again", {}), m.cpu_ms.get("new", {})
    cpu_rows = [
        f"| {name} | {ms(again.get(name, float('nan')))} | {ms(new.get(name, float('nan')))} |" for name in SERVERS
    ]
    cpu_rows.append(f"| both | {ms(sum(again.values()))} | {ms(sum(new.values()))} |")
    return "\n".join(
        [
            "## Where Rasa's CPU goes in a turn: turn 1 against turn 50 (issue 15)",
            "",
            f"`{command}` at {git_commit()} ({time.strftime('%Y-%m-%d')}; {seconds / 60:.0f} min): {cpu_name()}. "
            f"The real assistant as `make run` starts it (SQLite); {conversations} conversations of {turns} general "
            "questions each through the REST channel, one message after the other "
            "(MESO_CHANNEL_RATE_PER_SENDER raised for the run: the per-conversation limit is 30 a minute).",
            "",
            "### A turn split by the tracker's event timestamps (medians)",
            "",
            "| stage | turns 1-10 | turns 51-60 |",
            "|---|---|---|",
            *rows,
            "",
            "### Each part of a turn timed alone (scripts/turn_cost_probe.py, medians)",
            "",
            f"On the first conversation as stored: at turn 1 the tracker holds {first.get('events', '?')} events, "
            f"at turn 50 {later.get('events', '?')}; the action call's body (tracker with every event) is "
            f"{first.get('body_bytes', 0):,} bytes at turn 1 and {later.get('body_bytes', 0):,} at turn 50; the "
            f"domain would add {first.get('domain_bytes', 0):,} bytes.",
            "",
            "| part | turn 1 | turn 50 |",
            "|---|---|---|",
            *part_rows,
            "",
            "### CPU per turn, by server",
            "",
            f"User and system CPU of each server over the {conversations} conversations above (their {len(QUESTIONS)} "
            "questions come back again and again, so the action server finds each message's multilingual-e5 "
            f"embedding remembered), and over {NEW_TEXT_TURNS} turns of one more conversation whose every message is "
            "new, as a patient's are (the embedding computed). One turn at a time: no waiting for a core.",
            "",
            "| server | questions asked again | new questions |",
            "|---|---|---|",
            *cpu_rows,
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--turns", type=int, default=60)
    ap.add_argument("--conversations", type=int, default=3)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "scripts/bench_turn_cost.py", *(sys.argv[1:] if argv is None else argv)])
    if args.turns < max(LATE) + 1:
        print(f"[turn-cost] error: --turns must be at least {max(LATE) + 1}", file=sys.stderr)
        return 2
    problem = missing_prerequisite()
    if problem:
        print(f"[turn-cost] error: {problem}", file=sys.stderr)
        return 1
    # one patient writing 60 messages without pause: past the per-conversation limit (30 a minute) otherwise
    os.environ["MESO_CHANNEL_RATE_PER_SENDER"] = "10000"
    interrupt_on_stop_signals()
    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench_turn_cost_"))
    (tmp / "tmp").mkdir()
    bench = Bench(argparse.Namespace(), [], Project.load(), tmp)
    measured = Measured()
    try:
        start_real(bench)
        real = bench.real
        assert real is not None
        for i in range(5):
            post_turn(real, f"warmup-{i}", QUESTIONS[i])
        run_id = secrets.token_hex(3)
        senders = [f"turn-cost-{run_id}-{c}" for c in range(args.conversations)]
        cpu = CpuByServer(real.proc.pid, SERVERS)
        for c, sender in enumerate(senders):
            for k in range(args.turns):
                elapsed, t_send, t_recv, ok, kind = post_turn(real, sender, QUESTIONS[(k + c) % len(QUESTIONS)])
                measured.samples.append(Sample("real", 0, str(c), k, sender, elapsed, t_send, t_recv, ok, kind))
            say(f"conversation {c + 1}: {args.turns} turns")
        measured.cpu_ms["asked again"] = {
            name: 1000 * sec / (args.turns * args.conversations) for name, sec in cpu.seconds().items()
        }
        cpu = CpuByServer(real.proc.pid, SERVERS)
        for text in new_texts(NEW_TEXT_TURNS, run_id):
            post_turn(real, f"turn-cost-{run_id}-new", text)
        measured.cpu_ms["new"] = {name: 1000 * sec / NEW_TEXT_TURNS for name, sec in cpu.seconds().items()}
        say(f"CPU per turn: {measured.cpu_ms}")
        failed = [s for s in measured.samples if not s.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} turns failed (first: turn {failed[0].turn} of {failed[0].sender})")
        timeline(real, measured.samples, measured.split)
        bench.procs.stop(real.proc)
        say("probing each part of a turn in the Rasa environment ...")
        probe = subprocess.run(
            [str(RASA_PY), str(ROOT / "scripts" / "turn_cost_probe.py"), "--db", str(tmp / "run" / "tracker.db"),
             "--sender", senders[0], "--model", str(MODEL), "--turns", ",".join(map(str, PROBE_TURNS))],
            cwd=ROOT, env=bench.project_env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        if probe.returncode != 0:
            raise RuntimeError(f"the probe failed:\n{probe.stderr[-3000:]}")
        measured.probe = json.loads(probe.stdout.strip().splitlines()[-1])
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        with uninterrupted():
            bench.procs.stop_all()
            shutil.rmtree(tmp, ignore_errors=True)
    section = report(measured, command, args.turns, args.conversations, time.monotonic() - t_all)
    write_section(Path(args.report), SECTION, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
