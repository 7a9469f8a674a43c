"""Identifiers patients type (phone numbers, email addresses, links, card or bank numbers) are
hidden in what the console shows unless the clinic's settings say otherwise; prices, dates and
small numbers stay readable."""

from __future__ import annotations

import pytest

from console.deps import settings_dep
from console.redaction import redact


@pytest.mark.parametrize(
    ("text", "hidden", "shown"),
    [
        ("call me on +44 7700 900123", "7700 900123", "[phone]"),
        ("my number is 0612345678", "0612345678", "[phone]"),
        ("(020) 7946 0958 after 6pm", "7946", "[phone]"),
        ("mail jane.doe@example.co.uk please", "jane.doe", "[email]"),
        ("card 4111 1111 1111 1111", "4111", "[number]"),
        ("IBAN NL91ABNA0417164300", "NL91", "[number]"),
        ("see https://x.example/a?token=abc", "token=abc", "[link]"),
    ],
)
def test_identifiers_are_hidden(text, hidden, shown):
    assert hidden not in redact(text) and shown in redact(text)


@pytest.mark.parametrize(
    "text",
    ["it costs 250-400 euros, €1.500 for 3 sessions", "I'm 34", "had it on 2026-11-02", "born 12/03/1985"],
)
def test_prices_ages_and_dates_stay_readable(text):
    assert redact(text) == text


@pytest.fixture()
def phone_conversation(console, tracker):
    tracker.turn("web-pii0000000000000", "my number is 0612345678, does it hurt?", "Mild stinging.")
    return "web-pii0000000000000"


def test_transcript_and_list_hide_identifiers_by_default(console, phone_conversation):
    console.login("rita")
    listed = console.client.get("/api/conversations").json()["items"][0]
    assert "0612345678" not in listed["preview"]
    messages = console.client.get(f"/api/conversations/{phone_conversation}").json()["messages"]
    assert messages[0]["text"] == "my number is [phone], does it hurt?"
    # searching by what the patient wrote still finds it
    assert console.client.get("/api/conversations", params={"q": "does it hurt"}).json()["total"] == 1


def test_raw_text_is_refused_unless_the_clinic_keeps_it(console, phone_conversation):
    console.login("ada")
    response = console.client.get(f"/api/conversations/{phone_conversation}", params={"raw": True})
    assert response.status_code == 403


def test_admins_may_view_raw_text_where_the_clinic_keeps_it_and_that_is_audited(console, phone_conversation):
    settings = console.settings.model_copy(update={"console_keep_raw_text": True})
    console.client.app.dependency_overrides[settings_dep] = lambda: settings
    console.login("rita")
    assert console.client.get(f"/api/conversations/{phone_conversation}", params={"raw": True}).status_code == 403
    console.login("ada")
    response = console.client.get(f"/api/conversations/{phone_conversation}", params={"raw": True})
    assert response.json()["messages"][0]["text"] == "my number is 0612345678, does it hurt?"
    entry = console.client.get("/api/audit", params={"action": "view_transcript_raw"}).json()["items"][0]
    assert (entry["actor"], entry["target"]) == ("ada", phone_conversation)


def test_redaction_can_be_turned_off(console, phone_conversation):
    settings = console.settings.model_copy(update={"console_redact": False})
    console.client.app.dependency_overrides[settings_dep] = lambda: settings
    console.login("rita")
    messages = console.client.get(f"/api/conversations/{phone_conversation}").json()["messages"]
    assert "0612345678" in messages[0]["text"]


def test_settings_view_is_for_admins(console):
    console.login("rita")
    assert console.client.get("/api/settings").status_code == 403
    console.login("ada")
    shown = console.client.get("/api/settings").json()
    assert shown["redact"] is True and shown["keep_raw_text"] is False and shown["retention_days"] == 180
