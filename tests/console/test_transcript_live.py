"""A transcript open on screen follows the conversation live: `/updates` brings the patient's new messages,
the staff replies, the state (waiting, handed back) and who is replying, without a new audit entry for each
poll, because it names its opening, which was audited once. An opening that is not this staff member's, not
this conversation's or not from this login opens nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import PASSWORD

PATIENT = "web-1ive000000000001"


def as_user(console, username: str) -> TestClient:
    browser = console.as_new_client()
    response = browser.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


def views(console, target: str) -> list[dict]:
    admin = as_user(console, "ada")
    response = admin.get("/api/audit", params={"action": "view_transcript", "target": target})
    assert response.status_code == 200, response.text
    return [e for e in response.json()["items"] if e["actor"] != "ada"]


def updates(browser: TestClient, view: int, after: int, sender: str = PATIENT):
    return browser.get(f"/api/conversations/{sender}/updates", params={"view": view, "after": after})


@pytest.fixture()
def waiting(tracker):
    tracker.turn(
        PATIENT,
        "I take warfarin, can I have it?",
        "A clinician will reply here.",
        kind="handoff",
        channel="webchat",
        handoff=True,
    )
    return tracker


def test_new_messages_arrive_live_and_the_view_is_audited_once(console, waiting):
    cleo = as_user(console, "cleo")
    opened = cleo.get(f"/api/conversations/{PATIENT}").json()
    assert [m["role"] for m in opened["messages"]] == ["patient", "bot"]
    view, cursor = opened["view"], opened["cursor"]
    assert view > 0 and cursor > 0 and opened["conversation"]["handoff"] is True and opened["claimed_by"] is None

    nothing = updates(cleo, view, cursor)
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["messages"] == [] and nothing.json()["cursor"] == cursor

    # the patient writes again (a phone number too: redacted like the transcript); a colleague claims them
    waiting.add(PATIENT, "user", text="hello? my number is 07700 900123", input_channel="webchat")
    assert as_user(console, "ada").post(f"/api/handoffs/{PATIENT}/claim").status_code == 200
    fresh = updates(cleo, view, cursor).json()
    assert [(m["role"], m["text"]) for m in fresh["messages"]] == [("patient", "hello? my number is [phone]")]
    assert fresh["cursor"] > cursor and fresh["claimed_by"] == "ada"
    cursor = fresh["cursor"]

    # a staff reply and the hand-back arrive the same way
    waiting.add(PATIENT, "bot", text="Dr Ada here.", metadata={"staff_reply": True, "author": "ada"})
    waiting.add(PATIENT, "slot", name="handoff", value=False)
    later = updates(cleo, view, cursor).json()
    assert [(m["role"], m["author"]) for m in later["messages"]] == [("staff", "ada")]
    assert later["conversation"]["handoff"] is False and later["claimed_by"] is None
    for _ in range(5):
        assert updates(cleo, view, later["cursor"]).json()["messages"] == []

    # one opening, one audit entry, however many polls
    assert [e["actor"] for e in views(console, PATIENT)] == ["cleo"]
    # opening it again is a new audited view
    cleo.get(f"/api/conversations/{PATIENT}")
    assert len(views(console, PATIENT)) == 2


def test_a_bot_reply_comes_with_its_metadata(console, waiting):
    rita = as_user(console, "rita")
    opened = rita.get(f"/api/conversations/{PATIENT}").json()
    waiting.turn(
        PATIENT,
        "still there?",
        "A person from the team will reply.",
        kind="handoff",
        channel="webchat",
        handoff=True,
        reason="handoff:hold",
    )
    fresh = updates(rita, opened["view"], opened["cursor"]).json()
    assert [m["role"] for m in fresh["messages"]] == ["patient", "bot"]
    assert fresh["messages"][1]["meta"]["kind"] == "handoff"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_only_an_audited_opening_of_this_conversation_by_this_login_follows_it(console, waiting, tracker):
    tracker.turn("web-1ive000000000002", "hello", "Hi!", channel="webchat")
    cleo, rita = as_user(console, "cleo"), as_user(console, "rita")
    mine = cleo.get(f"/api/conversations/{PATIENT}").json()["view"]
    other = cleo.get("/api/conversations/web-1ive000000000002").json()["view"]

    assert updates(cleo, mine, 0).status_code == 200
    assert updates(cleo, other, 0).status_code == 403  # another conversation's opening
    assert updates(rita, mine, 0).status_code == 403  # someone else's opening
    review = as_user(console, "rita")
    assert review.put(f"/api/conversations/{PATIENT}/review").status_code == 204
    not_an_opening = max(e["id"] for e in as_user(console, "ada").get("/api/audit").json()["items"])
    assert updates(cleo, not_an_opening, 0).status_code == 403  # an audit entry that is not an opening
    assert updates(cleo, 2**31 - 1, 0).status_code == 403
    assert cleo.get(f"/api/conversations/{PATIENT}/updates", params={"after": 0}).status_code == 422  # no view
    assert updates(cleo, mine, -1).status_code == 422

    # a new login must open the transcript again (and be audited again)
    again = as_user(console, "cleo")
    assert updates(again, mine, 0).status_code == 403
    refused = updates(again, mine, 0).json()["detail"]
    assert "open the transcript first" in refused
    anonymous = TestClient(console.client.app)
    assert updates(anonymous, mine, 0).status_code == 401


def test_an_erased_conversation_stops_the_live_view(console, waiting):
    cleo = as_user(console, "cleo")
    view = cleo.get(f"/api/conversations/{PATIENT}").json()["view"]
    assert as_user(console, "ada").delete(f"/api/patients/{PATIENT}").status_code == 200
    assert updates(cleo, view, 0).status_code == 404
