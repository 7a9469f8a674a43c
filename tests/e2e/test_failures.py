"""The gate fails closed, against the real servers started by scripts/run.sh: what a patient, the
clinic's staff and the operator see when a part of the assistant fails.

- The action server is killed: warning signs still get urgent-care instructions within the dialogue
  time limit, an emergency staff alert, and a conversation that the staff console lists as an
  emergency waiting for a clinician and the widget shows after a reload; an ordinary question gets
  the polite fallback, also recorded. run.sh restarts the action server (it says so) while Rasa keeps
  serving, and answers are normal again afterwards.
- The action server hangs (SIGSTOP): the patient gets the fallback within the time limit, not after
  Rasa's 5 minutes, and never a second reply once the action server wakes up.
- The tracker database is locked, or accepts reads but no writes: the patient gets the fallback,
  staff are alerted, and Rasa never switches to memory: once the database is back the conversation
  is where it was (a handed-off patient stays with staff).
- Rasa refuses to start on a tracker database it cannot write to, with a clear message.

These tests stop, kill and lock parts of the assistant, so they use their own instance.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from core.clinic import load_clinic
from core.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import MODEL, TOKEN, Assistant, free_port, meta_of, own_session, start_assistant, texts_of
from tests.e2e.webchat import WebChat

pytestmark = pytest.mark.slow

TIME_LIMIT = 4.0  # MESO_DIALOGUE_TIMEOUT_SECONDS for this module's assistant
SLACK = 6.0  # the channel's own work after the limit: letting the turn unwind, storing, a slow machine
SQLITE_BUSY = 5.0  # how long Rasa's SQLite connection waits for a lock before it fails
CLINIC = load_clinic(Settings().clinic_file)
STAFF, PASSWORD = "dr.failures", "a staff passphrase for failures"

URGENT = "my lips and throat are swelling up after the injections and I can't breathe properly"
ORDINARY = "How long does one session take?"
PERSONAL = "I take isotretinoin tablets, can I have mesotherapy next week?"
PRICE = "what does it cost?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    yield from start_assistant(
        tmp_path_factory.mktemp("failures"),
        MESO_DIALOGUE_TIMEOUT_SECONDS=str(TIME_LIMIT),
        MESO_TRACKER_START_TIMEOUT_SECONDS="5",
    )


# ---------------------------------------------------------------- helpers


def new_sender(prefix: str = "fail") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def children(parent: int) -> dict[int, str]:
    """The processes started by `parent` (here: scripts/run.sh), pid -> command line."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found[int(entry.name)] = cmdline
    return found


def server_pid(assistant: Assistant, marker: str) -> int:
    pids = [pid for pid, cmd in children(assistant.process.pid).items() if marker in cmd]
    assert len(pids) == 1, f"expected one {marker!r} process under run.sh, found {children(assistant.process.pid)}"
    return pids[0]


def action_server_pid(assistant: Assistant) -> int:
    return server_pid(assistant, "actions.server")


def rasa_pid(assistant: Assistant) -> int:
    return server_pid(assistant, "bot.rasa_run run")


def healthy(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).close()
        return True
    except OSError:
        return False


