"""A message sent again after its answer was lost (a 502 from the load balancer, a dropped connection, the
widget's Retry) is answered from the conversation, not run and stored twice: the REST channel and the
widget API take the client's `client_message_id` with `resend: true`, against the real running assistant."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from tests.e2e.conftest import texts_of
from tests.e2e.webchat import WebChat, call


def rest(assistant, body: dict[str, Any]) -> tuple[int, Any]:
    req = urllib.request.Request(
        assistant.url + "/webhooks/rest/webhook",
        data=json.dumps({"metadata": {"consent": True}, **body}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_a_rest_message_sent_again_gets_its_first_reply_and_is_stored_once(assistant):
    sender, mid = f"resend-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    question = "How long does a mesotherapy session take?"
    status, first = rest(assistant, {"sender": sender, "message": question, "client_message_id": mid})
    assert status == 200 and texts_of(first)
    for _ in range(2):
        status, again = rest(
            assistant, {"sender": sender, "message": question, "client_message_id": mid, "resend": True}
        )
        assert status == 200
        assert again == first  # the same texts and the same reply metadata
    stored = [e for e in assistant.user_events(sender) if e.get("text") == question]
    assert len(stored) == 1 and stored[0]["message_id"] == "client:" + mid


def test_a_resend_that_never_arrived_is_answered_as_new_and_an_id_reused_for_another_text_is_refused(assistant):
    sender, mid = f"resend-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    status, reply = rest(
        assistant, {"sender": sender, "message": "Is there downtime?", "client_message_id": mid, "resend": True}
    )
    assert status == 200 and texts_of(reply)  # the first sending was lost before it arrived
    status, body = rest(
        assistant, {"sender": sender, "message": "Something else", "client_message_id": mid, "resend": True}
    )
    assert status == 409 and "client_message_id" in body["error"]
    assert [e["text"] for e in assistant.user_events(sender)][-1] == "Is there downtime?"


def test_a_malformed_client_message_id_is_a_clear_400(assistant):
    for bad in ["short", "x" * 65, "has space in it", 12345678, ["list"]]:
        status, body = rest(assistant, {"sender": "resend-bad", "message": "hi", "client_message_id": bad})
        assert status == 400 and "client_message_id" in body["error"], (bad, body)


def test_a_widget_retry_after_a_lost_answer_shows_one_message_and_one_reply(assistant):
    chat = WebChat.start(assistant.url)
    mid = str(uuid.uuid4())
    body = {"message": "Does mesotherapy hurt?", "consent": True, "after": 0, "client_message_id": mid}
    first = call(chat.server, "POST", "webhook", body, chat.token)
    assert first.status_code == 200
    again = call(chat.server, "POST", "webhook", {**body, "resend": True}, chat.token)
    assert again.status_code == 200
    assert again.json()["messages"] == first.json()["messages"]
    history = chat.history()["messages"]
    assert [m["text"] for m in history if m["role"] == "user"] == ["Does mesotherapy hurt?"]
