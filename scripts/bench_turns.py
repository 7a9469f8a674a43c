#!/usr/bin/env python
"""Turn benchmark: the whole assistant (scripts/run.sh: action server + Rasa) against a bare Rasa
bot trained on the same pipeline and NLU data, measured in one run: training time, cold start
to ready, per-turn latency through the REST channel over the dev conversations, where the time
of a turn goes, and memory. Writes its section of the benchmark report.

    .venv/bin/python scripts/bench_turns.py [--cases ../shared/eval/dev.jsonl] \
        [--report docs/benchmarks.md] [--passes 2] [--skip-train] [--conversations N]

A quick check that it still runs end to end (no real-project training, 2 conversations, one pass,
report to a scratch file): --skip-train --conversations 2 --passes 1 --report /tmp/turns.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.rasa_api import api_jwt  # noqa: E402
from scripts.benchlib import (  # noqa: E402
    LoadMeter,
    Processes,
    children,
    cmdline,
    cpu_name,
    free_port,
    git_commit,
    interrupt_on_stop_signals,
    memory,
    tail,
    uninterrupted,
    write_section,
)

PY = ROOT / ".venv" / "bin" / "python"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "var" / "rasa" / "models" / "meso.tar.gz"
GENERATED_DATA = ROOT / "var" / "rasa" / "data"
OVERRIDE = "bot.components.warning_sign_override.WarningSignOverride"

TARGET_P50_MS = 60.0
TARGET_P95_MS = 150.0
TARGET_READY_S = 60.0
WARMUP = 5
QUIET_CORES = 0.2
"""Above this much CPU used by other processes during the latency run, the report says so."""

REAL = "real assistant"
BARE = "bare Rasa bot"


def say(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# --- HTTP -----------------------------------------------------------------------------------------


def call(
    port: int, method: str, path: str, payload: Any = None, timeout: float = 60.0, headers: dict[str, str] | None = None
) -> tuple[int, Any, float]:
    """One request on a fresh connection; (status, parsed JSON body or None, ms from sending the
    request to having read the whole response; the JSON encoding and decoding are left out)."""
    body = None if payload is None else json.dumps(payload).encode()
    conn = http_client(port, timeout)
    try:
        t0 = time.perf_counter()
        conn.request(method, path, body, {"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        data = resp.read()
        elapsed = (time.perf_counter() - t0) * 1000
        try:
            return resp.status, json.loads(data) if data else None, elapsed
        except ValueError:
            return resp.status, None, elapsed
    finally:
        conn.close()


def http_client(port: int, timeout: float) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def answers(port: int, path: str) -> bool:
    try:
        status, _, _ = call(port, "GET", path, timeout=1.0)
        return status == 200
    except OSError:
        return False


# --- cases, statistics ----------------------------------------------------------------------------


@dataclass
class Conversation:
    id: str
    turns: list[str]


def load_conversations(path: Path) -> list[Conversation]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            out.append(Conversation(str(case["id"]), [str(t["text"]) for t in case["turns"]]))
    return out


@dataclass
class Sample:
    server: str
    pass_no: int
    case: str
    turn: int
    sender: str
    ms: float
    t_send: float
    t_recv: float
    ok: bool
    kind: str = ""


def pct(values: Sequence[float], q: float) -> float:
    """Percentile with linear interpolation between closest ranks (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass
class Stats:
    n: int
    p50: float
    p95: float
    max: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        if not values:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        return cls(len(values), pct(values, 50), pct(values, 95), max(values), statistics.fmean(values))


def ms(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    return f"{x:.0f} ms" if x >= 100 else f"{x:.1f} ms"


def mib(x: float) -> str:
    return f"{x:,.0f} MiB"


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


# --- the bare reference bot ------------------------------------------------------------------------


def write_bare_project(folder: Path, real_config: dict[str, Any], intents: list[str], session_config: Any) -> None:
    (folder / "data" / "nlu").mkdir(parents=True)
    config = dict(real_config)
    config["assistant_id"] = "bare-reference"
    config["pipeline"] = [c for c in real_config["pipeline"] if c.get("name") != OVERRIDE]
    (folder / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))

    responses = {f"utter_{i}": [{"text": f"(bare reply to {i})"}] for i in intents}
    responses["utter_default"] = [{"text": "(bare reply to nlu_fallback)"}]
    domain = {
        "version": "3.1",
        "intents": intents,
        "entities": ["topic"],
        "responses": responses,
        "session_config": session_config,
    }
    (folder / "domain.yml").write_text(yaml.safe_dump(domain, sort_keys=False))

    rules = [{"rule": f"{i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    rules.append({"rule": "nlu_fallback", "steps": [{"intent": "nlu_fallback"}, {"action": "utter_default"}]})
    (folder / "data" / "rules.yml").write_text(yaml.safe_dump({"version": "3.1", "rules": rules}, sort_keys=False))

    for i, src in enumerate(
        [*sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")), *sorted(GENERATED_DATA.glob("*.yml"))]
    ):
        shutil.copyfile(src, folder / "data" / "nlu" / f"{i:02d}_{src.name}")
    (folder / "credentials.yml").write_text("rest:\n")


# --- servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    token: str | None = None
    """Rasa's API secret: each call carries a short-lived JWT signed with it (no URL token)."""
    action_secret: str | None = None
    """What Rasa sends to the action server (Authorization: Bearer), for replaying its calls."""
    launch_to_ready_s: float = float("nan")
    launch_to_webhook_s: float = float("nan")
    self_reported_s: float | None = None
    first_turn_ms: float = float("nan")
    samples: list[Sample] = field(default_factory=list)

    def api(self, path: str, **query: Any) -> str:
        return path + ("?" + urllib.parse.urlencode(query) if query else "")

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_jwt(self.token)}"} if self.token else {}


def wait_ready(server: Server, t0: float, *, ready_line: re.Pattern[str] | None, timeout: float = 300.0) -> None:
    """Polls until the REST webhook answers (and, for run.sh, until it prints its ready line)."""
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.proc.returncode} during start-up:\n{tail(server.log)}"
            )
        now = time.perf_counter()
        if server.launch_to_webhook_s != server.launch_to_webhook_s and answers(server.port, "/webhooks/rest/"):
            server.launch_to_webhook_s = now - t0
        if ready_line is None:
            if server.launch_to_webhook_s == server.launch_to_webhook_s:
                server.launch_to_ready_s = server.launch_to_webhook_s
                return
        else:
            m = ready_line.search(server.log.read_text(errors="replace"))
            if m:
                server.launch_to_ready_s = now - t0
                server.self_reported_s = float(m.group(1))
                if server.launch_to_webhook_s != server.launch_to_webhook_s:
                    server.launch_to_webhook_s = server.launch_to_ready_s
                return
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} was not ready after {timeout:.0f} s; log: {server.log}")


