#!/usr/bin/env python
"""Open widgets waiting for staff replies, at scale (issue 15): 1,000 web widgets polling the production topology
(`make run-cluster`) as the widget does while its panel is open, while patients write on the REST channel and
staff reply to handed-off widgets. Writes its section of the benchmark report (`make bench-widgets`).

    .venv/bin/python scripts/bench_widgets.py [--report docs/benchmarks.md] [--widgets 1000] [--seconds 60]

Three phases of the same length, one after the other on the same cluster (2 Rasa processes, 2 action servers,
PostgreSQL and Redis of the machine):

- patients only: the patients write, no widget polls (the reference);
- polling: every widget asks `GET /webhooks/webchat/history?after=<its cursor>` 3 s after its last answer (the
  widget's POLL_FAST, widget/widget.js), as it does while its panel is open or the chat is handed off (otherwise
  it asks every 20 s); with nothing new the server counts the conversation's events and answers the cursor;
- polling, whole reads: the same, except each poll asks from one event before its cursor, so the server reads
  the whole conversation and answers its last message: what every poll cost before the count.

Meanwhile staff reply (`POST /webhooks/staff/reply`) to handed-off widgets, one every 2 s: "seen after" is the
time from the reply's 200 to the poll that shows it, whichever Rasa process answers it. The servers' CPU is
everything the machine ran except this script (Rasa, action servers, console, HAProxy, PostgreSQL, Redis); CPU
per poll is the polling phase's CPU above the reference phase's, over its polls.

Needs .venv, .venv-rasa, a trained model (`make train`), HAProxy (`scripts/setup-env.sh haproxy`) and the
local PostgreSQL and Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_cluster import Bench, Plan, cluster, missing_prerequisite, warm_up  # noqa: E402
from scripts.benchlib import (  # noqa: E402
    LoadMeter,
    cpu_name,
    git_commit,
    interrupt_on_stop_signals,
    tail,
    uninterrupted,
    write_section,
)

SECTION = "widgets"
RASA_PROCESSES, ACTION_SERVERS = 2, 2
POLL_S = 3.0
"""The widget's POLL_FAST (widget/widget.js): the next poll 3 s after the last answer."""
STAFF_EVERY_S = 2.0
STAFF_FROM_S = 10.0
PATIENT_THINK_S = (5.0, 15.0)
OPENING = 16
"""Widgets opened at once before the phases (each with one real turn)."""
REQUEST_TIMEOUT_S = 30.0
QUESTIONS = (
    "What is mesotherapy?",
    "Does it hurt?",
    "How many sessions will I need?",
    "Is there any downtime after a session?",
    "How much does mesotherapy cost?",
    "How long do the results last?",
    "What are the side effects?",
    "Can it help with hair loss?",
)
HANDOFF = "I'd like to speak to a person please"


def say(msg: str) -> None:
    print(f"[widgets] {msg}", flush=True)


