"""Server-issued web widget sessions (bot/channels/webchat_sessions.py) on SQLite and PostgreSQL: only
the token's hash is stored, the sender id is the server's, a made-up or ended token opens nothing,
and an unused session ends. The HTTP side is tested against the real servers in
tests/e2e/test_security_widget.py."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.channels import webchat_sessions
from bot.channels.webchat_sessions import TOUCH_SECONDS, WidgetSessions, sessions, token_hash


@pytest.fixture
def store(db_url: str) -> Iterator[WidgetSessions]:
    store = WidgetSessions(db_url, idle_days=30)
    yield store
    store.engine.dispose()


def rows(store: WidgetSessions) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(sa.select(sessions))]


def test_only_the_hash_is_stored_and_the_sender_id_is_the_servers(store: WidgetSessions):
    issued = store.issue()
    assert len(issued.token) == 43 and issued.sender_id.startswith("web-") and len(issued.sender_id) == 20
    (row,) = rows(store)
    assert row["token_hash"] == token_hash(issued.token) and row["sender_id"] == issued.sender_id
    assert issued.token not in str(row) and issued.token[:16] not in issued.sender_id
    assert store.resolve(issued.token) == issued.sender_id


def test_made_up_leaked_or_ended_keys_open_nothing(store: WidgetSessions):
    issued = store.issue()
    other = store.issue()
    assert other.sender_id != issued.sender_id
    assert store.resolve(issued.sender_id) is None  # the sender id is not a key
    assert store.resolve(issued.sender_id[4:]) is None
    assert store.resolve(token_hash(issued.token)) is None  # nor is the stored hash
    assert store.resolve("A" * 43) is None
    assert store.resolve(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")) is None
    assert store.resolve("") is None and store.resolve("x" * 5000) is None
    assert store.end(issued.token) is True
    assert store.resolve(issued.token) is None and store.end(issued.token) is False
    assert store.resolve(other.token) == other.sender_id  # one patient ending theirs ends no one else's


def test_an_unused_session_ends_and_use_keeps_it(store: WidgetSessions, monkeypatch):
    issued = store.issue()
    now = time.time()
    monkeypatch.setattr(webchat_sessions.time, "time", lambda: now + 29 * 86400)
    assert store.resolve(issued.token) == issued.sender_id  # used on day 29: kept another 30 days
    (row,) = rows(store)
    assert row["last_seen_at"] == pytest.approx(now + 29 * 86400)
    monkeypatch.setattr(webchat_sessions.time, "time", lambda: now + 29 * 86400 + TOUCH_SECONDS / 2)
    store.resolve(issued.token)
    assert rows(store)[0]["last_seen_at"] == pytest.approx(now + 29 * 86400)  # not written on every poll
    monkeypatch.setattr(webchat_sessions.time, "time", lambda: now + 60 * 86400)
    assert store.resolve(issued.token) is None
    assert rows(store) == []


def test_ended_sessions_are_swept(store: WidgetSessions, monkeypatch):
    old = [store.issue() for _ in range(3)]
    later = time.time() + 31 * 86400
    monkeypatch.setattr(webchat_sessions.time, "time", lambda: later)
    fresh = store.issue()
    assert store.forget_idle() == 3
    assert [r["sender_id"] for r in rows(store)] == [fresh.sender_id]
    assert all(store.resolve(i.token) is None for i in old)


def test_the_table_is_made_on_first_use_beside_other_tables(db_url: str):
    store = WidgetSessions(db_url, idle_days=1)
    assert store._engine is None  # nothing touched the database at construction (Rasa starts without it)
    store.issue()
    assert "webchat_sessions" in sa.inspect(store.engine).get_table_names()
    store.engine.dispose()