def post_turn(server: Server, sender: str, text: str) -> tuple[float, float, float, bool, str]:
    """POST one message to the REST channel; (ms, t_send, t_recv, ok, reply kind)."""
    body = json.dumps({"sender": sender, "message": text, "metadata": {"consent": True}}).encode()
    conn = http_client(server.port, 60.0)
    ok, kind = False, ""
    t_send = time.time()
    t0 = time.perf_counter()
    try:
        conn.request("POST", "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        elapsed = (time.perf_counter() - t0) * 1000
        t_recv = time.time()
        reply = json.loads(data) if data else None
        if resp.status == 200 and isinstance(reply, list):
            ok = True
            metas = [m["custom"]["meta"] for m in reply if isinstance(m.get("custom"), dict) and "meta" in m["custom"]]
            if metas:
                kind = str(metas[-1].get("kind", ""))
                if metas[-1].get("reason") == "channel_fallback":
                    kind = "channel fallback (dialogue failed)"
    except (OSError, http.client.HTTPException, ValueError):
        elapsed = (time.perf_counter() - t0) * 1000
        t_recv = time.time()
    finally:
        conn.close()
    return elapsed, t_send, t_recv, ok, kind


# --- where the time goes ---------------------------------------------------------------------------


@dataclass
class Breakdown:
    before_user: list[float] = field(default_factory=list)
    """request in, session start, tracker load, NLU (until the user event is logged)"""
    to_action: list[float] = field(default_factory=list)
    """slot extraction, policies, running the action (action server round trip for the real one)"""
    after_action: list[float] = field(default_factory=list)
    """predicting action_listen, saving the tracker, the response back to the client"""
    turn: list[int] = field(default_factory=list)
    """the turn's index in its conversation (0 = the first message), one per entry of the three lists above"""
    nlu_parse: list[float] = field(default_factory=list)
    action_direct: list[float] = field(default_factory=list)
    action_direct_by_name: dict[str, list[float]] = field(default_factory=dict)


SKIP_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}


