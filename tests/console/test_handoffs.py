"""The handoff queue: who waits (emergencies first, with waiting time), replying through Rasa on
the patient's channel, handing back to the assistant; clinicians only, every action audited."""

from __future__ import annotations

import pytest

from console.deps import settings_dep
from tests.console.fake_rasa import FakeRasa
from tests.core.test_rasa_api import jwt_claims

TOKEN = "console-test-token-0123456789"


def _store_slots(tracker, sender: str, events: list[dict]) -> None:
    for e in events:
        if e["event"] == "slot":
            tracker.add(sender, "slot", name=e["name"], value=e["value"])


@pytest.fixture()
def rasa(console, tracker):
    """A fake Rasa behind the console: a reply is stored as Rasa would store it, a hand-back's slot
    events are written to the tracker store."""
    fake = FakeRasa(
        on_reply=lambda body: tracker.add(
            body["sender_id"], "bot", text=body["text"], metadata={"staff_reply": True, "author": body["author"]}
        ),
        on_events=lambda sender, events: _store_slots(tracker, sender, events),
    )
    url = fake.start()
    settings = console.settings.model_copy(update={"rasa_url": url, "rasa_token": TOKEN})
    console.client.app.dependency_overrides[settings_dep] = lambda: settings
    yield fake
    fake.stop()


@pytest.fixture()
def waiting(console, tracker):
    tracker.turn("web-calm0000000000000", "hello", "Hi!", channel="webchat")
    tracker.turn(
        "tg-2002",
        "I take warfarin, is it ok? call me on +44 7700 900123",
        "A clinician will reply.",
        kind="handoff",
        channel="telegram",
        handoff=True,
    )
    tracker.add("tg-2002", "slot", name="handoff_reason", value="medical")
    tracker.turn(
        "web-late0000000000000",
        "my face is swelling and I can't breathe",
        "Call 112 now.",
        kind="emergency",
        channel="webchat",
        handoff=True,
    )
    tracker.add("web-late0000000000000", "slot", name="handoff_reason", value="emergency")
    return tracker


def queue(console, **params) -> list[dict]:
    response = console.client.get("/api/handoffs", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_queue_lists_waiting_patients_emergencies_first_with_waiting_time(console, waiting):
    console.login("cleo")
    items = queue(console)
    assert [i["sender_id"] for i in items] == ["web-late0000000000000", "tg-2002"]
    emergency, medical = items
    assert emergency["emergency"] is True and emergency["reason"] == "emergency"
    assert medical["emergency"] is False and medical["reason"] == "medical" and medical["channel"] == "telegram"
    assert all(i["awaiting_reply"] for i in items)
    # the events are from the fixed test clock (2026-09), so they have waited a long time
    assert medical["waiting_seconds"] > 24 * 3600
    # the phone number the patient typed is not shown
    assert "7700" not in medical["preview"] and "[phone]" in medical["preview"]


def test_only_clinicians_and_admins_see_the_queue(console, waiting):
    console.login("rita")
    assert console.client.get("/api/handoffs").status_code == 403
    console.login("ada")
    assert console.client.get("/api/handoffs").status_code == 200
    anonymous = console.as_new_client()
    assert anonymous.get("/api/handoffs").status_code == 401


def test_reply_goes_through_rasa_with_the_staff_token_and_is_audited(console, waiting, rasa):
    console.login("cleo")
    response = console.client.post("/api/handoffs/tg-2002/reply", json={"text": "  Hello, Dr Cleo here.  "})
    assert response.status_code == 200, response.text
    assert response.json() == {"delivered": True, "via": "webchat"}
    sent = [r for r in rasa.received if r.path == "/webhooks/staff/reply"]
    assert len(sent) == 1
    assert sent[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent[0].body == {"sender_id": "tg-2002", "text": "Hello, Dr Cleo here.", "author": "cleo"}
    # the stored reply shows in the transcript with its author, and the patient is no longer unanswered
    messages = console.client.get("/api/conversations/tg-2002").json()["messages"]
    assert messages[-1]["role"] == "staff" and messages[-1]["author"] == "cleo"
    medical = next(i for i in queue(console) if i["sender_id"] == "tg-2002")
    assert medical["awaiting_reply"] is False
    # the emergency, still unanswered, stays first
    assert queue(console)[0]["sender_id"] == "web-late0000000000000"
    console.login("ada")
    entries = console.client.get("/api/audit", params={"action": "reply"}).json()["items"]
    assert [(e["actor"], e["target"]) for e in entries] == [("cleo", "tg-2002")]
    assert "Dr Cleo" not in entries[0]["detail"]  # the audit log names the action, not the health data


def test_a_new_patient_message_after_the_reply_waits_again(console, waiting, rasa):
    console.login("cleo")
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Which dose?"}).status_code == 200
    waiting.add("tg-2002", "user", text="5 mg a day", input_channel="telegram")
    medical = next(i for i in queue(console) if i["sender_id"] == "tg-2002")
    assert medical["awaiting_reply"] is True and "5 mg" in medical["preview"]


def test_a_reply_rasa_cannot_deliver_is_reported_and_audited(console, waiting, rasa):
    rasa.answer = (409, {"error": "the last WhatsApp message is over 24 hours old and no template is configured"})
    console.login("cleo")
    response = console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Hello"})
    assert response.status_code == 409
    assert "24 hours" in response.json()["detail"]
    console.login("ada")
    assert console.client.get("/api/audit", params={"action": "reply_failed"}).json()["total"] == 1


def test_a_reply_while_the_assistant_is_down_is_a_clear_502(console, waiting):
    settings = console.settings.model_copy(update={"rasa_url": "http://127.0.0.1:9", "rasa_token": TOKEN})
    console.client.app.dependency_overrides[settings_dep] = lambda: settings
    console.login("cleo")
    response = console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Hello"})
    assert response.status_code == 502
    assert "not delivered" in response.json()["detail"]


def test_reply_refuses_unknown_conversations_and_empty_text(console, waiting, rasa):
    console.login("cleo")
    assert console.client.post("/api/handoffs/nobody/reply", json={"text": "Hi"}).status_code == 404
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": ""}).status_code == 422
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "   "}).status_code == 422
    assert not [r for r in rasa.received if r.path == "/webhooks/staff/reply"]


