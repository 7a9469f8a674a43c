"""Malformed text against the real servers (scripts/run.sh): a lone surrogate (JSON "\\ud800", which the
widget itself can produce when it cuts text by UTF-16 units) inside an emergency still gets the
patient the urgent reply from the dialogue, still writes the staff alert, and the staff console
still lists the conversation and shows it in the handoff queue. Then arbitrary text (any code
point, lone surrogates and NUL included) through the REST channel: no request answers 500 and the
console keeps working."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clinic import load_clinic
from core.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import meta_of, texts_of
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

CLINIC = load_clinic(Settings().clinic_file)
EMERGENCY = b"I can't breathe\\ud800"  # as raw JSON: the escape of a lone high surrogate
STAFF, PASSWORD = "e2e.malformed", "a staff passphrase for malformed input"


@pytest.fixture(scope="module")
def console(assistant) -> Iterator[httpx.Client]:
    """The running console, logged in as an admin made with the command line (as an admin would)."""
    done = subprocess.run(
        [sys.executable, "-m", "console", "create-user", STAFF, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=assistant.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with httpx.Client(base_url=assistant.console_url, timeout=30) as client:
        response = client.post("/api/auth/login", json={"username": STAFF, "password": PASSWORD})
        assert response.status_code == 200, response.text
        yield client


def alerts_for(assistant, sender: str) -> list[dict[str, Any]]:
    lines = assistant.alerts_file.read_text(encoding="utf-8").splitlines() if assistant.alerts_file.exists() else []
    return [a for a in map(json.loads, lines) if a["sender_id"] == sender]


def listed(console: httpx.Client, **params: Any) -> dict[str, dict[str, Any]]:
    response = console.get("/api/conversations", params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    return {c["sender_id"]: c for c in response.json()["items"]}


def assert_staff_see_the_emergency(assistant, console: httpx.Client, sender: str) -> None:
    (alert,) = [a for a in alerts_for(assistant, sender) if a["kind"] == "emergency"]
    assert "text" not in alert  # the patient's words are in the console, not in the alerts file
    assert sender in listed(console)  # newest first: on the first page
    row = listed(console, q=sender)[sender]
    assert row["emergency"] is True and row["preview"] == "I can't breathe\ufffd"
    queue = console.get("/api/handoffs")
    assert queue.status_code == 200, queue.text
    waiting = next(w for w in queue.json()["items"] if w["sender_id"] == sender)
    assert waiting["emergency"] is True and waiting["awaiting_reply"] is True
    transcript = console.get(f"/api/conversations/{sender}")
    assert transcript.status_code == 200, transcript.text
    assert transcript.json()["messages"][0]["text"] == "I can't breathe\ufffd"


def test_lone_surrogate_in_an_emergency_on_the_rest_channel(assistant, console):
    sender = f"e2e-surrogate-{uuid.uuid4().hex[:8]}"
    body = b'{"sender": "%s", "message": "%s", "metadata": {"consent": true}}' % (sender.encode(), EMERGENCY)
    status, messages = assistant.post(sender, None, raw=body)
    assert status == 200, messages
    meta = meta_of(messages)
    assert meta is not None and meta["kind"] == "emergency"
    assert meta["reason"] != "channel_fallback"  # the dialogue answered, not the channel's fallback
    assert CLINIC.emergency_number in texts_of(messages)
    assert_staff_see_the_emergency(assistant, console, sender)


def test_lone_surrogate_in_an_emergency_in_the_web_chat(assistant, console):
    chat = WebChat.start(assistant.url)
    body = b'{"message": "%s", "consent": true}' % EMERGENCY
    response = call(
        assistant.url, "POST", "webhook", token=chat.token, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["kind"] == "emergency" and reply["handoff"] is True
    bot = [m for m in reply["messages"] if m["role"] == "bot"]
    assert bot and CLINIC.emergency_number in bot[0]["text"]
    assert not any(str(m["id"]).startswith("fallback-") for m in reply["messages"])  # the dialogue answered
    patient = [m for m in reply["messages"] if m["role"] == "user"]
    assert [m["text"] for m in patient] == ["I can't breathe\ufffd"]
    assert_staff_see_the_emergency(assistant, console, chat.sender_id)

    assert chat.history()["messages"][0]["text"] == "I can't breathe\ufffd"


# Any code point, lone surrogates included (st.characters excludes them unless told otherwise), plus
# the characters that broke things before, so every run tries them.
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\ufffe", "\uffff", "\x85", "/"]),
    ),
    max_size=300,
)


def test_arbitrary_text_never_breaks_a_channel_or_the_console(assistant, console):
    senders: list[str] = []

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=ANY_TEXT)
    def one_message(text: str) -> None:
        sender = f"e2e-any-{uuid.uuid4().hex[:10]}"
        # json.dumps writes a lone surrogate as its \\uXXXX escape: what a broken client sends
        body = json.dumps({"sender": sender, "message": text, "metadata": {"consent": True}}).encode()
        status, messages = assistant.post(sender, None, raw=body)
        assert status == 200, (text, messages)
        assert meta_of(messages) is not None
        senders.append(sender)
        assert sender in listed(console, q=sender)
        transcript = console.get(f"/api/conversations/{sender}")
        assert transcript.status_code == 200, transcript.text

    one_message()
    assert len(senders) == 25
    assert set(senders) <= set(listed(console))
    for path in ("/api/handoffs", "/api/gaps"):
        assert console.get(path).status_code == 200, path
    export = console.get("/api/export", params={"format": "jsonl"})
    assert export.status_code == 200
    exported = {json.loads(line)["conversation"]["sender_id"] for line in export.text.splitlines()}
    assert set(senders) <= exported
