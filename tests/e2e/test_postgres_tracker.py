"""Production-like storage: the assistant on the local PostgreSQL tracker store with the Redis lock
store (what several Rasa replicas need). The conversation, with its reply metadata, lands in
PostgreSQL. Uses the psql client; the local PostgreSQL and Redis must be running (they are on
these machines and on CI)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from tests.e2e.conftest import channel_settings, meta_of, start_assistant
from tests.e2e.test_telegram import Chat, post_update

pytestmark = pytest.mark.slow
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-tA"]


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run([*PG, "-d", db, "-c", sql], capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.fixture(scope="module")
def pg_assistant(tmp_path_factory, platforms):
    if shutil.which("psql") is None:
        pytest.fail("psql is needed for the PostgreSQL tracker-store test")
    try:
        psql("select 1")
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"the local PostgreSQL (127.0.0.1:5432, user postgres) is not reachable: {exc.stderr}")
    db = f"meso_e2e_{uuid.uuid4().hex[:8]}"
    psql(f"create database {db}")
    servers = start_assistant(
        tmp_path_factory.mktemp("e2e-pg"),
        MESO_TRACKER_DB_URL=f"postgresql://postgres@127.0.0.1:5432/{db}",
        MESO_LOCK_STORE_URL="redis://127.0.0.1:6379/3",
        **channel_settings(platforms),
    )
    try:
        yield next(servers), db
        next(servers, None)  # Ctrl-C and the clean-stop checks
    finally:
        psql(f"drop database if exists {db} with (force)")


def test_conversation_is_stored_in_postgres(pg_assistant):
    assistant, db = pg_assistant
    sender = f"pg-{uuid.uuid4().hex[:8]}"
    status, messages = assistant.post(sender, "how many sessions are usually needed")
    assert status == 200 and (meta_of(messages) or {}).get("kind") == "answer"
    status, messages = assistant.post(sender, "my tongue is swelling and I can hardly breathe")
    assert status == 200 and (meta_of(messages) or {}).get("kind") == "emergency"
    rows = psql(f"select data from events where sender_id = '{sender}' and type_name = 'bot'", db).splitlines()
    metas = [((json.loads(r).get("data") or {}).get("custom") or {}).get("meta") for r in rows if r.strip()]
    kinds = [m["kind"] for m in metas if m]
    assert kinds == ["answer", "emergency"]


def test_replayed_telegram_updates_are_remembered_in_postgres(pg_assistant, platforms):
    """Replay protection lives in the shared database, so it holds across Rasa replicas."""
    assistant, db = pg_assistant
    chat = Chat(assistant, platforms)
    update = chat.message(text="Hello there")
    for _ in range(3):
        status, _ = post_update(assistant, update)
        assert status == 200
    assert platforms.wait_for(platforms.telegram(chat.chat_id), settle=2.0)
    users = psql(f"select count(*) from events where sender_id = '{chat.sender}' and type_name = 'user'", db)
    assert users.strip() == "1"
    claimed = psql(
        f"select count(*) from channel_deliveries where channel = 'telegram' and delivery_id = '{update['update_id']}'",
        db,
    )
    assert claimed.strip() == "1"
