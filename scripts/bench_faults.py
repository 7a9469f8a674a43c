#!/usr/bin/env python
"""Faults under load (issue 15): the production topology (`make run-cluster`) loaded by patients on the REST
channel and the web widget while one fault at a time strikes: a Rasa process killed, an action server killed,
PostgreSQL restarted, Redis stopped for 30 s (and a row with no fault for comparison). For each fault, one row:
messages sent, replied, stored, lost and duplicated. Writes its section of the benchmark report
(`make bench-faults`).

    .venv/bin/python scripts/bench_faults.py [--report docs/benchmarks.md] [--patients 30] [--seconds 75]

The cluster runs on a PostgreSQL and a Redis of the benchmark's own (initdb'd in a temporary folder, on free
ports), so they can be restarted and stopped without touching the machine's; 2 Rasa processes and 2 action
servers. Patients are simulated here (asyncio, httpx): each writes 3-15 messages, thinking 2-5 s between them,
every message with its own `client_message_id`; like the widget's Retry button (and an integration should),
a message whose answer is lost (502, 503, 504, a broken connection, a timeout) is sent again with
`resend: true` until it is answered (at most MAX_TRIES times). Then:

- replied: the message got an answer with text (the channel's own fallback counts: it carries its marker);
- stored: its patient message is in the tracker store exactly once or more (by `client_message_id`);
- lost: not replied, or replied and not stored;
- duplicated: stored more than once (run twice).

Needs .venv, .venv-rasa, a trained model (`make train`), HAProxy (`scripts/setup-env.sh haproxy`), and
PostgreSQL's server programs (initdb, pg_ctl) and redis-server from Debian's packages.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_cluster import Bench, Plan, cluster, missing_prerequisite, warm_up  # noqa: E402
from scripts.benchlib import (  # noqa: E402
    cpu_name,
    free_port,
    git_commit,
    interrupt_on_stop_signals,
    tail,
    uninterrupted,
    wait_until,
    write_section,
)
from scripts.cluster.haproxy import server_states  # noqa: E402

SECTION = "faults"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
RASA_PROCESSES, ACTION_SERVERS = 2, 2
MAX_TRIES = 20
RETRY_WAIT_S = 1.5
REQUEST_TIMEOUT_S = 30.0
FAULT_AT_S = 15.0
REDIS_DOWN_S = 30.0
DRAIN_S = 180.0
"""After a phase, seconds its patients have to get answers to the messages they are still sending."""
RETRYABLE = {502, 503, 504}
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
    "Where is the clinic?",
    "Can I wear makeup the next day?",
)
EMERGENCY = "my face is swelling fast and I am finding it hard to breathe since the injections"
HANDOFF = "I'd like to speak to a person please"


def say(msg: str) -> None:
    print(f"[faults] {msg}", flush=True)


# --- what was sent and what came back (pure) --------------------------------------------------------


@dataclass
class Message:
    sender: str
    message_id: str
    text: str
    channel: str
    tries: int = 0
    replied: bool = False
    fallback: bool = False
    """Answered by the channel itself (the dialogue failed or took too long): its marker was in the reply."""
    status: str = ""
    """The last answer's status, or the error, when it was not replied."""
    urgent_ok: bool = True
    """For a message with warning signs: its reply was the urgent one."""
    cursor: int = 0
    """Widget: the conversation's cursor after this message's answer."""


@dataclass
class Row:
    fault: str
    sent: int
    replied: int
    fallback: int
    resent: int
    stored: int
    lost: int
    duplicated: int
    urgent_missed: int
    notes: str = ""


def tally(fault: str, messages: Sequence[Message], stored: Counter[str], notes: str = "") -> Row:
    """One row from the messages a phase sent and the tracker store's count of each `client_message_id`."""
    sent = len(messages)
    in_store = [stored.get("client:" + m.message_id, 0) for m in messages]
    return Row(
        fault=fault,
        sent=sent,
        replied=sum(m.replied for m in messages),
        fallback=sum(m.fallback for m in messages),
        resent=sum(m.tries > 1 for m in messages),
        stored=sum(n >= 1 for n in in_store),
        lost=sum(not m.replied or n == 0 for m, n in zip(messages, in_store, strict=True)),
        duplicated=sum(n > 1 for n in in_store),
        urgent_missed=sum(not m.urgent_ok for m in messages),
        notes=notes,
    )


