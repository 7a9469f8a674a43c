#!/usr/bin/env python
"""Cluster capacity benchmark: how many patients the production topology (`make run-cluster`, scripts/cluster/)
serves on this machine with a turn p95 under 1 s, for 1, 2 and 4 Rasa processes, against a bare Rasa bot
measured in the same run. Writes its section of the benchmark report (`make bench-cluster`).

    .venv/bin/python scripts/bench_cluster.py [--processes 1,2,4] [--quick] [--report docs/benchmarks.md]
        [--think-time 10] [--patients 10,25,50,...] [--step-seconds 90]

Needs .venv-load (Locust: `scripts/setup-env.sh load`), HAProxy (`scripts/setup-env.sh haproxy`), a trained model
and its generated NLU data (`make train`), and the local PostgreSQL and Redis; `make bench-cluster` sees to the
first three.

For each number of Rasa processes the cluster is started as `make run-cluster` starts it (its default action
servers), on free ports, a throwaway PostgreSQL database (dropped at the end), Redis database 8 and a private
console database, with a clinician account for the console's users (`python -m console create-user`). Every
simulated patient comes from 127.0.0.1, so the channels' per-address limit is raised
(MESO_CHANNEL_RATE_PER_ADDRESS) for the run; nothing else differs from `make run-cluster`.
The load is scripts/load/locustfile.py, run headless with --csv in steps of more and more patients (each ramped
up, then measured alone: Locust's --reset-stats), until the p95 of patient turns reaches 1 s.
Capacity: the step with the most patients whose turn p95 was under 1 s with no failed request.

The bare bot: a minimal Rasa project generated in a temporary folder (scripts/bench_turns.py's: the same NLU
pipeline and data as the real project, one rule per intent answering with a fixed utter_ response, no action
server, in-memory tracker store), trained once and cached under var/bench/bare-rasa/ (retrained when its inputs
change), served by .venv-rasa/bin/rasa on another port and loaded by the same locustfile (REST only, --bare).

A smoke test of the whole path (two short steps per target; about 3 minutes with one Rasa process once the bare
bot is cached): --quick --processes 1 --report /tmp/cluster.md
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import math
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchlib import (  # noqa: E402
    CpuByServer,
    LoadMeter,
    Processes,
    cpu_name,
    free_port,
    git_commit,
    interrupt_on_stop_signals,
    tail,
    uninterrupted,
    url_answers,
    wait_until,
    write_section,
)

PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
LOCUST = ROOT / ".venv-load" / "bin" / "locust"
LOCUSTFILE = ROOT / "scripts" / "load" / "locustfile.py"
MODEL = ROOT / "var" / "rasa" / "models" / "meso.tar.gz"
GENERATED_DATA = ROOT / "var" / "rasa" / "data"
BARE_CACHE = ROOT / "var" / "bench" / "bare-rasa"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c"]
REDIS_DB = "8"
"""A Redis database of its own (the end-to-end tests use 3 and 7)."""

SECTION = "cluster"
TURN = "patient turn"
"""The locustfile's request name for every patient message (REST and widget)."""
P95_LIMIT_MS = 1000.0
STOP_FAILURE_SHARE = 0.05
"""A step where more than this share of requests failed ends the ladder, as a p95 over the limit does."""
REFERENCE_PATIENTS = 100
STOP_TIMEOUT_S = 30
"""At a step's end Locust lets every user finish what it is doing (a turn in flight is counted, not dropped)."""
STAFF_USERS = 2
STAFF = "bench-clinician"
READY_SECONDS = 900.0
"""The cluster loads the model once per Rasa process, one after the other (minutes on a busy machine)."""
WARM_UP_TURNS = 3
"""Turns per Rasa process before the first step: a process's first turns are slower."""
BARE = "bare Rasa bot"
CLUSTER_SERVERS = {"Rasa": "-m bot.rasa_run", "action servers": "-m actions.server", "console": "-m console"}
BARE_SERVERS = {"Rasa": "rasa run --model"}
"""Whose CPU each step reports (name -> words of the command line), among the launcher's processes."""