def timeline(server: Server, samples: list[Sample], out: Breakdown) -> list[tuple[str, str, float]]:
    """Splits each turn with the tracker's event timestamps (same clock as the client's
    time.time()). Returns (sender, action name, action event timestamp) per turn."""
    by_sender: dict[str, list[Sample]] = {}
    for s in samples:
        by_sender.setdefault(s.sender, []).append(s)
    actions = []
    for sender, turns in by_sender.items():
        status, tracker, _ = call(
            server.port,
            "GET",
            server.api(f"/conversations/{sender}/tracker", include_events="ALL"),
            headers=server.auth(),
        )
        if status != 200 or not isinstance(tracker, dict):
            continue
        events = tracker.get("events") or []
        user_idx = [i for i, e in enumerate(events) if e.get("event") == "user"]
        if len(user_idx) != len(turns):
            continue
        for k, (i, s) in enumerate(zip(user_idx, turns, strict=True)):
            nxt = user_idx[k + 1] if k + 1 < len(user_idx) else len(events)
            acts = [
                e
                for e in events[i + 1 : nxt]
                if e.get("event") == "action" and e.get("name") not in SKIP_ACTIONS and e.get("name")
            ]
            if not s.ok or not acts:
                continue
            t_user, t_action = float(events[i]["timestamp"]), float(acts[0]["timestamp"])
            out.before_user.append((t_user - s.t_send) * 1000)
            out.to_action.append((t_action - t_user) * 1000)
            out.after_action.append((s.t_recv - t_action) * 1000)
            out.turn.append(s.turn)
            actions.append((sender, str(acts[0]["name"]), t_action))
    return actions