def test_reply_needs_the_csrf_header(console, waiting, rasa):
    console.login("cleo")
    del console.client.headers["X-CSRF-Token"]
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Hi"}).status_code == 403
    assert not rasa.received


def test_hand_back_resumes_the_assistant_and_empties_the_queue(console, waiting, rasa):
    console.login("cleo")
    assert console.client.post("/api/handoffs/tg-2002/hand-back").status_code == 204
    posted = [r for r in rasa.received if r.path.endswith("/tracker/events")]
    assert posted and "token" not in posted[0].query  # Rasa's API: a signed JWT in a header, never a URL token
    assert jwt_claims(posted[0].headers["Authorization"], TOKEN)["user"]["role"] == "admin"
    assert {"event": "slot", "name": "handoff", "value": False} in posted[0].body
    assert [i["sender_id"] for i in queue(console)] == ["web-late0000000000000"]
    # handing back twice is refused clearly
    assert console.client.post("/api/handoffs/tg-2002/hand-back").status_code == 409
    console.login("ada")
    assert console.client.get("/api/audit", params={"action": "hand_back"}).json()["items"][0]["target"] == "tg-2002"


def test_reviewers_cannot_reply_or_hand_back(console, waiting, rasa):
    console.login("rita")
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Hi"}).status_code == 403
    assert console.client.post("/api/handoffs/tg-2002/hand-back").status_code == 403
    assert not rasa.received


def test_a_reply_or_a_take_over_makes_its_author_the_one_replying(console, waiting, rasa):
    console.login("cleo")
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Hello"}).status_code == 200
    assert next(i for i in queue(console) if i["sender_id"] == "tg-2002")["claimed_by"] == "cleo"
    assert console.client.post("/api/handoffs/web-calm0000000000000/take-over").status_code == 204
    assert next(i for i in queue(console) if i["sender_id"] == "web-calm0000000000000")["claimed_by"] == "cleo"
    # someone else's patient stays theirs: the reply still goes out
    console.login("ada")
    assert console.client.post("/api/handoffs/tg-2002/reply", json={"text": "Ada here too"}).status_code == 200
    assert next(i for i in queue(console) if i["sender_id"] == "tg-2002")["claimed_by"] == "cleo"
    entries = console.client.get("/api/audit", params={"action": "handoff_claim"}).json()["items"]
    assert sorted((e["actor"], e["target"], e["detail"]) for e in entries) == [
        ("cleo", "tg-2002", '{"via": "reply"}'),
        ("cleo", "web-calm0000000000000", '{"via": "take_over"}'),
    ]
