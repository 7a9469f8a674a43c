"""Staff console benchmark: how the conversation list, search, transcript, knowledge gaps and
export behave with tens of thousands of conversations in the tracker store. Seeds a private
database with Rasa-shaped events, drives the real app through FastAPI's TestClient (no network),
and writes its section of the benchmark report.

    .venv/bin/python scripts/bench_console.py [--conversations 20000] [--db sqlite|postgresql]
        [--report docs/benchmarks.md]

A quick check that it still runs (seconds): --conversations 50 --report /tmp/console.md
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from console.accounts import create_user
from console.app import create_app
from console.tracker_store import events, metadata, tracker_engine
from core.settings import Settings
from scripts.benchlib import write_section

PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c"]
PASSWORD = "a long enough passphrase 0123"
QUESTIONS = [
    ("does it hurt?", "answer", 0.9),
    ("how much does a session cost", "answer", 0.85),
    ("how long does the swelling last", "answer", 0.8),
    ("can it fix my double chin", "clarify", 0.4),
    ("I take warfarin, can I have it?", "handoff", 0.0),
    ("what is the weather tomorrow", "out_of_scope", 0.1),
    ("is it better than botox", "answer", 0.55),
    ("my lips are swelling and I can't breathe", "emergency", 0.0),
]
CHANNELS = ["webchat", "telegram", "whatsapp", "rest"]


def seed(url: str, conversations: int, rng: random.Random) -> int:
    engine = tracker_engine(url)
    metadata.create_all(engine)
    clock = time.time() - 90 * 86400
    rows: list[dict[str, object]] = []
    total = 0
    with engine.begin() as conn:
        for n in range(conversations):
            channel = rng.choice(CHANNELS)
            sender = {"webchat": "web-", "telegram": "tg-", "whatsapp": "wa-", "rest": "rest-"}[channel] + f"{n:016d}"
            for _ in range(rng.randint(1, 3)):
                text, kind, confidence = rng.choice(QUESTIONS)
                clock += 0.4
                for type_name, data in (
                    ("user", {"text": text, "input_channel": channel}),
                    ("bot", {"text": "A curated answer with its disclaimer.", "data": {}}),
                    (
                        "bot",
                        {
                            "data": {
                                "custom": {
                                    "meta": {
                                        "kind": kind,
                                        "topics": [],
                                        "passage_ids": [],
                                        "confidence": confidence,
                                        "disclaimer": True,
                                        "handoff": kind in ("handoff", "emergency"),
                                    }
                                }
                            }
                        },
                    ),
                ):
                    rows.append(
                        {
                            "sender_id": sender,
                            "type_name": type_name,
                            "timestamp": clock,
                            "data": json.dumps({"event": type_name, "timestamp": clock, **data}),
                        }
                    )
                if kind in ("handoff", "emergency"):
                    rows.append(
                        {
                            "sender_id": sender,
                            "type_name": "slot",
                            "timestamp": clock,
                            "data": json.dumps({"event": "slot", "name": "handoff", "value": True}),
                        }
                    )
            if len(rows) > 20_000:
                conn.execute(events.insert(), rows)
                total += len(rows)
                rows = []
        if rows:
            conn.execute(events.insert(), rows)
            total += len(rows)
    return total


def timed(call: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """Median and worst of `repeat` runs, in milliseconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def get(client: TestClient, path: str, **params: str | int | bool) -> Callable[[], object]:
    def call() -> object:
        response = client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response

    return call


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A private, empty database: an SQLite file in `folder`, or a new PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"meso_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run([*PSQL, f"create database {name}"], check=True)
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        tracker_engine(url).dispose()
        from console.db import session_factory

        session_factory(url).kw["bind"].dispose()
        subprocess.run([*PSQL, f"drop database if exists {name} with (force)"], check=False)


def open_console(url: str) -> TestClient:
    """The real app on the seeded database, logged in as an admin."""
    settings = Settings(console_db_url=url, tracker_db_url=url, retention_interval_minutes=0)
    client = TestClient(create_app(settings))
    create_user(url, "bench", PASSWORD, "admin")
    response = client.post("/api/auth/login", json={"username": "bench", "password": PASSWORD})
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def dashboard_call(client: TestClient) -> Callable[[], object]:
    """The dashboard over 30 days from the day before the seeded conversations start (seed: 90 days ago)."""
    first = datetime.date.fromtimestamp(time.time() - 91 * 86400)
    return get(
        client, "/api/dashboard", **{"from": first.isoformat(), "to": (first + datetime.timedelta(days=29)).isoformat()}
    )


def measure(client: TestClient) -> list[tuple[str, tuple[float, float]]]:
    return [
        ("list, page 1 (50 newest)", timed(get(client, "/api/conversations"))),
        ("list, page 200", timed(get(client, "/api/conversations", page=200))),
        ("list, kind=handoff", timed(get(client, "/api/conversations", kind="handoff"))),
        (
            "list, channel=telegram, not reviewed",
            timed(get(client, "/api/conversations", channel="telegram", reviewed=False)),
        ),
        ('list, text search "warfarin"', timed(get(client, "/api/conversations", q="warfarin"))),
        ("transcript", timed(get(client, f"/api/conversations/web-{1:016d}"))),
        ("handoff queue", timed(get(client, "/api/handoffs"))),
        ("dashboard, 30 days holding every conversation (target: under 1 s)", timed(dashboard_call(client), repeat=3)),
        ("knowledge gaps (2000 most recent)", timed(get(client, "/api/gaps"), repeat=3)),
        ("export CSV, kind=emergency", timed(get(client, "/api/export", kind="emergency"), repeat=1)),
        ("export JSONL, everything", timed(get(client, "/api/export", format="jsonl"), repeat=1)),
    ]


def run(url: str, args: argparse.Namespace, rng: random.Random) -> str:
    """Seed, open, the first list (the index sync), every timed call; the report section."""
    t0 = time.perf_counter()
    count = seed(url, args.conversations, rng)
    seeded = time.perf_counter() - t0
    client = open_console(url)
    t0 = time.perf_counter()
    get(client, "/api/conversations")()
    first_sync = time.perf_counter() - t0
    results = measure(client)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    handoffs = client.get("/api/handoffs").json()["total"]
    return report(args, count, seeded, first_sync, results, handoffs, peak_mib)


def report(
    args: argparse.Namespace,
    count: int,
    seeded: float,
    first_sync: float,
    results: list[tuple[str, tuple[float, float]]],
    handoffs: int,
    peak_mib: float,
) -> str:
    lines = [
        "## Staff console (issue 5)",
        "",
        f"`scripts/bench_console.py --conversations {args.conversations} --db {args.db}` "
        f"({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, {platform.machine()}): "
        f"{args.conversations} conversations ({count} tracker events, {handoffs} waiting for a clinician) "
        f"seeded in {seeded:.1f} s, then the real app driven through FastAPI's TestClient as an admin "
        "(so the time includes the login check, the incremental index sync and the audit entry of each call; "
        "no network).",
        "",
        f"- First list after seeding (indexes every event once): {first_sync:.1f} s",
        "",
        "| call | median ms | worst ms |",
        "|---|---:|---:|",
        *(f"| {name} | {median:.0f} | {worst:.0f} |" for name, (median, worst) in results),
        "",
        f"- Peak memory of the process (seeding, app, all calls): {peak_mib:.0f} MiB",
        "- Exports stream in batches of 200 conversations; the full export's time is for the whole file.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--report", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as url:
        section = run(url, args, random.Random(7))
    write_section(args.report, "console", section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