def time_actions_directly(
    rasa: Server, action_port: int, actions: list[tuple[str, str, float]], out: Breakdown, custom: set[str]
) -> None:
    """Replays each turn's action call against the action server: the tracker as it was just
    before the action ran (Rasa's `until`), the domain, POST /webhook, timed."""
    _, domain, _ = call(rasa.port, "GET", rasa.api("/domain"), headers={"Accept": "application/json", **rasa.auth()})
    version = subprocess.run(
        [str(RASA_PY), "-c", "import importlib.metadata as m; print(m.version('rasa'))"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    for sender, name, t_action in actions:
        if name not in custom:
            continue
        status, tracker, _ = call(
            rasa.port,
            "GET",
            rasa.api(f"/conversations/{sender}/tracker", include_events="ALL", until=f"{t_action - 1e-6:.6f}"),
            headers=rasa.auth(),
        )
        if status != 200:
            continue
        payload = {"next_action": name, "sender_id": sender, "tracker": tracker, "domain": domain, "version": version}
        secret = {"Authorization": f"Bearer {rasa.action_secret}"} if rasa.action_secret else {}
        status, _, elapsed = call(action_port, "POST", "/webhook", payload, headers=secret)
        if status == 200:
            out.action_direct.append(elapsed)
            out.action_direct_by_name.setdefault(name, []).append(elapsed)


def time_parse(server: Server, texts: Iterable[str], out: Breakdown) -> None:
    for text in texts:
        status, _, elapsed = call(
            server.port, "POST", server.api("/model/parse"), {"text": text}, headers=server.auth()
        )
        if status == 200:
            out.nlu_parse.append(elapsed)


def time_warning_detector(texts: list[str]) -> float | None:
    """Median µs of the rule-based warning-sign detector on one message (what the custom NLU
    component left out of the bare bot runs), in this process."""
    try:
        from actions.safety.warning_signs import detect_warning_signs
    except Exception:  # informative only
        return None
    runs = []
    for _ in range(20):
        for text in texts:
            t0 = time.perf_counter()
            detect_warning_signs(text)
            runs.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(runs)


# --- machine -------------------------------------------------------------------------------------


def rasa_versions() -> tuple[str, str]:
    out = subprocess.run(
        [
            str(RASA_PY),
            "-c",
            "import importlib.metadata as m, platform; print(platform.python_version(), m.version('rasa'))",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    return (out[0], out[1]) if len(out) == 2 else ("?", "?")


# --- the phases -------------------------------------------------------------------------------------


@dataclass
class Project:
    """What the benchmark reads from the real project."""

    config: dict[str, Any]
    domain: dict[str, Any]
    intents: list[str]
    custom_actions: set[str]
    has_override: bool

    @classmethod
    def load(cls) -> Project:
        config = yaml.safe_load((ROOT / "config.yml").read_text())
        domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text())
        return cls(
            config=config,
            domain=domain,
            intents=[i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]],
            custom_actions={a if isinstance(a, str) else next(iter(a)) for a in domain.get("actions", [])},
            has_override=any(c.get("name") == OVERRIDE for c in config["pipeline"]),
        )


@dataclass
class Bench:
    """One run: its temporary folder and processes, and everything measured, phase by phase."""

    args: argparse.Namespace
    conversations: list[Conversation]
    project: Project
    tmp: Path
    procs: Processes = field(default_factory=Processes)
    load: dict[str, float] = field(default_factory=dict)
    """Cores used by other processes, per phase."""
    train_real_s: float | None = None
    train_bare_s: float = float("nan")
    real: Server | None = None
    bare: Server | None = None
    action_port: int = 0
    mem: list[tuple[str, int, float, float]] = field(default_factory=list)
    breakdown: dict[str, Breakdown] = field(default_factory=lambda: {REAL: Breakdown(), BARE: Breakdown()})
    detector_us: float | None = None
    total_s: float = 0.0

    @property
    def n_turns(self) -> int:
        return sum(len(c.turns) for c in self.conversations)

    @property
    def base_env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(self.tmp / "tmp")}

    @property
    def project_env(self) -> dict[str, str]:
        path = os.environ.get("PYTHONPATH")
        return {**self.base_env, "PYTHONPATH": str(ROOT) + (os.pathsep + path if path else "")}

    @property
    def servers(self) -> list[Server]:
        assert self.real is not None and self.bare is not None
        return [self.real, self.bare]


def missing_prerequisite() -> str | None:
    for path, hint in ((PY, "scripts/setup-env.sh"), (RASA, "scripts/setup-env.sh"), (MODEL, "make train")):
        if not path.exists():
            return f"{path} is missing: run `{hint}` first"
    if not any(GENERATED_DATA.glob("*.yml")):
        return f"no generated NLU data in {GENERATED_DATA}: run `make train` first"
    return None


def train_real(b: Bench) -> None:
    """1. Training the real project (same arguments as scripts/train.sh, forced, into tmp)."""
    say("training the real project (rasa train --force) ...")
    meter = LoadMeter()
    b.train_real_s = b.procs.run_timed(
        [RASA, "train", "--config", "config.yml", "--domain", "bot/domain.yml", "--data", "bot/data",
         "var/rasa/data", "--out", b.tmp / "real-models", "--fixed-model-name", "meso", "--force"],
        log=b.tmp / "train-real.log",
        cwd=ROOT,
        env={**b.project_env, "RASA_CACHE_DIRECTORY": str(b.tmp / "real-cache")},
    )  # fmt: skip
    b.load["training the real project"] = meter.others()
    say(f"  {b.train_real_s:.1f} s")


def train_bare(b: Bench) -> Path:
    """2. The bare reference bot, generated and trained in tmp; returns its folder."""
    bare_dir = b.tmp / "bare"
    bare_dir.mkdir()
    p = b.project
    write_bare_project(bare_dir, p.config, p.intents, p.domain.get("session_config"))
    say("training the bare reference bot ...")
    meter = LoadMeter()
    b.train_bare_s = b.procs.run_timed(
        [RASA, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
         "--out", "models", "--fixed-model-name", "bare", "--force"],
        log=b.tmp / "train-bare.log",
        cwd=bare_dir,
        env={**b.base_env, "RASA_CACHE_DIRECTORY": str(bare_dir / "cache")},
    )  # fmt: skip
    b.load["training the bare bot"] = meter.others()
    say(f"  {b.train_bare_s:.1f} s")
    return bare_dir


def start_real(b: Bench) -> None:
    """3a. Cold start of the real assistant, as `make run` starts it, on free ports."""
    rasa_port, b.action_port = free_port(), free_port()
    run_dir = b.tmp / "run"
    env = {
        **b.base_env,
        "MESO_RASA_PORT": str(rasa_port),
        "MESO_ACTION_PORT": str(b.action_port),
        "MESO_CONSOLE_PORT": str(free_port()),
        "MESO_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "MESO_ACTION_SERVER_URL": f"http://127.0.0.1:{b.action_port}/webhook",
        "MESO_TRACKER_DB_URL": f"sqlite:///{run_dir / 'tracker.db'}",
        "MESO_CONSOLE_DB_URL": f"sqlite:///{run_dir / 'console.db'}",
        "MESO_ALERTS_FILE": str(run_dir / "alerts.jsonl"),
        "MESO_RASA_RUN_DIR": str(run_dir / "rasa"),
        "MESO_RASA_TOKEN": secrets.token_hex(16),
        "MESO_ACTION_SERVER_SECRET": secrets.token_hex(16),
    }
    say(f"starting the real assistant (scripts/run.sh, Rasa :{rasa_port}, actions :{b.action_port}) ...")
    meter = LoadMeter()
    t0 = time.perf_counter()
    log = b.tmp / "run.log"
    proc = b.procs.start([ROOT / "scripts" / "run.sh"], log=log, cwd=ROOT, env=env)
    b.real = Server(REAL, rasa_port, proc, log, env["MESO_RASA_TOKEN"], env["MESO_ACTION_SERVER_SECRET"])
    wait_ready(b.real, t0, ready_line=re.compile(r"ready in ([0-9.]+) s"))
    b.load["cold start, real assistant"] = meter.others()
    say(f"  ready in {b.real.launch_to_ready_s:.1f} s (run.sh says {b.real.self_reported_s} s)")


def start_bare(b: Bench, bare_dir: Path) -> None:
    """3b. Cold start of the bare bot (after the real one: nothing else busy)."""
    port = free_port()
    say(f"starting the bare bot (rasa run :{port}, in-memory tracker store) ...")
    meter = LoadMeter()
    t0 = time.perf_counter()
    proc = b.procs.start(
        [RASA, "run", "--model", bare_dir / "models" / "bare.tar.gz", "--credentials", "credentials.yml",
         "--port", str(port), "--interface", "127.0.0.1", "--cors", "*", "--enable-api"],
        log=b.tmp / "bare.log",
        cwd=bare_dir,
        env=b.base_env,
    )  # fmt: skip
    b.bare = Server(BARE, port, proc, b.tmp / "bare.log")
    wait_ready(b.bare, t0, ready_line=None)
    b.load["cold start, bare bot"] = meter.others()
    say(f"  ready in {b.bare.launch_to_ready_s:.1f} s")


def measure_latency(b: Bench) -> None:
    """4. Warm-up, then every dev turn, the two servers interleaved turn by turn."""
    real, servers = b.real, b.servers
    texts = [t for c in b.conversations for t in c.turns]
    run_id = secrets.token_hex(3)
    for server in servers:
        for i, text in enumerate(texts[:WARMUP]):
            elapsed, *_ = post_turn(server, f"bench-{run_id}-warmup-{i}", text)
            if i == 0:
                server.first_turn_ms = elapsed
    passes = b.args.passes
    say(f"latency: {len(b.conversations)} conversations, {b.n_turns} turns, {passes} pass(es), interleaved ...")
    meter = LoadMeter()
    for p in range(passes):
        order = servers if p % 2 == 0 else servers[::-1]
        for conv in b.conversations:
            senders = {s.name: f"bench-{run_id}-p{p}-{conv.id}-{'real' if s is real else 'bare'}" for s in servers}
            for k, text in enumerate(conv.turns):
                for server in order:
                    sender = senders[server.name]
                    elapsed, t_send, t_recv, ok, kind = post_turn(server, sender, text)
                    server.samples.append(Sample(server.name, p, conv.id, k, sender, elapsed, t_send, t_recv, ok, kind))
        for server in servers:
            st = Stats.of([s.ms for s in server.samples if s.pass_no == p and s.ok])
            say(f"  pass {p + 1} {server.name}: p50 {ms(st.p50)}, p95 {ms(st.p95)}, max {ms(st.max)}")
    b.load["latency run"] = meter.others()
    say(f"  other processes used {b.load['latency run']:.2f} cores on average meanwhile")


def measure_memory(b: Bench) -> None:
    """5. Memory of every server process, right after the latency run."""
    assert b.real is not None and b.bare is not None
    for pid in children(b.real.proc.pid):
        line = cmdline(pid)
        if "sleep" in line.split()[:1]:
            continue
        label = (
            "Rasa server (real)" if " run " in f"{line} " and "rasa" in line
            else "action server (real)" if "actions.server" in line
            else "staff console (real)" if "console" in line
            else f"other child of run.sh: `{line[:60]}`"
        )  # fmt: skip
        b.mem.append((label, pid, *memory(pid)))
    b.mem.append(("Rasa server (bare)", b.bare.proc.pid, *memory(b.bare.proc.pid)))


def measure_breakdown(b: Bench) -> None:
    """Where the time of a turn goes: extra requests, after the measurement."""
    assert b.real is not None and b.bare is not None
    say("breakdown: tracker timestamps, NLU alone, action server alone ...")
    first_pass = {s.name: [x for x in s.samples if x.pass_no == 0] for s in b.servers}
    real_actions = timeline(b.real, first_pass[REAL], b.breakdown[REAL])
    timeline(b.bare, first_pass[BARE], b.breakdown[BARE])
    unique_texts = list(dict.fromkeys(t for c in b.conversations for t in c.turns))
    for server in b.servers:
        time_parse(server, unique_texts, b.breakdown[server.name])
    time_actions_directly(b.real, b.action_port, real_actions, b.breakdown[REAL], b.project.custom_actions)
    b.detector_us = time_warning_detector(unique_texts)


def run_phases(b: Bench) -> None:
    if not b.args.skip_train:
        train_real(b)
    bare_dir = train_bare(b)
    start_real(b)
    start_bare(b, bare_dir)
    measure_latency(b)
    measure_memory(b)
    measure_breakdown(b)
    assert b.real is not None and b.bare is not None
    b.procs.stop(b.bare.proc)
    b.procs.stop(b.real.proc)


# --- the report ---------------------------------------------------------------------------------------


def row(name: str, st: Stats, err: int) -> str:
    return f"| {name} | {st.n} | {ms(st.p50)} | {ms(st.p95)} | {ms(st.max)} | {ms(st.mean)} | {err} |"


def med(values: list[float]) -> str:
    return ms(statistics.median(values)) if values else "n/a"


def report_intro(b: Bench) -> list[str]:
    rasa_python, rasa_version = rasa_versions()
    override_note = (
        f"without the custom NLU component `{OVERRIDE.rsplit('.', 1)[1]}`, which imports project code: the "
        "bare bot runs stock Rasa only"
        if b.project.has_override
        else "config.yml has no custom NLU component"
    )
    passes = b.args.passes
    return [
        "## Turns through the REST channel (assistant end to end)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} at commit `{git_commit()}` on {os.cpu_count()} cores ({cpu_name()}), "
        f"Python {platform.python_version()} (`.venv`: action server, this script) and Python {rasa_python} "
        f"(`.venv-rasa`: Rasa {rasa_version}), with",
        "",
        "```",
        "make bench   # after the retrieval benchmark: .venv/bin/python scripts/bench_turns.py --report docs/benchmarks.md",
        "```",
        "",
        f"**Real assistant**: `scripts/run.sh` as `make run` starts it (action server, Rasa and the staff console, "
        "model `var/rasa/models/meso.tar.gz`, SQLite tracker store, the strict REST channel) on free ports with a "
        "temporary tracker database, alert file and run folder. **Bare Rasa bot**: a reference generated in a "
        f"temporary folder with the same config.yml pipeline and policies ({override_note}), the same NLU data "
        "(`bot/data/nlu` and the generated `var/rasa/data`), the same intents and session settings, one "
        "`utter_<intent>` text response per intent chosen by a rule (`nlu_fallback` -> `utter_default`), no custom "
        "actions, no action server, in-memory tracker store, Rasa's stock REST channel.",
        "",
        f"A turn is the client's wall time of one `POST /webhooks/rest/webhook` "
        '(`{"sender", "message", "metadata": {"consent": true}}`, a new connection each time, one request at a '
        f"time), over every turn of the {len(b.conversations)} conversations in `{Path(b.args.cases).name}` "
        f"({b.n_turns} turns; each conversation a fresh sender, turns in order), after {WARMUP} warm-up requests "
        f"per server; {passes} pass{'' if passes == 1 else 'es'}, the two servers interleaved turn by "
        "turn (which goes first alternates per pass), so both see the same machine load.",
        "",
    ]


def report_latency(b: Bench, stats: dict[str, Stats]) -> list[str]:
    assert b.real is not None
    errors = {s.name: sum(1 for x in s.samples if not x.ok) for s in b.servers}
    fallbacks = sum(1 for x in b.real.samples if x.kind.startswith("channel fallback"))
    r, bare = stats[REAL], stats[BARE]
    lines = [
        "### Per-turn latency",
        "",
        "| server | turns | p50 | p95 | max | mean | failed requests |",
        "|---|---|---|---|---|---|---|",
        row(REAL, r, errors[REAL]),
        row(BARE, bare, errors[BARE]),
        f"| difference (real - bare) | | {ms(r.p50 - bare.p50)} | {ms(r.p95 - bare.p95)} | | {ms(r.mean - bare.mean)} | |",
        "",
    ]
    if fallbacks:
        lines += [
            f"**Warning**: {fallbacks} real-assistant turns got the channel's fallback reply (the dialogue failed).",
            "",
        ]
    kinds: dict[str, list[float]] = {}
    for x in b.real.samples:
        if x.ok:
            kinds.setdefault(x.kind or "(no reply metadata)", []).append(x.ms)
    lines += [
        "Real assistant by reply kind (`custom.meta.kind`):",
        "",
        "| reply kind | turns | p50 | p95 | max |",
        "|---|---|---|---|---|",
        *[
            f"| {k} | {len(v)} | {ms(pct(v, 50))} | {ms(pct(v, 95))} | {ms(max(v))} |"
            for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1]))
        ],
        "",
    ]
    return lines