def report(rows: Sequence[Row], command: str, seconds: float, patients: int, phase_s: float) -> str:
    lines = [
        "## Faults under load (issue 15)",
        "",
        f"`{command}` at {git_commit()} ({time.strftime('%Y-%m-%d')}; {seconds / 60:.0f} min): {cpu_name()}, "
        f"{os.cpu_count()} cores. The cluster (`make run-cluster`: HAProxy, {RASA_PROCESSES} Rasa processes, "
        f"{ACTION_SERVERS} action servers, the console) on a PostgreSQL and a Redis of the benchmark's own. Per row, "
        f"{patients} patients (four in five on the REST channel, one in five on the widget API) write for "
        f"{phase_s:g} s, 3-15 messages each with 2-5 s between them (one conversation in 20 describes a warning "
        f"sign, one in 20 asks for a person); the fault strikes {FAULT_AT_S:g} s in. A message whose answer is "
        "lost (502, 503, 504, a broken connection) is sent again with the same `client_message_id` and "
        "`resend: true`, as the widget's Retry does.",
        "",
        "| fault | sent | replied | of which the channel's fallback | sent again | stored | lost | duplicated "
        "| urgent reply missing |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.fault} | {r.sent} | {r.replied} | {r.fallback} | {r.resent} | {r.stored} | {r.lost} "
            f"| {r.duplicated} | {r.urgent_missed} |"
        )
    notes = [f"- {r.fault}: {r.notes}" for r in rows if r.notes]
    lines += [
        "",
        "- replied: an answer with text (the channel's own reply when the dialogue failed counts, with its "
        "emergency or handoff marker); stored: the patient's message is in the tracker store (found by its "
        "`client_message_id`); lost: not replied, or replied and not stored; duplicated: stored twice; sent "
        "again: messages that needed a resend (their first answer was lost); the channel's fallback is counted on "
        "the REST channel (the widget API does not show why a reply was given).",
        "- Targets (issue 15): 0 lost and 0 duplicated in every row; an urgent reply for every warning sign.",
        *notes,
    ]
    return "\n".join(lines)


# --- private PostgreSQL and Redis ---------------------------------------------------------------------