def wait_for(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


def run_log(assistant: Assistant) -> str:
    return assistant.log.read_text(errors="replace")


def rasa_log(assistant: Assistant) -> str:
    return (Path(assistant.env["MESO_RASA_RUN_DIR"]) / "logs" / "rasa.log").read_text(errors="replace")


def alerts_for(assistant: Assistant, sender: str) -> list[dict[str, Any]]:
    if not assistant.alerts_file.exists():
        return []
    lines = assistant.alerts_file.read_text(encoding="utf-8").splitlines()
    return [a for a in map(json.loads, lines) if a["sender_id"] == sender]


def events(assistant: Assistant, sender: str) -> list[dict[str, Any]]:
    """Every stored event of a conversation, read straight from the tracker database."""
    with sqlite3.connect(assistant.tracker_db, timeout=30) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [json.loads(row[0]) for row in rows]


def stored_meta(event: dict[str, Any]) -> dict[str, Any] | None:
    meta = ((event.get("data") or {}).get("custom") or {}).get("meta") if event.get("event") == "bot" else None
    return meta if isinstance(meta, dict) else None


def metas(turn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [meta for meta in map(stored_meta, turn) if meta is not None]


def replies_to(stored: list[dict[str, Any]], text: str) -> list[list[dict[str, Any]]]:
    """For each time the patient's `text` is stored: the bot events up to the next patient message."""
    turns: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] | None = None
    for event in stored:
        if event.get("event") == "user":
            current = [] if event.get("text") == text else None
            if current is not None:
                turns.append(current)
        elif event.get("event") == "bot" and current is not None:
            current.append(event)
    return turns


def ask(assistant: Assistant, sender: str, text: str) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    started = time.monotonic()
    status, messages = assistant.post(sender, text)
    assert status == 200, messages
    meta = meta_of(messages)
    assert meta is not None, messages
    return messages, meta, time.monotonic() - started


def widget_says(chat: WebChat, text: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    result = chat.say(text)
    return result, time.monotonic() - started


def bot_texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages if m["role"] == "bot")


def staff_session(assistant: Assistant) -> urllib.request.OpenerDirector:
    """A clinician logged in to the staff console (the account made with the command line, as an admin would)."""
    made = subprocess.run(
        [sys.executable, "-m", "console", "create-user", STAFF, "--role", "clinician", "--password-stdin"],
        input=PASSWORD + "\n",
        env=assistant.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0 or "exists" in made.stderr + made.stdout, made.stderr
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login = urllib.request.Request(
        assistant.console_url + "/api/auth/login",
        data=json.dumps({"username": STAFF, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    opener.open(login, timeout=30).close()
    return opener


def console_get(opener: urllib.request.OpenerDirector, url: str) -> Any:
    with opener.open(url, timeout=60) as response:
        return json.loads(response.read())


@contextmanager
def paused(pid: int) -> Iterator[None]:
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def locked_database(path: Path, mode: str) -> Iterator[None]:
    """Holds an SQLite lock on the tracker database: EXCLUSIVE (nothing can be read or written) or
    IMMEDIATE (reads work, writes wait: the database is read-only for everyone else)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute(f"BEGIN {mode}")
        yield
    finally:
        db.execute("ROLLBACK")
        db.close()


# ---------------------------------------------------------------- the action server is killed


def test_killed_action_server_urgent_path_is_answered_recorded_and_restarted(assistant: Assistant):
    """run.sh is paused while the action server is down, so the test decides when it comes back."""
    chat = WebChat.start(assistant.url)
    web_sender = chat.sender_id
    rest_sender = new_sender()
    rasa_before = rasa_pid(assistant)
    with paused(assistant.process.pid):
        os.kill(action_server_pid(assistant), signal.SIGKILL)
        wait_for(lambda: not healthy(assistant.action_url + "/health"), 10, "the action server going away")

        # A patient with warning signs, in the web widget: urgent care at once, marked as an emergency.
        result, took = widget_says(chat, URGENT)
        assert took < TIME_LIMIT + SLACK
        assert result["kind"] == "emergency"
        assert CLINIC.emergency_number in bot_texts(result["messages"])
        # An ordinary question, on the REST channel: the polite fallback, with its metadata.
        messages, meta, took = ask(assistant, rest_sender, ORDINARY)
        assert took < TIME_LIMIT + SLACK
        assert meta["kind"] == "clarify" and meta["reason"] == "channel_fallback"
        assert texts_of(messages).strip()
        # A personal medical question: handed to a clinician by the channel's own rules, not "try again".
        personal_sender = new_sender()
        messages, meta, took = ask(assistant, personal_sender, PERSONAL)
        assert took < TIME_LIMIT + SLACK
        assert meta["kind"] == "handoff" and meta["handoff"] is True and meta["reason"] == "channel_fallback"
        assert "clinician" in texts_of(messages)

    # Staff are alerted about the emergency and the personal question, not about the ordinary one.
    alerts = alerts_for(assistant, web_sender)
    assert [a["kind"] for a in alerts] == ["emergency"]
    assert alerts[0]["reason"].startswith("channel_fallback:") and "text" not in alerts[0]
    assert alerts_for(assistant, rest_sender) == []
    assert [a["kind"] for a in alerts_for(assistant, personal_sender)] == ["handoff"]

    # The conversation holds the patient's message, the reply with kind emergency, and the handoff.
    stored = events(assistant, web_sender)
    (turn,) = replies_to(stored, URGENT)
    assert [m["kind"] for m in metas(turn)] == ["emergency"]
    assert any(CLINIC.emergency_number in (e.get("text") or "") for e in turn)
    slots = {e["name"]: e["value"] for e in stored if e.get("event") == "slot"}
    assert slots["handoff"] is True and slots["handoff_reason"] == "emergency"
    (turn,) = replies_to(events(assistant, rest_sender), ORDINARY)
    assert [m["kind"] for m in metas(turn)] == ["clarify"]
    slots = {e["name"]: e["value"] for e in events(assistant, personal_sender) if e.get("event") == "slot"}
    assert slots["handoff"] is True and slots["handoff_reason"] == "personal"

    # A reload of the widget shows the message and the urgent reply.
    history = chat.history()
    assert [m["role"] for m in history["messages"]] == ["user", "bot"]
    assert history["messages"][1]["kind"] == "emergency" and history["handoff"] is True
    assert CLINIC.emergency_number in history["messages"][1]["text"]

    # The staff console lists the patient as an emergency waiting for a clinician, first in the queue.
    staff = staff_session(assistant)
    queue = console_get(staff, assistant.console_url + "/api/handoffs")["items"]
    waiting = next(w for w in queue if w["sender_id"] == web_sender)
    assert waiting["emergency"] is True and waiting["reason"] == "emergency"
    assert queue[0]["emergency"] is True  # emergencies come first

    # run.sh restarts the action server and says so; Rasa was never restarted.
    wait_for(
        lambda: re.search(r"\[run\]\S* action server exited with code 137; restarting in \d+ s", run_log(assistant)),
        30,
        "the restart line in run.sh's output",
    )
    wait_for(lambda: healthy(assistant.action_url + "/health"), 240, "the action server coming back")
    assert "action server ready again" in run_log(assistant) or healthy(assistant.action_url + "/health")
    assert rasa_pid(assistant) == rasa_before
    _, meta, _ = ask(assistant, new_sender(), "does mesotherapy hurt?")
    assert meta["kind"] == "answer" and meta.get("reason") != "channel_fallback"


# ---------------------------------------------------------------- the action server hangs


def test_hung_action_server_gets_one_fallback_within_the_time_limit_and_no_second_reply(assistant: Assistant):
    wait_for(lambda: healthy(assistant.action_url + "/health"), 240, "the action server being up")
    chat = WebChat.start(assistant.url)
    sender = chat.sender_id
    with paused(action_server_pid(assistant)):
        result, took = widget_says(chat, ORDINARY)
        assert took < TIME_LIMIT + SLACK, f"the patient waited {took:.1f} s"
        replies = [m for m in result["messages"] if m["role"] == "bot"]
        assert len(replies) == 1 and replies[0]["text"].strip()
    # The action server wakes up and answers Rasa's abandoned call: nothing more reaches the patient.
    time.sleep(TIME_LIMIT + 2)
    history = chat.history()
    assert [m["role"] for m in history["messages"]] == ["user", "bot"]
    assert history["messages"][1]["text"] == replies[0]["text"]
    (turn,) = replies_to(events(assistant, sender), ORDINARY)
    (meta,) = metas(turn)
    assert meta["reason"] == "channel_fallback" and meta["extra"]["failure"] == "timeout"
    # and the next message is answered by the dialogue again
    result, _ = widget_says(chat, "does mesotherapy hurt?")
    assert result["kind"] is None and len([m for m in result["messages"] if m["role"] == "bot"]) >= 2


# ---------------------------------------------------------------- the tracker database fails


@pytest.mark.parametrize("mode", ["EXCLUSIVE", "IMMEDIATE"], ids=["locked", "read-only"])
def test_tracker_database_failure_is_an_alerted_error_never_a_switch_to_memory(assistant: Assistant, mode: str):
    sender = new_sender()
    wait_for(lambda: healthy(assistant.action_url + "/health"), 240, "the action server being up")
    _, meta, _ = ask(assistant, sender, PERSONAL)
    assert meta["kind"] == "handoff"  # the patient is waiting for a clinician
    stored_before = len(events(assistant, sender))

    with locked_database(assistant.tracker_db, mode):
        messages, meta, took = ask(assistant, sender, ORDINARY)
        assert meta["reason"] == "channel_fallback", messages  # not an answer from a blank conversation
        assert took < SQLITE_BUSY * 2 + SLACK

    # Staff are alerted: the store failed, and the patient's message was not stored (the alerts file keeps
    # no patient text: staff contact the patient from the conversation).
    alerts = alerts_for(assistant, sender)
    assert any(a["reason"].startswith("tracker_store_error:") for a in alerts)
    assert any(a["reason"].endswith(":not_stored") and "text" not in a for a in alerts)
    log = rasa_log(assistant)
    assert "TRACKER STORE FAILURE" in log
    assert "InMemoryTrackerStore" not in log

    # Once the database is back, the conversation is where it was: still with staff.
    assert len(events(assistant, sender)) == stored_before  # nothing half-written
    _, meta, _ = ask(assistant, sender, PRICE)
    assert meta["kind"] == "handoff" and meta["reason"] == "handed_off"


# ---------------------------------------------------------------- start-up


def test_rasa_refuses_to_start_on_a_tracker_database_it_cannot_write(tmp_path: Path):
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists() or not MODEL.exists():
        pytest.fail("end-to-end tests need .venv-rasa and a trained model: run `make test` (it trains first)")
    database = tmp_path / "tracker.db"
    sqlite3.connect(database).execute("CREATE TABLE placeholder (x)").connection.close()
    ports = {name: free_port() for name in ("rasa", "action", "console")}
    env = {
        **os.environ,
        "MESO_ENV": "test",
        "MESO_RASA_PORT": str(ports["rasa"]),
        "MESO_ACTION_PORT": str(ports["action"]),
        "MESO_CONSOLE_PORT": str(ports["console"]),
        "MESO_RASA_URL": f"http://127.0.0.1:{ports['rasa']}",
        "MESO_ACTION_SERVER_URL": f"http://127.0.0.1:{ports['action']}/webhook",
        "MESO_TRACKER_DB_URL": f"sqlite:///{database}",
        "MESO_CONSOLE_DB_URL": f"sqlite:///{tmp_path / 'console.db'}",
        "MESO_ALERTS_FILE": str(tmp_path / "alerts.jsonl"),
        "MESO_RASA_RUN_DIR": str(tmp_path / "rasa"),
        "MESO_RASA_TOKEN": TOKEN,
        "MESO_TRACKER_START_TIMEOUT_SECONDS": "3",
    }
    with locked_database(database, "EXCLUSIVE"):
        done = subprocess.run(
            [str(PROJECT_ROOT / "scripts" / "run.sh")],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            preexec_fn=own_session,
        )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Rasa exited during start-up" in output and "ready in" not in output
    assert "TrackerStoreUnavailable" in output and "refuses to start" in output
    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still in use after run.sh gave up"