def report_breakdown(b: Bench) -> list[str]:
    br, bb = b.breakdown[REAL], b.breakdown[BARE]
    lines = [
        "### Where the time of a turn goes",
        "",
        "Medians over the first pass. The first three rows split each turn with the timestamps of the "
        "tracker's own events (same clock as the client): the user event is logged after NLU, the action "
        "event after the action has run. The last rows are separate requests after the latency run: "
        "`POST /model/parse` (NLU alone) for every distinct dev message, and each turn's action call "
        "replayed straight to the action server's `POST /webhook` (the tracker as it was just before "
        "the action, Rasa's `until`, and the domain).",
        "",
        f"| stage | {REAL} | {BARE} |",
        "|---|---|---|",
        f"| request in, session start, tracker load, NLU (until the user event) | {med(br.before_user)} "
        f"| {med(bb.before_user)} |",
        f"| slot extraction, policies, the action (until the action event) | {med(br.to_action)} "
        f"| {med(bb.to_action)} |",
        f"| `action_listen` prediction, tracker save, response | {med(br.after_action)} | {med(bb.after_action)} |",
        f"| NLU alone: `POST /model/parse` | {med(br.nlu_parse)} | {med(bb.nlu_parse)} |",
        f"| action server alone: `POST /webhook`, all actions | {med(br.action_direct)} | (no action server) |",
        *[
            f"| action server alone: `{name}` ({len(v)}) | {med(v)} | |"
            for name, v in sorted(br.action_direct_by_name.items(), key=lambda kv: -len(kv[1]))
        ],
        "",
    ]
    if b.detector_us is not None and b.project.has_override:
        lines += [
            f"The warning-sign detector that the custom NLU component runs (and the bare bot lacks) takes "
            f"{b.detector_us:.0f} µs per message (median, measured in this script's process).",
            "",
        ]
    return lines


