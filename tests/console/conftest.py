"""Console API tests on a real database: SQLite always, and the local PostgreSQL. The PostgreSQL
cases are marked `postgres` (tests/conftest.py): without a reachable PostgreSQL they skip, saying
why, unless MESO_REQUIRE_POSTGRES=1 (CI sets it), when they fail."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from console.accounts import create_user
from console.app import create_app
from core.settings import Settings

PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-tA", "-d", "postgres", "-c"]
PG_URL = "postgresql://postgres@127.0.0.1:5432/"
PASSWORD = "a long enough passphrase"
STAFF = (("ada", "admin"), ("rita", "reviewer"), ("cleo", "clinician"))


def psql(sql: str) -> None:
    subprocess.run([*PG, sql], capture_output=True, text=True, check=True, timeout=30)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """Argon2 with its smallest cost in these tests (a real hash costs ~0.2 s and each test makes a
    few). Verification reads the cost from the hash itself, so behaviour is the same."""
    from argon2 import PasswordHasher

    from console import security

    real = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    security._hasher = real


def _prepare(url: str) -> None:
    """The console's tables (the migrations, as create_app runs them) and the three staff accounts
    (as `python -m console create-user` makes them); then every connection to it closed."""
    from console.db import session_factory

    for username, role in STAFF:
        create_user(url, username, PASSWORD, role)
    session_factory(url).kw["bind"].dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, cheap_password_hashing) -> Path:
    """A migrated SQLite database with the staff accounts, made once and copied for each test:
    running the migrations and making the accounts for every test is most of their time."""
    path = tmp_path_factory.mktemp("template") / "console.db"
    _prepare(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(cheap_password_hashing) -> Iterator[str]:
    """The same as a PostgreSQL database, the template each test's database is created from."""
    name = f"meso_console_template_{uuid.uuid4().hex[:8]}"
    psql(f"create database {name}")
    try:
        _prepare(PG_URL + name)
        yield name
    finally:
        psql(f"drop database if exists {name} with (force)")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A database of the test's own, migrated, with the staff accounts of STAFF."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "console.db")
        yield f"sqlite:///{tmp_path / 'console.db'}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"meso_console_{uuid.uuid4().hex[:8]}"
    try:
        psql(f"create database {name} template {template}")
    except (OSError, subprocess.CalledProcessError) as exc:  # reachable (checked before setup), yet refused
        pytest.fail(f"could not create a database in the local PostgreSQL (127.0.0.1:5432, user postgres): {exc}")
    yield PG_URL + name
    from console.db import session_factory

    session_factory(PG_URL + name).kw["bind"].dispose()
    psql(f"drop database if exists {name} with (force)")


@dataclass
class Console:
    client: TestClient
    settings: Settings

    def login(self, username: str, password: str = PASSWORD) -> dict:
        response = self.client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return response.json()

    def as_new_client(self) -> TestClient:
        return TestClient(self.client.app)


@pytest.fixture()
def console(db_url, tmp_path) -> Console:
    # the console's tables beside Rasa's events table, in the same database
    settings = Settings(console_db_url=db_url, tracker_db_url=db_url, alerts_file=tmp_path / "alerts.jsonl")
    return Console(TestClient(create_app(settings)), settings)


class Tracker:
    """Writes Rasa-shaped events into the tracker store's `events` table, as Rasa's SQL store does."""

    def __init__(self, url: str) -> None:
        from console.tracker_store import events, metadata, tracker_engine

        self.engine, self.events = tracker_engine(url), events
        metadata.create_all(self.engine)
        self.clock = 1_790_000_000.0

    def add(self, sender: str, type_name: str, at: float | None = None, **data) -> None:
        import json

        self.clock = at if at is not None else self.clock + 1
        with self.engine.begin() as conn:
            conn.execute(
                self.events.insert().values(
                    sender_id=sender,
                    type_name=type_name,
                    timestamp=self.clock,
                    data=json.dumps({"event": type_name, "timestamp": self.clock, **data}),
                )
            )

    def turn(self, sender: str, text: str, reply: str, kind: str = "answer", channel: str = "rest", **meta) -> None:
        self.add(sender, "user", text=text, input_channel=channel, parse_data={"intent": {"name": "ask_question"}})
        self.add(sender, "bot", text=reply, data={"buttons": None})
        full = {"kind": kind, "topics": [], "passage_ids": [], "confidence": 0.9, "disclaimer": True, "handoff": False}
        full.update(meta)
        self.add(sender, "bot", text=None, data={"custom": {"meta": full}})
        if full["handoff"]:
            self.add(sender, "slot", name="handoff", value=True)


@pytest.fixture()
def tracker(console) -> Tracker:
    return Tracker(console.settings.tracker_db_url)


@pytest.fixture()
def conversations(console, tracker):
    tracker.turn(
        "web-aaaaaaaaaaaaaaaa",
        "does it hurt?",
        "Most people feel mild stinging.",
        channel="webchat",
        topics=["pain"],
        passage_ids=["pain-01"],
    )
    tracker.turn(
        "tg-1001",
        "I take warfarin, can I have it?",
        "A clinician will reply here.",
        kind="handoff",
        channel="telegram",
        handoff=True,
        disclaimer=True,
    )
    tracker.turn(
        "wa-4477", "my throat is swelling", "Call 112 now.", kind="emergency", channel="whatsapp", handoff=True
    )
    tracker.turn("rest-1", "blah", "Which of these do you mean?", kind="clarify", confidence=0.3)
    tracker.add("tg-1001", "bot", text="Hello, Dr Rao here.", metadata={"staff_reply": True, "author": "dr.rao"})
    console.login("rita")
    return tracker


def listed(console, **params) -> list[str]:
    response = console.client.get("/api/conversations", params=params)
    assert response.status_code == 200, response.text
    return [c["sender_id"] for c in response.json()["items"]]