@dataclass
class Widget:
    """One open widget: its session, its conversation and how far it has read."""

    token: str
    cursor: int
    sender: str = ""
    awaited: str = ""
    """A staff reply sent to it and not yet seen."""
    sent_at: float = 0.0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class KeptAlive:
    """One HTTP/1.1 connection kept open between requests, as a browser's: a thousand of them cost this script
    little CPU (httpx's pool, which scans its connections on every request, made the load generator the
    bottleneck at 1,000 connections)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) of `GET path`; reconnects when the server closed the connection in between."""
        if self.writer is None or self.writer.is_closing() or (self.reader and self.reader.at_eof()):
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None and self.writer is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        if fields.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await self.reader.readuntil(b"\r\n")).strip() or b"0", 16):
                body += await self.reader.readexactly(size + 2)
                body = body[:-2]
            await self.reader.readuntil(b"\r\n")
        else:
            body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split()[1]), body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class Phase:
    name: str
    polling: str
    """"" (no widget polls), "count" (after = the cursor) or "whole" (after = the cursor - 1)."""
    seconds: float = 0.0
    polls_ms: list[float] = field(default_factory=list)
    poll_failures: int = 0
    turns_ms: list[float] = field(default_factory=list)
    turn_failures: int = 0
    staff_sent: int = 0
    seen_after_s: list[float] = field(default_factory=list)
    server_cores: float = 0.0
    generator_cores: float = 0.0

    def cpu_per_poll_ms(self, reference: Phase) -> float:
        if not self.polls_ms:
            return float("nan")
        return max(0.0, self.server_cores - reference.server_cores) * self.seconds / len(self.polls_ms) * 1000


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Run:
    host: str
    staff_token: str
    rng: random.Random = field(default_factory=lambda: random.Random(15))

    async def open_widget(self, client: httpx.AsyncClient, text: str) -> Widget:
        started = await client.post(f"{self.host}/webhooks/webchat/session", json={"consent": True})
        started.raise_for_status()
        widget = Widget(started.json()["session"], 0)
        turn = await client.post(
            f"{self.host}/webhooks/webchat/webhook",
            json={"message": text, "consent": True, "after": 0},
            headers=widget.headers,
        )
        turn.raise_for_status()
        widget.cursor = int(turn.json()["cursor"])
        if text == HANDOFF:
            found = await client.get(f"{self.host}/webhooks/webchat/session", headers=widget.headers)
            found.raise_for_status()
            widget.sender = found.json()["sender_id"]
        return widget

    async def open_widgets(self, client: httpx.AsyncClient, count: int, handed_off: int) -> list[Widget]:
        gate = asyncio.Semaphore(OPENING)

        async def one(i: int) -> Widget:
            async with gate:
                return await self.open_widget(client, HANDOFF if i < handed_off else QUESTIONS[i % len(QUESTIONS)])

        return list(await asyncio.gather(*(one(i) for i in range(count))))

    async def poll(self, widget: Widget, phase: Phase, until: float) -> None:
        """One widget polling on a connection of its own, as a browser keeps one open."""
        connection = KeptAlive(self.host)
        await asyncio.sleep(self.rng.uniform(0, POLL_S))
        try:
            while time.monotonic() < until:
                after = widget.cursor - 1 if phase.polling == "whole" else widget.cursor
                t0 = time.perf_counter()
                try:
                    status, raw = await connection.get(f"/webhooks/webchat/history?after={after}", widget.headers)
                    body = json.loads(raw) if status == 200 else None
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    body = None
                    await connection.close()
                phase.polls_ms.append((time.perf_counter() - t0) * 1000)
                if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                    phase.poll_failures += 1
                else:
                    widget.cursor = int(body.get("cursor") or widget.cursor)
                    if widget.awaited and any(m.get("text") == widget.awaited for m in body["messages"]):
                        phase.seen_after_s.append(time.monotonic() - widget.sent_at)
                        widget.awaited = ""
                await asyncio.sleep(POLL_S)
        finally:
            await connection.close()

    async def patient(self, client: httpx.AsyncClient, phase: Phase, until: float) -> None:
        await asyncio.sleep(self.rng.uniform(0, PATIENT_THINK_S[0]))
        sender = f"bench-widgets-{uuid.uuid4().hex[:12]}"
        while time.monotonic() < until:
            body = {"sender": sender, "message": self.rng.choice(QUESTIONS), "metadata": {"consent": True}}
            t0 = time.perf_counter()
            try:
                answer = await client.post(f"{self.host}/webhooks/rest/webhook", json=body)
                ok = answer.status_code == 200 and any(m.get("text") for m in answer.json())
            except (httpx.HTTPError, ValueError):
                ok = False
            phase.turns_ms.append((time.perf_counter() - t0) * 1000)
            phase.turn_failures += not ok
            await asyncio.sleep(self.rng.uniform(*PATIENT_THINK_S))

    async def staff(self, client: httpx.AsyncClient, waiting: list[Widget], phase: Phase, until: float) -> None:
        await asyncio.sleep(STAFF_FROM_S)
        for k, widget in enumerate(waiting):
            if time.monotonic() >= until - 2 * POLL_S:
                return
            text = f"Dr Rao here ({phase.name}, {k}): how can I help?"
            answer = await client.post(
                f"{self.host}/webhooks/staff/reply",
                json={"sender_id": widget.sender, "text": text, "author": "dr.rao"},
                headers={"Authorization": f"Bearer {self.staff_token}"},
            )
            if answer.status_code == 200:
                widget.awaited, widget.sent_at = text, time.monotonic()
                phase.staff_sent += 1
            await asyncio.sleep(STAFF_EVERY_S)

    async def phase(self, phase: Phase, widgets: list[Widget], patients: int, seconds: float) -> Phase:
        limits = httpx.Limits(max_connections=patients + 10)
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
            meter, cpu0, t0 = LoadMeter(), time.process_time(), time.monotonic()
            until = t0 + seconds
            work = [self.patient(client, phase, until) for _ in range(patients)]
            if phase.polling:
                work += [self.poll(w, phase, until) for w in widgets]
                work.append(self.staff(client, [w for w in widgets if w.sender], phase, until))
            await asyncio.gather(*work)
            phase.seconds = time.monotonic() - t0
            phase.generator_cores = (time.process_time() - cpu0) / phase.seconds
            # the servers are this script's children: everything the machine ran but this process
            phase.server_cores = max(0.0, meter.machine() - phase.generator_cores)
        for widget in widgets:
            widget.awaited = ""
        return phase