def report_startup(b: Bench) -> list[str]:
    real, bare = b.real, b.bare
    assert real is not None and bare is not None
    ready_note = (
        f" (run.sh's own count, from after its settings check: {real.self_reported_s:.1f} s)"
        if real.self_reported_s
        else ""
    )
    trained = f"{b.train_real_s:.0f} s" if b.train_real_s is not None else "not measured (`--skip-train`)"
    return [
        "### Training and start-up",
        "",
        f"| | {REAL} | {BARE} |",
        "|---|---|---|",
        f"| `rasa train --force` (wall time) | {trained} | {b.train_bare_s:.0f} s |",
        f"| cold start: launch to ready | {real.launch_to_ready_s:.1f} s{ready_note} | {bare.launch_to_ready_s:.1f} s |",
        f"| cold start: launch until the REST webhook answers | {real.launch_to_webhook_s:.1f} s "
        f"| {bare.launch_to_webhook_s:.1f} s |",
        f"| first request after ready | {ms(real.first_turn_ms)} | {ms(bare.first_turn_ms)} |",
        "",
        "Training times the real project with the arguments of `scripts/train.sh` (PYTHONPATH = project root, "
        "`bot/data` and `var/rasa/data`) into a temporary `--out` folder and a temporary Rasa cache. Ready means "
        "run.sh's `ready in` line for the real assistant (it waits for the action server's `/health`, Rasa's "
        "`/webhooks/rest/` and the staff console), and `GET /webhooks/rest/` answering for the bare bot; the two "
        "start one after the other.",
        "",
    ]


