"""A patient's own data on the real servers (issue 16): "delete my data" asks to confirm, "Yes" has the
console erase the conversation within seconds (tracker events gone, the widget's session ended, so the
widget starts a new chat), and "what do you keep about me?" gets a plain answer."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import Assistant, texts_of
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

ERASED_WITHIN = 90.0  # seconds: the console's job runs every MESO_PATIENT_REQUEST_INTERVAL_SECONDS (15)


def wait_until(check, timeout: float = ERASED_WITHIN) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1.0)
    return False


def test_a_rest_patient_confirms_erasure_and_the_conversation_is_gone(assistant: Assistant):
    sender = "erase-me-rest"
    status, messages = assistant.post(sender, "How long do results last?")
    assert status == 200 and messages
    status, messages = assistant.post(sender, "please delete all my data")
    assert status == 200
    buttons = [b for m in messages for b in (m.get("buttons") or [])]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"], messages
    assert assistant.event_count(sender) > 0  # nothing erased on the request alone

    status, messages = assistant.post(sender, "/affirm")
    assert status == 200 and "deleted" in texts_of(messages)
    assert wait_until(lambda: assistant.event_count(sender) == 0), "the conversation was not erased"


def test_a_widget_patient_who_erases_gets_a_new_chat(assistant: Assistant):
    patient = WebChat.start(assistant.url)
    sender = patient.sender_id
    patient.say("does it hurt?")
    asked = patient.say("forget me")
    assert any(m.get("buttons") for m in asked["messages"])
    done = patient.say("/affirm", after=asked["cursor"])
    assert "deleted" in " ".join(m["text"] for m in done["messages"])
    assert wait_until(lambda: call(assistant.url, "GET", "history", token=patient.token).status_code == 401)
    assert assistant.event_count(sender) == 0


def test_what_is_kept_is_answered_plainly(assistant: Assistant):
    status, messages = assistant.post("asks-what-is-kept", "what do you store about me?")
    assert status == 200
    text = texts_of(messages)
    assert "days" in text and "privacy" in text