def report(phases: Sequence[Phase], widgets: int, patients: int, command: str, seconds: float) -> str:
    reference = phases[0]

    def ms(x: float) -> str:
        return "—" if x != x else f"{x:,.0f} ms" if x >= 10 else f"{x:.1f} ms"

    rows = []
    for p in phases:
        seen = (
            f"{statistics.median(p.seen_after_s):.1f} s / {max(p.seen_after_s):.1f} s ({len(p.seen_after_s)} of "
            f"{p.staff_sent})"
            if p.seen_after_s
            else ("—" if not p.polling else f"none of {p.staff_sent}")
        )
        polls = len(p.polls_ms)
        rows.append(
            f"| {p.name} | {polls / p.seconds:.0f} | {ms(percentile(p.polls_ms, 0.5))} | "
            f"{ms(percentile(p.polls_ms, 0.95))} | {ms(percentile(p.polls_ms, 0.99))} | {p.poll_failures} | {seen} | "
            f"{ms(percentile(p.turns_ms, 0.5))} / {ms(percentile(p.turns_ms, 0.95))} ({len(p.turns_ms)}, "
            f"{p.turn_failures} failed) | {p.server_cores:.2f} | "
            f"{'—' if not p.polling else f'{p.cpu_per_poll_ms(reference):.2f} ms'} | {p.generator_cores:.2f} |"
        )
    return "\n".join(
        [
            "## Open widgets polling for staff replies (issue 15)",
            "",
            f"`{command}` at {git_commit()} ({time.strftime('%Y-%m-%d')}; {seconds / 60:.0f} min): {cpu_name()}, "
            f"the cluster (`make run-cluster`: HAProxy, {RASA_PROCESSES} Rasa processes, {ACTION_SERVERS} action "
            f"servers, the console) on the machine's PostgreSQL and Redis. {widgets:,} widgets, each opened with one "
            f"real turn; {patients} patients write on the REST channel throughout (a message, then 5-15 s); in "
            f"the polling phases every widget polls 3 s after its last answer, as with its panel open, and staff "
            f"reply to a handed-off widget every 2 s. Phases of {phases[0].seconds:.0f} s, one after the other.",
            "",
            "| phase | polls/s | poll p50 | poll p95 | poll p99 | polls failed | staff reply seen after (median / max) "
            "| patients' turns p50 / p95 | servers' CPU (cores) | CPU per poll | load generator (cores) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "- polling: a poll with nothing new is answered from one indexed count of the conversation's events "
            "(bot/channels/webchat.py `unchanged_since`); polling, whole reads: each poll asks from one event "
            "earlier, so the server reads the whole conversation, as every poll did before that count.",
            "- servers' CPU: all the machine's busy time except this script's, in cores (Rasa, action servers, "
            "console, HAProxy, PostgreSQL, Redis); CPU per poll: the phase's servers' CPU above the patients-only "
            "phase's, over its polls.",
            "- staff reply seen after: from the staff reply's 200 to the answer of the poll that carried it; a "
            "widget polls 3 s after its last answer, so up to 3 s plus a poll is expected.",
            "- A closed widget that is not handed off polls every 20 s: a seventh of these polls.",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--widgets", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=20, help="REST patients writing during every phase")
    ap.add_argument("--handed-off", type=int, default=30, help="widgets handed off to staff (staff reply to them)")
    ap.add_argument("--seconds", type=float, default=60.0, help="seconds per phase (default 60)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "scripts/bench_widgets.py", *(sys.argv[1:] if argv is None else argv)])
    problem = missing_prerequisite(locust=False)
    if problem:
        print(f"[widgets] error: {problem}", file=sys.stderr)
        return 1
    interrupt_on_stop_signals()
    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench_widgets_"))
    bench = Bench(argparse.Namespace(), Plan(patients=(), ramp_s=0, steady_s=0), tmp)
    phases: list[Phase] = []
    try:
        say("starting the cluster ...")
        with cluster(bench, RASA_PROCESSES, ACTION_SERVERS) as (host, env, ready_s):
            say(f"cluster ready in {ready_s:.0f} s on {host}")
            warm_up(host, 3 * RASA_PROCESSES)
            run = Run(host, env["MESO_RASA_TOKEN"])

            async def opened() -> list[Widget]:
                limits = httpx.Limits(max_connections=OPENING + 4)
                async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S * 4, limits=limits) as client:
                    return await run.open_widgets(client, args.widgets, args.handed_off)

            t0 = time.monotonic()
            widgets = asyncio.run(opened())
            say(f"{len(widgets)} widgets open, each after one turn ({time.monotonic() - t0:.0f} s)")
            for name, polling in (("patients only", ""), ("polling", "count"), ("polling, whole reads", "whole")):
                say(f"{name}: {args.seconds:g} s ...")
                phase = asyncio.run(run.phase(Phase(name, polling), widgets, args.patients, args.seconds))
                phases.append(phase)
                say(
                    f"  {len(phase.polls_ms) / phase.seconds:.0f} polls/s (p95 {percentile(phase.polls_ms, 0.95):.0f}"
                    f" ms, {phase.poll_failures} failed), turns p95 {percentile(phase.turns_ms, 0.95):.0f} ms, "
                    f"staff replies seen {len(phase.seen_after_s)} of {phase.staff_sent}, servers "
                    f"{phase.server_cores:.2f} cores, generator {phase.generator_cores:.2f} cores"
                )
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except Exception as exc:
        say(f"failed: {exc}")
        cluster_log = next(tmp.glob("cluster-*/cluster.log"), None)
        if cluster_log:
            say(f"last lines of {cluster_log}:\n{tail(cluster_log)}")
        raise
    finally:
        with uninterrupted():
            bench.clean_up(keep=args.keep)
    section = report(phases, args.widgets, args.patients, command, time.monotonic() - t_all)
    write_section(Path(args.report), SECTION, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