def report_memory_and_load(b: Bench) -> list[str]:
    real_mem = [m for m in b.mem if m[0].endswith("(real)")]
    lines = [
        "### Memory after the latency run",
        "",
        "| process | VmRSS | VmHWM (peak) |",
        "|---|---|---|",
        *[f"| {label} | {mib(rss)} | {mib(hwm)} |" for label, _, rss, hwm in b.mem],
    ]
    if len(real_mem) > 1:
        lines.append(
            f"| real assistant, total | {mib(sum(m[2] for m in real_mem))} | {mib(sum(m[3] for m in real_mem))} |"
        )
    busy = b.load.get("latency run", 0.0)
    lines += [
        "",
        "### Other load on the machine",
        "",
        "CPU used by processes outside this benchmark (all busy time in `/proc/stat` minus this script's "
        f"and its children's), average cores of {os.cpu_count()}:",
        "",
        "| phase | other processes |",
        "|---|---|",
        *[f"| {phase} | {cores:.2f} cores |" for phase, cores in b.load.items()],
    ]
    if busy > QUIET_CORES:
        lines += [
            "",
            f"**The machine was not quiet during the latency run** ({busy:.2f} cores busy elsewhere): the "
            "turn times above are pessimistic; rerun on an idle machine for reference numbers.",
        ]
    return [*lines, ""]