def say(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# --- the plan and what a step measured (pure) -------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    patients: tuple[int, ...]
    """The ladder: patients per step, in order."""
    ramp_s: float
    """Seconds to start a step's patients (spawn rate = patients / ramp)."""
    steady_s: float
    """Seconds measured once every patient has started."""
    think_s: float = 10.0


FULL = Plan(patients=(10, 25, 50, 100, 150, 200, 300, 400, 600, 800, 1000, 1500, 2000), ramp_s=20.0, steady_s=90.0)
QUICK = Plan(patients=(10, REFERENCE_PATIENTS), ramp_s=4.0, steady_s=12.0)


@dataclass(frozen=True)
class Step:
    """One step of the ladder, from Locust's CSV files."""

    patients: int
    turns: int
    turns_per_s: float
    p50_ms: float
    p95_ms: float
    requests: int
    """Every request of the step (turns, widget polls and sessions, staff calls)."""
    failures: int
    reasons: tuple[str, ...] = ()
    """The failures' reasons with their counts, most frequent first."""
    generator_cores: float = float("nan")
    """CPU the load generator (Locust) used during the step, in cores."""
    server_cores: tuple[tuple[str, float], ...] = ()
    """CPU each server used during the step, in cores (CLUSTER_SERVERS or BARE_SERVERS)."""
    machine_cores: float = float("nan")
    """CPU the whole machine used during the step (every process, the load generator included), in cores."""

    def cpu_ms_per_turn(self, cores: float) -> float:
        return 1000 * cores / self.turns_per_s if self.turns_per_s > 0 else float("nan")

    @property
    def passed(self) -> bool:
        return self.turns > 0 and self.failures == 0 and self.p95_ms < P95_LIMIT_MS

    @property
    def saturated(self) -> bool:
        """Beyond this step there is nothing to learn: p95 at the limit, or many failures."""
        return not self.turns or self.p95_ms >= P95_LIMIT_MS or self.failures > STOP_FAILURE_SHARE * self.requests


def capacity(steps: Sequence[Step]) -> Step | None:
    """The step with the most patients that passed (turn p95 < 1 s, no failure); None when none did."""
    passed = [s for s in steps if s.passed]
    return max(passed, key=lambda s: s.patients) if passed else None


def reference(steps: Sequence[Step]) -> Step | None:
    return next((s for s in steps if s.patients == REFERENCE_PATIENTS), None)


def _number(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "", "N/A") else float("nan")
    except ValueError:
        return float("nan")


def read_step(prefix: Path, patients: int, generator_cores: float = float("nan")) -> Step:
    """A step's figures from Locust's `--csv PREFIX` files (PREFIX_stats.csv, PREFIX_failures.csv)."""
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    turn = next((r for r in rows if r["Name"] == TURN), None)
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    reasons: list[tuple[int, str]] = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                reasons.append((int(r["Occurrences"]), f"{r['Name']}: {r['Error']}"))
    reasons.sort(key=lambda x: (-x[0], x[1]))
    return Step(
        patients=patients,
        turns=int(turn["Request Count"]) if turn else 0,
        turns_per_s=_number(turn["Requests/s"]) if turn else 0.0,
        p50_ms=_number(turn["50%"]) if turn else float("nan"),
        p95_ms=_number(turn["95%"]) if turn else float("nan"),
        requests=int(total["Request Count"]) if total else 0,
        failures=int(total["Failure Count"]) if total else 0,
        reasons=tuple(f"{n} × {what}" for n, what in reasons),
        generator_cores=generator_cores,
    )


@dataclass
class Target:
    """What was loaded: the bare bot or the cluster with some Rasa processes, and its steps."""

    name: str
    processes: int
    action_servers: int = 0
    ready_s: float = float("nan")
    steps: list[Step] = field(default_factory=list)
    error: str = ""

    @property
    def bare(self) -> bool:
        return self.name == BARE

    @property
    def capacity(self) -> Step | None:
        return capacity(self.steps)

    @property
    def reached_limit(self) -> bool:
        """Some step of the ladder went beyond capacity (so the capacity is not just the ladder's top)."""
        return any(s.saturated for s in self.steps)


# --- the report (pure) ------------------------------------------------------------------------------


@dataclass
class Run:
    """One run of the benchmark: how it was called, the machine, what was measured."""

    command: str
    plan: Plan
    targets: list[Target]
    commit: str = ""
    date: str = ""
    cpu: str = ""
    cores: int = 0
    memory_gib: float = 0.0
    rasa: str = ""
    locust: str = ""
    seconds: float = 0.0
    quick: bool = False


def _ms(x: float) -> str:
    return "n/a" if x != x else f"{x:.0f}"


def _per_core(step: Step | None, cores: int) -> float:
    return step.turns_per_s / cores if step and cores else float("nan")


def capacity_cells(target: Target, cores: int, bare_per_core: float) -> list[str]:
    """Patients at p95 < 1 s, turns/s, p50 / p95 ms, turns/s per core, against the bare bot."""
    best = target.capacity
    if target.error and not target.steps:
        return ["not measured", "—", "—", "—", "—"]
    if best is None:
        first = min((s.patients for s in target.steps), default=0)
        return [f"under {first}", "—", "—", "—", "—"]
    patients = f"{best.patients}" if target.reached_limit else f"≥ {best.patients} (the ladder's top)"
    per_core = _per_core(best, cores)
    ratio = per_core / bare_per_core if bare_per_core == bare_per_core and bare_per_core > 0 else float("nan")
    return [
        patients,
        f"{best.turns_per_s:.1f}",
        f"{_ms(best.p50_ms)} / {_ms(best.p95_ms)}",
        f"{per_core:.2f}",
        "1 (itself)" if target.bare else ("n/a" if ratio != ratio else f"{ratio:.2f}×"),
    ]


def cpu_section(run: Run) -> list[str]:
    """CPU per turn by server at each target's capacity step (the heaviest step under 1 s)."""
    names = list(dict.fromkeys([*CLUSTER_SERVERS, *BARE_SERVERS]))
    rows = []
    for t in run.targets:
        best = t.capacity
        if best is None or not best.server_cores:
            continue
        cores = dict(best.server_cores)
        rest = best.machine_cores - sum(cores.values())
        cells = [_ms_1(best.cpu_ms_per_turn(cores[n])) if n in cores else "—" for n in names]
        label = BARE if t.bare else f"{t.processes} Rasa"
        rows.append(
            f"| {label} | {best.patients} | "
            + " | ".join([*cells, _ms_1(best.cpu_ms_per_turn(rest)), _ms_1(best.cpu_ms_per_turn(best.machine_cores))])
            + " |"
        )
    if not rows:
        return []
    return [
        "",
        "### CPU per turn, by server (at each target's capacity)",
        "",
        "Each server's CPU during the step (its processes' user and system time over the step, ramp-up included) "
        "over the step's turns per second, in ms; everything else is the rest of the machine's busy time "
        "(PostgreSQL, Redis, HAProxy, Locust, the system).",
        "",
        f"| target | patients | {' | '.join(names)} | everything else | whole machine |",
        "|---|---:|" + "---:|" * (len(names) + 2),
        *rows,
    ]


def _ms_1(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"


def report(run: Run) -> str:
    plan = run.plan
    bare = next((t for t in run.targets if t.bare), None)
    bare_per_core = _per_core(bare.capacity, run.cores) if bare else float("nan")
    lines = [
        "## Cluster capacity under load (issue 15)",
        "",
        f"`{run.command}` at {run.commit} ({run.date}; {run.seconds / 60:.0f} min"
        + (", **--quick: a smoke test, not a measurement**" if run.quick else "")
        + f"): {run.cpu}, {run.cores} cores, {run.memory_gib:.0f} GiB; Rasa {run.rasa}, Locust {run.locust} "
        "on the same machine, PostgreSQL and Redis local.",
        "",
        f"Patients think {plan.think_s:g} s on average between messages (uniform {plan.think_s / 2:g}-"
        f"{plan.think_s * 1.5:g} s) in conversations of 3-15 messages (scripts/load/locustfile.py): four in five on "
        "the REST channel, one in five in the web widget (which also asks for staff replies every 3 s); "
        f"{STAFF_USERS} clinicians keep the console's handoff queue open (every 5 s) and read transcripts; 3 % of "
        "conversations ask for a person, 1 % describe a warning sign. Every message but small talk is new to the "
        "servers, as a real patient's is (each question gets a number of its own), so no embedding is remembered "
        "from an earlier patient. Each step starts its patients in "
        f"{plan.ramp_s:g} s and is then measured for {plan.steady_s:g} s; the ladder "
        f"({', '.join(str(p) for p in plan.patients)} patients) stops at the first step whose turn p95 reaches 1 s. "
        "**Capacity**: the step with the most patients whose p95 of patient turns (REST and widget messages) "
        "was under 1 s with no failed request (an error status, a reply without text or metadata, or a warning "
        "sign without the urgent reply). Per core: turns/s at capacity over the machine's cores (every "
        "configuration had the whole machine, shared with the load generator); the bare bot is one Rasa process.",
        "",
        f"| Rasa processes | patients at p95 < 1 s | turns/s | p50 / p95 ms | turns/s per core | vs bare bot "
        f"| p95 ms, {REFERENCE_PATIENTS} patients thinking {plan.think_s:g} s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in run.targets:
        name = f"{BARE} (1 process, no action server, in-memory tracker)" if t.bare else f"{t.processes}"
        ref = reference(t.steps)
        ref_cell = (
            "n/a" if ref is None else _ms(ref.p95_ms) + ("" if ref.failures == 0 else f" ({ref.failures} failed)")
        )
        lines.append(f"| {name} | " + " | ".join([*capacity_cells(t, run.cores, bare_per_core), ref_cell]) + " |")
    servers = sorted({t.action_servers for t in run.targets if not t.bare and t.action_servers})
    if servers:
        lines += [
            "",
            f"The cluster ran {' or '.join(str(s) for s in servers)} action servers (its default), HAProxy and the "
            "staff console beside the Rasa processes.",
        ]
    lines += cpu_section(run)
    lines += [
        "",
        "### Steps",
        "",
        "| target | patients | turns/s | p50 ms | p95 ms | requests | failed | Locust (cores) |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for t in run.targets:
        label = BARE if t.bare else f"{t.processes} Rasa"
        for s in t.steps:
            mark = "" if s.passed else " ✗"
            lines.append(
                f"| {label} | {s.patients}{mark} | {s.turns_per_s:.1f} | {_ms(s.p50_ms)} | {_ms(s.p95_ms)} | "
                f"{s.requests} | {s.failures} | {s.generator_cores:.2f} |"
            )
    problems = [(t, s) for t in run.targets for s in t.steps if s.reasons]
    errors = [t for t in run.targets if t.error]
    if problems or errors:
        lines += ["", "Failures (✗ marks a step over the limit or with failures):", ""]
        for t, s in problems:
            lines.append(
                f"- {t.name if t.bare else f'{t.processes} Rasa'}, {s.patients} patients: {'; '.join(s.reasons[:5])}"
            )
        for t in errors:
            lines.append(f"- {t.name if t.bare else f'{t.processes} Rasa'}: {t.error}")
    lines += [
        "",
        "- Percentiles are Locust's, which keeps response times to 2 significant digits above 100 ms (1,040 ms "
        "counts as 1,000).",
        "- Every simulated patient comes from 127.0.0.1, so the run sets MESO_CHANNEL_RATE_PER_ADDRESS=100000; "
        "otherwise the per-address limit (300 requests a minute per Rasa process) refuses them.",
        "- Locust shares the machine's cores with the servers (its CPU is in the steps' table): on a bigger "
        "machine, or with the load generated elsewhere, the same servers serve more.",
    ]
    return "\n".join(lines)


# --- processes ----------------------------------------------------------------------------------------


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_block(size: int, taken: set[int]) -> int:
    """The first of `size` consecutive free ports, none of them in `taken`."""
    for _ in range(200):
        base = free_port()
        block = range(base, base + size)
        if base + size < 65535 and not taken.intersection(block) and all(_bindable(p) for p in block):
            taken.update(block)
            return base
    raise RuntimeError(f"no {size} consecutive free ports")


def post_json(url: str, body: dict[str, Any], timeout: float = 60.0) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def warm_up(host: str, turns: int) -> None:
    """A few turns before the first step (a process's first turns load what it loads lazily)."""
    for i in range(turns):
        with contextlib.suppress(OSError, ValueError):
            post_json(
                f"{host}/webhooks/rest/webhook",
                {"sender": f"warmup-{uuid.uuid4().hex[:8]}", "message": ["hi", "does it hurt?"][i % 2],
                 "metadata": {"consent": True}},
            )  # fmt: skip


@dataclass
class Bench:
    args: argparse.Namespace
    plan: Plan
    tmp: Path
    procs: Processes = field(default_factory=Processes)
    databases: list[str] = field(default_factory=list)
    launcher: int | None = None
    """The running cluster's launcher process (`python -m scripts.cluster`): every server is under it."""

    def clean_up(self, keep: bool, what: str = "logs") -> None:
        """Every process stopped, every database dropped, the temporary folder removed (or kept and named)."""
        self.procs.stop_all()
        for db in self.databases:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                psql(f"drop database if exists {db} with (force)")
        if keep:
            say(f"{what} kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def locust(
        self, label: str, host: str, patients: int, *, bare: bool, env: dict[str, str], launcher: int | None = None
    ) -> Step:
        """One step: Locust headless with --csv; the step's figures."""
        staff = 0 if bare else STAFF_USERS
        users = patients + staff
        spawn = max(1.0, patients / self.plan.ramp_s)
        run_time = math.ceil(users / spawn + self.plan.steady_s)
        prefix = self.tmp / f"{label}-{patients}"
        classes = ["RestPatient"] if bare else ["RestPatient", "WidgetPatient", "StaffUser"]
        cmd: list[str | Path] = [
            LOCUST, "-f", LOCUSTFILE, "--headless", "--host", host, "-u", str(users), "-r", f"{spawn:g}",
            "-t", f"{run_time}s", "--stop-timeout", str(STOP_TIMEOUT_S), "--reset-stats", "--csv", prefix,
            "--only-summary", "--loglevel", "WARNING",
            "--think-time", f"{self.plan.think_s:g}", "--staff-users", str(staff), *(["--bare"] if bare else []),
            *classes,
        ]  # fmt: skip
        log = Path(f"{prefix}.log")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        servers = None if launcher is None else CpuByServer(launcher, BARE_SERVERS if bare else CLUSTER_SERVERS)
        machine = LoadMeter()
        t0 = time.monotonic()
        proc = self.procs.start(cmd, log=log, cwd=ROOT, env=env, stop_signal=signal.SIGTERM)
        try:
            rc = proc.wait(timeout=run_time + STOP_TIMEOUT_S + 120)
        except subprocess.TimeoutExpired:
            self.procs.stop(proc)
            raise RuntimeError(
                f"Locust did not finish its {run_time} s step; last lines of {log}:\n{tail(log)}"
            ) from None
        self.procs.procs.remove(proc)
        wall = time.monotonic() - t0
        machine_cores = machine.machine()
        used = {} if servers is None else servers.seconds()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if not Path(f"{prefix}_stats.csv").exists():
            raise RuntimeError(f"Locust exited with {rc} and wrote no statistics; last lines of {log}:\n{tail(log)}")
        step = read_step(prefix, patients, cpu / max(wall, 1e-9))
        # the whole step's CPU (ramp-up included) against Locust's turns/s of its measured part: near enough at
        # a steady load, and the same for every target
        return replace(
            step,
            server_cores=tuple((name, sec / max(wall, 1e-9)) for name, sec in used.items()),
            machine_cores=machine_cores,
        )

    def ladder(self, target: Target, host: str, env: dict[str, str], launcher: int | None = None) -> None:
        """Steps of more and more patients until one is saturated; then the reference step if it was not run."""
        label = "bare" if target.bare else f"rasa{target.processes}"
        for patients in self.plan.patients:
            step = self.locust(label, host, patients, bare=target.bare, env=env, launcher=launcher)
            target.steps.append(step)
            say(
                f"  {patients} patients: {step.turns_per_s:.1f} turns/s, p50 {_ms(step.p50_ms)} ms, p95 "
                f"{_ms(step.p95_ms)} ms, {step.failures} of {step.requests} requests failed, Locust "
                f"{step.generator_cores:.2f} cores"
            )
            if step.saturated:
                break
        if reference(target.steps) is None:
            say(f"  {REFERENCE_PATIENTS} patients (the reference step)")
            target.steps.append(
                self.locust(label, host, REFERENCE_PATIENTS, bare=target.bare, env=env, launcher=launcher)
            )


# --- the bare bot ---------------------------------------------------------------------------------------


def bare_model(b: Bench) -> Path:
    """The bare bot's model: from var/bench/bare-rasa/ when its inputs are unchanged, else trained and cached."""
    from scripts.bench_turns import Project, write_bare_project

    folder = b.tmp / "bare"
    folder.mkdir()
    project = Project.load()
    write_bare_project(folder, project.config, project.intents, project.domain.get("session_config"))
    digest = hashlib.sha256((ROOT / "requirements" / "rasa.lock").read_bytes())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    cached = BARE_CACHE / f"bare-{digest.hexdigest()[:16]}.tar.gz"
    if cached.exists():
        say(f"bare bot: cached model {cached.relative_to(ROOT)}")
        return cached
    say("bare bot: training (once; cached under var/bench/bare-rasa/) ...")
    seconds = b.procs.run_timed(
        [RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
         "--out", "models", "--fixed-model-name", "bare", "--force"],
        log=b.tmp / "train-bare.log",
        cwd=folder,
        env={**os.environ, "RASA_CACHE_DIRECTORY": str(folder / "cache"), "TMPDIR": str(b.tmp)},
    )  # fmt: skip
    say(f"  trained in {seconds:.0f} s")
    BARE_CACHE.mkdir(parents=True, exist_ok=True)
    for old in BARE_CACHE.glob("bare-*.tar.gz"):
        old.unlink()
    shutil.copyfile(folder / "models" / "bare.tar.gz", cached)
    return cached


def measure_bare(b: Bench) -> Target:
    target = Target(BARE, 1)
    model = bare_model(b)
    port = free_port()
    say(f"bare bot: rasa run on :{port} (in-memory tracker store, no action server) ...")
    t0 = time.monotonic()
    log = b.tmp / "bare.log"
    proc = b.procs.start(
        [RASA, "run", "--model", model, "--credentials", "credentials.yml", "--port", str(port),
         "--interface", "127.0.0.1"],
        log=log,
        cwd=b.tmp / "bare",
        env={**os.environ, "TMPDIR": str(b.tmp)},
    )  # fmt: skip
    host = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: url_answers(f"{host}/webhooks/rest/"), timeout=READY_SECONDS, proc=proc, what="the bare bot")
        target.ready_s = time.monotonic() - t0
        say(f"  ready in {target.ready_s:.0f} s")
        warm_up(host, WARM_UP_TURNS)
        b.ladder(target, host, dict(os.environ), launcher=proc.pid)
    finally:
        b.procs.stop(proc)
    return target


# --- the cluster ------------------------------------------------------------------------------------------


def psql(sql: str) -> None:
    subprocess.run([*PSQL, sql], check=True, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def cluster(
    b: Bench, processes: int, action_servers: int, stores: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str], float]]:
    """The cluster as `make run-cluster` starts it, on free ports and throwaway stores; (public URL, its
    environment, seconds to ready). Stopped with Ctrl-C (SIGINT to its process group) and its database dropped.
    `stores` (MESO_TRACKER_DB_URL, MESO_LOCK_STORE_URL) puts it on other servers (scripts/bench_faults.py's)."""
    taken: set[int] = set()
    rasa_base, action_base = free_block(processes, taken), free_block(action_servers + 1, taken)
    public, console = free_block(1, taken), free_block(1, taken)
    db = f"meso_bench_cluster_{uuid.uuid4().hex[:8]}"
    run = b.tmp / f"cluster-{processes}"
    run.mkdir()
    env = {
        **os.environ,
        "MESO_ENV": "test",
        "MESO_RASA_PROCESSES": str(processes),
        "MESO_ACTION_SERVERS": str(action_servers),
        "MESO_PUBLIC_PORT": str(public),
        "MESO_RASA_PORT": str(rasa_base),
        "MESO_ACTION_PORT": str(action_base),
        "MESO_CONSOLE_PORT": str(console),
        "MESO_TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{db}",
        "MESO_LOCK_STORE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "MESO_CONSOLE_DB_URL": f"sqlite:///{run / 'console.db'}",
        "MESO_ALERTS_FILE": str(run / "alerts.jsonl"),
        "MESO_RASA_RUN_DIR": str(run / "rasa"),
        "MESO_CLUSTER_RUN_DIR": str(run / "cluster"),
        "MESO_RASA_TOKEN": secrets.token_urlsafe(32),
        "MESO_CHANNEL_RATE_PER_ADDRESS": "100000",
        **(stores or {}),
    }
    log = run / "cluster.log"
    if not stores:
        b.databases.append(db)  # the cluster creates it; dropped at the end whatever happens
    t0 = time.monotonic()
    proc = b.procs.start([PY, "-m", "scripts.cluster"], log=log, cwd=ROOT, env=env)
    try:
        try:
            wait_until(
                lambda: bool(re.search(r"\[cluster\]\S* ready in", log.read_text(errors="replace"))),
                timeout=READY_SECONDS,
                proc=proc,
                what=f"the cluster ({processes} Rasa processes)",
            )
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; last lines of {log}:\n{tail(log)}") from None
        b.launcher = proc.pid
        yield f"http://127.0.0.1:{public}", env, time.monotonic() - t0
    finally:
        b.procs.stop(proc, timeout=60)


def create_staff(env: dict[str, str]) -> str:
    """A clinician account in the cluster's console database; its password."""
    password = secrets.token_urlsafe(24)
    done = subprocess.run(
        [PY, "-m", "console", "create-user", STAFF, "--role", "clinician", "--password-stdin"],
        input=password + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"console create-user failed: {done.stderr.strip()}")
    return password


def measure_cluster(b: Bench, processes: int, action_servers: int) -> Target:
    target = Target(f"{processes} Rasa", processes, action_servers)
    say(f"cluster: {processes} Rasa processes, {action_servers} action servers: starting ...")
    with cluster(b, processes, action_servers) as (host, env, ready_s):
        target.ready_s = ready_s
        say(f"  ready in {ready_s:.0f} s on {host}")
        password = create_staff(env)
        warm_up(host, WARM_UP_TURNS * processes)
        load_env = {**os.environ, "MESO_LOAD_STAFF_USER": STAFF, "MESO_LOAD_STAFF_PASSWORD": password}
        b.ladder(target, host, load_env, launcher=b.launcher)
    return target


# --- main ---------------------------------------------------------------------------------------------------


def missing_prerequisite(locust: bool = True) -> str | None:
    from scripts.cluster.haproxy import find_binary

    for path, hint in (
        (PY, "scripts/setup-env.sh"),
        (RASA, "scripts/setup-env.sh"),
        *([(LOCUST, "scripts/setup-env.sh load")] if locust else []),
        (MODEL, "make train"),
    ):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is missing: run `{hint}` first (make bench-cluster does)"
    if not any(GENERATED_DATA.glob("*.yml")):
        return f"no generated NLU data in {GENERATED_DATA.relative_to(ROOT)}: run `make train` first"
    if find_binary() is None:
        return "HAProxy is not installed: run `scripts/setup-env.sh haproxy` (make bench-cluster does)"
    if shutil.which("psql") is None:
        return "psql is missing (the benchmark drops its throwaway database with it)"
    return None


def versions() -> tuple[str, str]:
    def of(python: Path, package: str) -> str:
        done = subprocess.run(
            [str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() or "?"

    return of(RASA.parent / "python", "rasa"), of(LOCUST.parent / "python", "locust")


def memory_gib() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--processes", default="1,2,4", help="Rasa processes per cluster, comma-separated (default 1,2,4)")
    ap.add_argument("--quick", action="store_true", help="two short steps per target (a smoke test, minutes)")
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--think-time", type=float, default=10.0, help="a patient's average pause in s (default 10)")
    ap.add_argument("--patients", default="", help="the ladder, comma-separated (default: 10,25,50,...,2000)")
    ap.add_argument("--step-seconds", type=float, default=0.0, help="seconds measured per step (default 90)")
    ap.add_argument("--no-bare", action="store_true", help="leave out the bare bot (its column stays empty)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (servers' and Locust's logs, CSVs)")
    return ap.parse_args(argv)


def plan_of(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.patients:
        plan = replace(plan, patients=tuple(int(p) for p in args.patients.split(",") if p.strip()))
    if args.step_seconds:
        plan = replace(plan, steady_s=args.step_seconds)
    return replace(plan, think_s=args.think_time)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join(["scripts/bench_cluster.py", *(sys.argv[1:] if argv is None else argv)])
    processes = [int(p) for p in args.processes.split(",") if p.strip()]
    problem = missing_prerequisite()
    if problem:
        print(f"[bench] error: {problem}", file=sys.stderr)
        return 1
    from core.settings import get_settings

    action_servers = get_settings().action_servers

    interrupt_on_stop_signals()

    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench_cluster_"))
    bench = Bench(args, plan_of(args), tmp)
    targets: list[Target] = []
    try:
        if not args.no_bare:
            targets.append(measure_bare(bench))
        for n in processes:
            try:
                targets.append(measure_cluster(bench, n, action_servers))
            except RuntimeError as exc:  # a cluster that did not start: said in the report, the others still run
                say(f"  failed: {exc}")
                targets.append(Target(f"{n} Rasa", n, action_servers, error=str(exc).splitlines()[0]))
    finally:
        with uninterrupted():
            bench.clean_up(keep=args.keep, what="logs and Locust's CSV files")

    rasa, locust = versions()
    run = Run(
        command=(".venv/bin/python " + command),
        plan=bench.plan,
        targets=targets,
        commit=git_commit(),
        date=time.strftime("%Y-%m-%d"),
        cpu=cpu_name(),
        cores=os.cpu_count() or 1,
        memory_gib=memory_gib(),
        rasa=rasa,
        locust=locust,
        seconds=time.monotonic() - t_all,
        quick=args.quick,
    )
    section = report(run)
    write_section(Path(args.report), SECTION, section)
    print(section)
    say(f"report written to {args.report} (whole benchmark: {run.seconds:.0f} s, Python {platform.python_version()})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[bench] interrupted; every process, database and temporary folder cleaned up", file=sys.stderr)
        sys.exit(130)
