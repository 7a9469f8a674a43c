"""A patient's call-back number in the console: everyone who reads the conversation sees that one was left,
redacted; the treating clinician (the one replying, or anyone who may reply while nobody is) reveals it,
with a tel: link, audited every time, and claims the waiting patient by doing so; a colleague while
someone else is replying, and reviewers always, are refused; exports and transcripts never hold it;
erasure removes it from the console and from the channels' inbox. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from bot.channels.contacts import ContactIn, ContactStore, read_contacts
from console.accounts import create_user
from tests.console.conftest import PASSWORD

PATIENT = "web-c0ffee0000000001"
NAME, PHONE = "Asha Rao", "+91 98765 43210"


def as_user(console, username: str) -> TestClient:
    browser = console.as_new_client()
    response = browser.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


def audit(console, action: str, target: str | None = None) -> list[dict]:
    params = {"action": action, **({"target": target} if target else {})}
    response = as_user(console, "ada").get("/api/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture()
def left_a_number(console, tracker) -> ContactStore:
    """A widget patient handed to a clinician who then left their name and number in the widget (stored by the
    channel in the channels' database: here the tracker database)."""
    tracker.turn(
        PATIENT,
        "I take warfarin, can I have it?",
        "A clinician will reply here.",
        kind="handoff",
        channel="webchat",
        handoff=True,
    )
    store = ContactStore(console.settings.tracker_db_url)
    store.save(PATIENT, "webchat", ContactIn(NAME, PHONE))
    return store


def test_the_treating_clinician_reveals_the_number_audited_and_is_then_replying(console, left_a_number):
    cleo = as_user(console, "cleo")
    opened = cleo.get(f"/api/conversations/{PATIENT}")
    assert opened.status_code == 200, opened.text
    contact = opened.json()["contact"]
    assert (contact["name"], contact["phone"], contact["tel"]) == ("[name]", "[phone]", None)
    assert contact["may_reveal"] and not contact["revealed"] and contact["source"] == "webchat"
    assert PHONE not in opened.text and NAME not in opened.text
    # the console took it from the channels' inbox: one copy at rest, in the console
    assert read_contacts(left_a_number.engine, [PATIENT]) == {}
    assert audit(console, "contact_view") == []  # opening the transcript reveals nothing

    shown = cleo.post(f"/api/conversations/{PATIENT}/contact/reveal")
    assert shown.status_code == 200, shown.text
    assert shown.json() | {"consent_at": None} == {
        "name": NAME,
        "phone": PHONE,
        "tel": "tel:+919876543210",
        "revealed": True,
        "source": "webchat",
        "consent_at": None,
        "may_reveal": True,
    }
    (entry,) = audit(console, "contact_view", PATIENT)
    assert entry["actor"] == "cleo" and PHONE not in json.dumps(entry)
    # revealing a waiting patient's number makes you the one replying, for everyone
    assert cleo.get(f"/api/conversations/{PATIENT}").json()["claimed_by"] == "cleo"
    assert [e["actor"] for e in audit(console, "handoff_claim", PATIENT)] == ["cleo"]
    # every look is audited
    assert cleo.post(f"/api/conversations/{PATIENT}/contact/reveal").status_code == 200
    assert len(audit(console, "contact_view", PATIENT)) == 2


def test_reviewers_and_colleagues_of_the_one_replying_are_refused(console, left_a_number):
    create_user(console.settings.console_db_url, "dora", PASSWORD, "clinician")
    rita = as_user(console, "rita")
    seen = rita.get(f"/api/conversations/{PATIENT}").json()["contact"]
    assert (seen["phone"], seen["may_reveal"]) == ("[phone]", False)
    assert rita.post(f"/api/conversations/{PATIENT}/contact/reveal").status_code == 403

    cleo, dora, ada = as_user(console, "cleo"), as_user(console, "dora"), as_user(console, "ada")
    assert cleo.post(f"/api/handoffs/{PATIENT}/claim").status_code == 200
    assert dora.get(f"/api/conversations/{PATIENT}").json()["contact"]["may_reveal"] is False
    refused = dora.post(f"/api/conversations/{PATIENT}/contact/reveal")
    assert refused.status_code == 403 and "cleo is replying" in refused.json()["detail"]
    assert PHONE not in refused.text
    assert ada.post(f"/api/conversations/{PATIENT}/contact/reveal").status_code == 403  # admins too: reassign first
    assert [e["actor"] for e in audit(console, "contact_refused", PATIENT)] == ["ada", "dora"]
    assert audit(console, "contact_view") == []

    # once the patient is passed on, the new clinician may see it
    assert cleo.post(f"/api/handoffs/{PATIENT}/assign", json={"username": "dora"}).status_code == 200
    assert dora.post(f"/api/conversations/{PATIENT}/contact/reveal").json()["phone"] == PHONE


def test_exports_and_transcripts_never_hold_the_number(console, left_a_number):
    ada = as_user(console, "ada")
    ada.get(f"/api/conversations/{PATIENT}")  # the console has taken it
    for fmt in ("csv", "jsonl"):
        exported = ada.get("/api/export", params={"format": fmt, "q": PATIENT})
        assert exported.status_code == 200 and PATIENT in exported.text
        assert PHONE not in exported.text and "98765" not in exported.text and NAME not in exported.text
    listed = ada.get("/api/conversations", params={"q": PATIENT}).text
    assert PHONE not in listed and NAME not in listed


def test_no_number_left_is_a_404_and_a_newer_number_replaces_the_older(console, left_a_number, tracker):
    cleo = as_user(console, "cleo")
    tracker.turn("web-c0ffee0000000002", "hello", "Hi!", channel="webchat")
    assert cleo.post("/api/conversations/web-c0ffee0000000002/contact/reveal").status_code == 404
    assert cleo.get("/api/conversations/web-c0ffee0000000002").json()["contact"] is None
    assert cleo.post("/api/conversations/web-nobody/contact/reveal").status_code == 404

    assert cleo.post(f"/api/conversations/{PATIENT}/contact/reveal").json()["phone"] == PHONE
    left_a_number.save(PATIENT, "webchat", ContactIn(NAME, "07700 900123"))
    assert cleo.post(f"/api/conversations/{PATIENT}/contact/reveal").json()["phone"] == "07700 900123"


def test_erasure_removes_the_number_from_the_console_and_the_channels_inbox(console, left_a_number):
    ada = as_user(console, "ada")
    ada.get(f"/api/conversations/{PATIENT}")  # one copy in the console
    left_a_number.save(PATIENT, "webchat", ContactIn(NAME, "07700 900123"))  # and a newer one still waiting
    erased = ada.delete(f"/api/patients/{PATIENT}")
    assert erased.status_code == 200, erased.text
    assert erased.json()["contacts"] == 2
    assert read_contacts(left_a_number.engine, [PATIENT]) == {}
    (entry,) = audit(console, "erase")
    assert json.loads(entry["detail"])["contacts"] == 2 and PHONE not in entry["detail"]