def as_postgres(cmd: Sequence[str | Path], **kw: Any) -> subprocess.CompletedProcess[str]:
    """A PostgreSQL server program as the `postgres` account (initdb refuses to run as root)."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *map(str, cmd)], check=True, capture_output=True, text=True, **kw)


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/meso_faults"

    def pg_ctl(self, *args: str) -> None:
        as_postgres(
            [PG_BIN / "pg_ctl", "-D", self.folder / "data", "-l", self.folder / "server.log", *args], timeout=120
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-o", opts, "-w", "start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.pg_ctl("-m", "immediate", "-w", "stop")


@contextlib.contextmanager
def private_postgres(tmp: Path) -> Iterator[Postgres]:
    folder = tmp / "pg"
    folder.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    pg = Postgres(folder, free_port())
    as_postgres([PG_BIN / "initdb", "-D", folder / "data", "-U", "postgres", "-A", "trust"], timeout=300)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()


@dataclass
class Redis:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/1"

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
        )
        from scripts.cluster.stores import StoreUnavailable, check_redis

        def answers() -> bool:
            try:
                check_redis(self.url)
                return True
            except StoreUnavailable:
                return False

        wait_until(answers, timeout=30, proc=self.process, what="redis-server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@contextlib.contextmanager
def private_redis(tmp: Path) -> Iterator[Redis]:
    folder = tmp / "redis"
    folder.mkdir()
    redis = Redis(folder, free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


# --- the patients --------------------------------------------------------------------------------------


@dataclass
class WidgetChat:
    """One widget conversation: its session and how far the patient has read."""

    client: httpx.AsyncClient
    host: str
    headers: dict[str, str]
    cursor: int = 0

    def poster(self, message: Message) -> Callable[[bool], Any]:
        def post(resend: bool) -> Any:
            body = {"message": message.text, "consent": True, "after": self.cursor,
                    "client_message_id": message.message_id, "resend": resend}  # fmt: skip
            return self.client.post(f"{self.host}/webhooks/webchat/webhook", json=body, headers=self.headers)

        return post


@dataclass
class Load:
    host: str
    until: float
    """Monotonic time after which no conversation starts a new message."""
    messages: list[Message] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(15))

    def script(self) -> list[str]:
        n = self.rng.randint(3, 15)
        texts = [self.rng.choice(QUESTIONS) for _ in range(n)]
        roll = self.rng.random()
        if roll < 0.05:
            texts[self.rng.randrange(n)] = EMERGENCY
        elif roll < 0.10:
            texts[self.rng.randrange(n)] = HANDOFF
        return texts

    async def send(self, client: httpx.AsyncClient, message: Message, post: Callable[[bool], Any]) -> None:
        """Sends until answered (a lost answer: again, with `resend: true`), at most MAX_TRIES times."""
        while message.tries < MAX_TRIES:
            message.tries += 1
            try:
                response = await post(message.tries > 1)
            except httpx.HTTPError as exc:
                message.status = type(exc).__name__
                await asyncio.sleep(RETRY_WAIT_S)
                continue
            message.status = str(response.status_code)
            if response.status_code in RETRYABLE:
                await asyncio.sleep(RETRY_WAIT_S)
                continue
            if response.status_code == 200:
                self.read_answer(message, response.json())
            return

    def read_answer(self, message: Message, body: Any) -> None:
        if message.channel == "rest":
            texts = [m.get("text") for m in body if isinstance(m, dict) and m.get("text")]
            metas = [m["custom"]["meta"] for m in body if isinstance(m.get("custom"), dict) and "meta" in m["custom"]]
            meta = metas[-1] if metas else {}
            kind = meta.get("kind")
            message.fallback = meta.get("reason") == "channel_fallback"
        else:
            texts = [m.get("text") for m in body.get("messages", []) if m.get("role") == "bot" and m.get("text")]
            kind = body.get("kind")
            message.cursor = int(body.get("cursor") or 0)
            message.fallback = False  # the widget API shows the kind only
        message.replied = bool(texts)
        if message.text == EMERGENCY:
            message.urgent_ok = kind == "emergency"

    async def rest_patient(self, client: httpx.AsyncClient) -> None:
        while time.monotonic() < self.until:
            sender = f"fault-{uuid.uuid4().hex[:12]}"
            for text in self.script():
                if time.monotonic() >= self.until:
                    return
                message = Message(sender, uuid.uuid4().hex, text, "rest")
                self.messages.append(message)

                def post(resend: bool, m: Message = message) -> Any:
                    body = {"sender": m.sender, "message": m.text, "metadata": {"consent": True},
                            "client_message_id": m.message_id, "resend": resend}  # fmt: skip
                    return client.post(f"{self.host}/webhooks/rest/webhook", json=body)

                await self.send(client, message, post)
                await asyncio.sleep(self.rng.uniform(2, 5))

    async def widget_patient(self, client: httpx.AsyncClient) -> None:
        while time.monotonic() < self.until:
            token = await self.session(client)
            if token is None:
                await asyncio.sleep(RETRY_WAIT_S)
                continue
            chat = WidgetChat(client, self.host, {"Authorization": f"Bearer {token}"})
            for text in self.script():
                if time.monotonic() >= self.until:
                    return
                message = Message(f"widget-{token[:8]}", uuid.uuid4().hex, text, "widget")
                self.messages.append(message)
                await self.send(client, message, chat.poster(message))
                chat.cursor = max(chat.cursor, message.cursor)
                await asyncio.sleep(self.rng.uniform(2, 5))

    async def session(self, client: httpx.AsyncClient) -> str | None:
        try:
            response = await client.post(f"{self.host}/webhooks/webchat/session", json={"consent": True})
        except httpx.HTTPError:
            return None
        return response.json().get("session") if response.status_code == 201 else None


async def run_load(host: str, patients: int, seconds: float, fault: Callable[[], None] | None) -> list[Message]:
    """`patients` patients for `seconds`, the fault (in a thread) FAULT_AT_S in; then every message still being
    sent gets up to DRAIN_S to be answered."""
    load = Load(host, time.monotonic() + seconds)
    limits = httpx.Limits(max_connections=patients + 10)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, limits=limits) as client:
        tasks = [
            asyncio.create_task(load.widget_patient(client) if i % 5 == 4 else load.rest_patient(client))
            for i in range(patients)
        ]
        if fault is not None:
            await asyncio.sleep(FAULT_AT_S)
            await asyncio.to_thread(fault)
        await asyncio.wait(tasks, timeout=seconds + DRAIN_S)
        for task in tasks:
            task.cancel()
    return load.messages


# --- faults -------------------------------------------------------------------------------------------


def service_pid(log: Path, name: str) -> int:
    """The pid of a cluster service as its log last named it (`starting Rasa 1 (pid 123...`)."""
    found = re.findall(rf"(?:starting|restarting) {re.escape(name)} \(pid (\d+)", log.read_text(errors="replace"))
    if not found:
        raise RuntimeError(f"no pid for {name} in {log}")
    return int(found[-1])


BUSY_WAIT_S = 15.0


def kill_when_busy(sock: Path, log: Path, server: str, service: str, notes: list[str]) -> None:
    """SIGKILL to a cluster service at a moment HAProxy has a request on it (`server`: backend/name), so the
    kill lands in the middle of a turn; after BUSY_WAIT_S without one, killed all the same (said in `notes`)."""
    deadline = time.monotonic() + BUSY_WAIT_S
    busy = False
    while time.monotonic() < deadline and not busy:
        with contextlib.suppress(OSError):
            busy = any(f"{s.backend}/{s.server}" == server and s.current > 0 for s in server_states(sock))
        if not busy:
            time.sleep(0.01)
    os.kill(service_pid(log, service), signal.SIGKILL)
    notes.append(f"{service} killed {'with a request on it' if busy else 'while idle'}")


def all_up(sock: Path) -> bool:
    try:
        states = server_states(sock)
    except OSError:
        return False
    return bool(states) and all(s.status == "UP" for s in states)


def stored_ids(url: str) -> Counter[str]:
    """How many times each patient message id is in the tracker store."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT data FROM events WHERE type_name = 'user'")).scalars().all()
    finally:
        engine.dispose()
    return Counter(str(json.loads(row).get("message_id") or "") for row in rows)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--report", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--patients", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=75.0, help="seconds of load per fault (default 75)")
    ap.add_argument("--only", default="", help="comma-separated fault keys (none,rasa,actions,postgres,redis)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    command = shlex.join([".venv/bin/python", "scripts/bench_faults.py", *(sys.argv[1:] if argv is None else argv)])
    problem = missing_prerequisite(locust=False)
    if problem is None and not (PG_BIN / "initdb").exists():
        problem = f"PostgreSQL's server programs are not in {PG_BIN} (Debian's postgresql package)"
    if problem is None and shutil.which("redis-server") is None:
        problem = "redis-server is missing (Debian's redis-server package)"
    if problem:
        print(f"[faults] error: {problem}", file=sys.stderr)
        return 1

    interrupt_on_stop_signals()
    t_all = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench_faults_"))
    os.chmod(tmp, 0o755)  # the postgres account reaches its folder inside
    bench = Bench(argparse.Namespace(), Plan(patients=(), ramp_s=0, steady_s=0), tmp)
    rows: list[Row] = []
    try:
        with private_postgres(tmp) as pg, private_redis(tmp) as redis:
            stores = {"MESO_TRACKER_DB_URL": pg.url, "MESO_LOCK_STORE_URL": redis.url}
            say(f"PostgreSQL on :{pg.port}, Redis on :{redis.port}; starting the cluster ...")
            with cluster(bench, RASA_PROCESSES, ACTION_SERVERS, stores) as (host, env, ready_s):
                say(f"cluster ready in {ready_s:.0f} s on {host}")
                log = Path(env["MESO_CLUSTER_RUN_DIR"]).parent / "cluster.log"
                sock = Path(env["MESO_CLUSTER_RUN_DIR"]) / "haproxy.sock"
                warm_up(host, 3 * RASA_PROCESSES)

                def redis_outage() -> None:
                    redis.stop()
                    time.sleep(REDIS_DOWN_S)
                    redis.start()

                notes: list[str] = []
                faults: list[tuple[str, str, Callable[[], None] | None]] = [
                    ("none", "none (for comparison)", None),
                    (
                        "rasa",
                        "a Rasa process killed (SIGKILL)",
                        lambda: kill_when_busy(sock, log, "rasa/rasa1", "Rasa 1", notes),
                    ),
                    (
                        "actions",
                        "an action server killed (SIGKILL)",
                        lambda: kill_when_busy(sock, log, "actions/actions1", "action server 1", notes),
                    ),
                    ("postgres", "PostgreSQL restarted (pg_ctl restart -m fast)", pg.restart),
                    ("redis", f"Redis stopped for {REDIS_DOWN_S:g} s", redis_outage),
                ]
                chosen = {k for k in args.only.split(",") if k} or {k for k, _, _ in faults}
                for key, name, fault in faults:
                    if key not in chosen:
                        continue
                    wait_until(lambda: all_up(sock), timeout=600, what="every backend UP in HAProxy")
                    say(f"{name}: {args.patients} patients for {args.seconds:g} s ...")
                    t0 = time.monotonic()
                    notes.clear()
                    messages = asyncio.run(run_load(host, args.patients, args.seconds, fault))
                    row = tally(name, messages, stored_ids(pg.url), "; ".join(notes))
                    rows.append(row)
                    say(
                        f"  {row.sent} sent, {row.replied} replied ({row.fallback} fallback), {row.resent} sent "
                        f"again, {row.stored} stored, {row.lost} lost, {row.duplicated} duplicated "
                        f"({time.monotonic() - t0:.0f} s)"
                    )
                    problems = Counter(m.status for m in messages if not m.replied)
                    if problems:
                        row.notes = "; ".join(
                            [*notes, "not replied: " + ", ".join(f"{n} × {s}" for s, n in problems.most_common(5))]
                        )
                    if row.notes:
                        say(f"  {row.notes}")
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
    section = report(rows, command, time.monotonic() - t_all, args.patients, args.seconds)
    write_section(Path(args.report), SECTION, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
