"""Conversation list and transcript, read from Rasa's tracker store (same database)."""

from __future__ import annotations

import pytest

from tests.console.conftest import listed


def test_list_is_newest_first_with_channel_and_outcome(console, conversations):
    body = console.client.get("/api/conversations").json()
    assert body["total"] == 4
    assert [c["sender_id"] for c in body["items"]] == ["tg-1001", "rest-1", "wa-4477", "web-aaaaaaaaaaaaaaaa"]
    by_id = {c["sender_id"]: c for c in body["items"]}
    assert by_id["wa-4477"]["channel"] == "whatsapp" and by_id["wa-4477"]["emergency"]
    assert by_id["tg-1001"]["handoff"] and by_id["tg-1001"]["kinds"] == ["handoff"]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"channel": "telegram"}, ["tg-1001"]),
        ({"kind": "handoff"}, ["tg-1001"]),
        ({"kind": "emergency"}, ["wa-4477"]),
        ({"kind": "clarify"}, ["rest-1"]),
        ({"kind": "low_confidence"}, ["rest-1"]),
        ({"q": "WARFARIN"}, ["tg-1001"]),
        ({"q": "wa-4477"}, ["wa-4477"]),
        ({"reviewed": "true"}, []),
    ],
)
def test_filters(console, conversations, params, expected):
    assert listed(console, **params) == expected


def test_pagination(console, conversations):
    first = console.client.get("/api/conversations", params={"page_size": 3}).json()
    second = console.client.get("/api/conversations", params={"page_size": 3, "page": 2}).json()
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert not {c["sender_id"] for c in first["items"]} & {c["sender_id"] for c in second["items"]}


def test_new_events_show_up_on_the_next_read(console, conversations):
    conversations.turn("web-bbbbbbbbbbbbbbbb", "how much is it?", "It costs...", channel="webchat")
    assert listed(console)[0] == "web-bbbbbbbbbbbbbbbb"


def test_transcript_shows_messages_with_their_metadata_and_is_audited(console, conversations):
    response = console.client.get("/api/conversations/tg-1001")
    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [m["role"] for m in messages] == ["patient", "bot", "staff"]
    assert messages[1]["meta"]["kind"] == "handoff"
    assert messages[2]["author"] == "dr.rao" and messages[2]["text"] == "Hello, Dr Rao here."
    console.client.cookies.clear()
    console.login("ada")
    views = console.client.get("/api/audit", params={"action": "view_transcript"}).json()["items"]
    assert [(v["actor"], v["target"]) for v in views] == [("rita", "tg-1001")]


def test_unknown_conversation_is_404(console, conversations):
    assert console.client.get("/api/conversations/nobody").status_code == 404


def test_clinicians_read_too_but_not_without_login(console, conversations):
    console.client.cookies.clear()
    assert console.client.get("/api/conversations").status_code == 401
    console.login("cleo")
    assert console.client.get("/api/conversations").status_code == 200


def test_date_filters_understand_time_zones(console, tracker):
    from datetime import UTC, datetime, timedelta, timezone

    tracker.add("web-tz00000000000000", "user", at=1_790_000_000.0, text="hello", input_channel="webchat")
    console.login("rita")
    at = datetime.fromtimestamp(1_790_000_000.0, UTC).astimezone(timezone(timedelta(hours=-5)))
    assert listed(console, since=(at - timedelta(hours=1)).isoformat()) == ["web-tz00000000000000"]
    assert listed(console, since=(at + timedelta(hours=1)).isoformat()) == []
