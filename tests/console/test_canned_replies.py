"""Canned replies: admins keep them (add, change, delete, each audited), clinicians list them with the
clinic's own facts filled in from clinic.yml, reviewers (who never reply) do not see them; a placeholder the
console does not know or a shortcut already taken is refused before any patient could receive it. SQLite and
PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from console.canned_replies import PLACEHOLDERS
from core.clinic import load_clinic

PRICES = {
    "title": "Prices",
    "text": "Our prices are on {booking_url}. Call {clinic_name} on {phone} with any question.",
    "shortcut": "/price",
}


def as_user(console, username: str) -> TestClient:
    browser = console.as_new_client()
    response = browser.post("/api/auth/login", json={"username": username, "password": "a long enough passphrase"})
    assert response.status_code == 200, response.text
    browser.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return browser


def audit(console, action: str) -> list[dict]:
    admin = as_user(console, "ada")
    response = admin.get("/api/audit", params={"action": action})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_admins_keep_canned_replies_and_every_change_is_audited(console):
    admin, cleo = as_user(console, "ada"), as_user(console, "cleo")
    clinic = load_clinic(console.settings.clinic_file)

    created = admin.post("/api/canned-replies", json=PRICES)
    assert created.status_code == 201, created.text
    reply = created.json()
    assert (reply["title"], reply["shortcut"], reply["updated_by"]) == ("Prices", "price", "ada")
    assert reply["text"] == PRICES["text"]  # kept as written, placeholders and all
    # what a clinician inserts: the clinic's own facts, from clinic.yml
    assert reply["filled"] == (
        f"Our prices are on {clinic.booking_url}. Call {clinic.name} on {clinic.phone} with any question."
    )

    listed = cleo.get("/api/canned-replies")
    assert listed.status_code == 200 and [r["filled"] for r in listed.json()] == [reply["filled"]]

    changed = admin.put(
        f"/api/canned-replies/{reply['id']}",
        json={"title": "Prices and booking", "text": "See {booking_url}.", "shortcut": "prices"},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["shortcut"]) == ("Prices and booking", "prices")
    assert changed.json()["filled"] == f"See {clinic.booking_url}."

    assert admin.delete(f"/api/canned-replies/{reply['id']}").status_code == 204
    assert cleo.get("/api/canned-replies").json() == []
    assert admin.delete(f"/api/canned-replies/{reply['id']}").status_code == 404
    assert admin.put(f"/api/canned-replies/{reply['id']}", json=PRICES).status_code == 404

    for action in ("canned_reply_create", "canned_reply_update", "canned_reply_delete"):
        (entry,) = audit(console, action)
        assert entry["actor"] == "ada" and json.loads(entry["detail"])["id"] == reply["id"], action


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_clinicians_use_them_reviewers_do_not_see_them_and_only_admins_change_them(console):
    admin = as_user(console, "ada")
    reply = admin.post("/api/canned-replies", json=PRICES).json()
    cleo, rita = as_user(console, "cleo"), as_user(console, "rita")
    assert cleo.get("/api/canned-replies").status_code == 200
    assert rita.get("/api/canned-replies").status_code == 403
    for browser in (cleo, rita):
        assert browser.post("/api/canned-replies", json={**PRICES, "shortcut": None}).status_code == 403
        assert browser.put(f"/api/canned-replies/{reply['id']}", json=PRICES).status_code == 403
        assert browser.delete(f"/api/canned-replies/{reply['id']}").status_code == 403
    assert len(admin.get("/api/canned-replies").json()) == 1
    assert audit(console, "canned_reply_update") == [] and audit(console, "canned_reply_delete") == []
    # without the CSRF header a change is refused, even for an admin
    forged = TestClient(console.client.app, cookies=admin.cookies)
    assert forged.delete(f"/api/canned-replies/{reply['id']}").status_code == 403


def test_a_typo_in_a_placeholder_or_a_taken_shortcut_is_refused(console):
    admin = as_user(console, "ada")
    typo = admin.post("/api/canned-replies", json={**PRICES, "text": "Call us on {phone_number}."})
    assert typo.status_code == 422 and "{phone_number}" in typo.text
    assert admin.post("/api/canned-replies", json={**PRICES, "shortcut": "/two words"}).status_code == 422
    assert admin.post("/api/canned-replies", json={**PRICES, "title": "   "}).status_code == 422
    assert admin.post("/api/canned-replies", json={**PRICES, "text": " \n "}).status_code == 422

    first = admin.post("/api/canned-replies", json=PRICES)
    assert first.status_code == 201
    taken = admin.post("/api/canned-replies", json={**PRICES, "title": "Costs", "shortcut": "/PRICE"})
    assert taken.status_code == 409 and "already used" in taken.json()["detail"]
    other = admin.post("/api/canned-replies", json={**PRICES, "title": "Costs", "shortcut": None})
    assert other.status_code == 201 and other.json()["shortcut"] is None
    clash = admin.put(f"/api/canned-replies/{other.json()['id']}", json={**PRICES, "title": "Costs"})
    assert clash.status_code == 409
    # keeping one's own shortcut is no clash
    assert admin.put(f"/api/canned-replies/{first.json()['id']}", json=PRICES).status_code == 200
    # every placeholder the console fills in is accepted
    every = " ".join("{" + name + "}" for name in PLACEHOLDERS)
    filled = admin.post("/api/canned-replies", json={"title": "All", "text": every})
    assert filled.status_code == 201 and "{" not in filled.json()["filled"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_clinic_file_that_cannot_be_read_leaves_the_placeholders_for_the_clinician_to_see(console, tmp_path):
    admin = as_user(console, "ada")
    admin.post("/api/canned-replies", json=PRICES)
    console.settings.clinic_file = tmp_path / "missing.yml"
    (listed,) = admin.get("/api/canned-replies").json()
    assert listed["filled"] == PRICES["text"]