def report_targets(b: Bench, r: Stats) -> list[str]:
    assert b.real is not None
    ready = b.real.launch_to_ready_s
    return [
        "### Against the targets",
        "",
        f"- real assistant turn p50: {ms(r.p50)} (target <= {TARGET_P50_MS:.0f} ms): {met(r.p50 <= TARGET_P50_MS)}",
        f"- real assistant turn p95: {ms(r.p95)} (target <= {TARGET_P95_MS:.0f} ms): {met(r.p95 <= TARGET_P95_MS)}",
        f"- real assistant start to ready, trained model: {ready:.1f} s (target <= "
        f"{TARGET_READY_S:.0f} s): {met(ready <= TARGET_READY_S)}",
        "",
        f"The whole benchmark took {b.total_s / 60:.1f} min (both trainings, both cold starts, "
        f"{b.args.passes * b.n_turns * 2 + 2 * WARMUP} timed turns, the breakdown).",
    ]


def report(b: Bench) -> str:
    stats = {s.name: Stats.of([x.ms for x in s.samples if x.ok]) for s in b.servers}
    for s in b.servers:
        st = stats[s.name]
        say(f"{s.name}: p50 {ms(st.p50)}, p95 {ms(st.p95)}, max {ms(st.max)}, mean {ms(st.mean)} ({st.n} turns)")
    lines = [
        *report_intro(b),
        *report_latency(b, stats),
        *report_breakdown(b),
        *report_startup(b),
        *report_memory_and_load(b),
        *report_targets(b, stats[REAL]),
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--cases", default=str(ROOT.parent / "shared" / "eval" / "dev.jsonl"))
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--skip-train", action="store_true", help="skip timing `rasa train` of the real project")
    ap.add_argument("--conversations", type=int, default=0, help="only the first N conversations (0: all)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t_all = time.perf_counter()
    problem = missing_prerequisite()
    if problem:
        print(f"[bench] error: {problem}", file=sys.stderr)
        return 1
    conversations = load_conversations(Path(args.cases))[: args.conversations or None]

    interrupt_on_stop_signals()

    tmp = Path(tempfile.mkdtemp(prefix="bench_turns_"))
    (tmp / "tmp").mkdir()
    bench = Bench(args, conversations, Project.load(), tmp)
    try:
        run_phases(bench)
    finally:
        with uninterrupted():
            bench.procs.stop_all()
            shutil.rmtree(tmp, ignore_errors=True)
    bench.total_s = time.perf_counter() - t_all

    write_section(Path(args.report), "turns", report(bench))
    say(f"report written to {args.report} (whole benchmark: {bench.total_s:.0f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("[bench] interrupted; every process and temporary folder cleaned up", file=sys.stderr)
        sys.exit(130)
