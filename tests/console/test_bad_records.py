"""One bad record in Rasa's tracker store never stops the console: events written straight into the
`events` table with a lone surrogate, NUL, broken JSON, values of the wrong type, missing fields,
giant values or impossible timestamps are repaired or skipped; the list, the handoff queue, the
transcripts, replies and the export keep answering 200 with every other conversation, and each
bad event is logged once, by id, without the patient's text. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import logging
import time

import pytest

from console import sync as index_sync
from tests.console.conftest import listed
from tests.console.fake_rasa import FakeRasa

OTHERS = {"web-aaaaaaaaaaaaaaaa", "tg-1001", "wa-4477", "rest-1"}  # the `conversations` fixture
EMERGENCY = "web-surrogate0000000"
ODD = "rest-odd-records"
TOKEN = "console-test-token-0123456789"
SECRET_WORDS = "my-private-words"  # in the bad events' text: must never reach a log line


def raw(tracker, sender: str, type_name: str, data: str, timestamp: float | None = None) -> None:
    """An event row exactly as given: `data` is the stored text, not necessarily JSON."""
    tracker.clock += 1
    with tracker.engine.begin() as conn:
        conn.execute(
            tracker.events.insert().values(
                sender_id=sender,
                type_name=type_name,
                timestamp=tracker.clock if timestamp is None else timestamp,
                data=data,
            )
        )


@pytest.fixture()
def bad_records(console, conversations):
    """An emergency whose message holds a lone surrogate, stored the way Rasa stores it (json.dumps
    escapes it as \\ud800), then a conversation of every other kind of broken event."""
    t = conversations
    user = {"event": "user", "text": f"I can't breathe\ud800 {SECRET_WORDS}", "input_channel": "webchat"}
    raw(t, EMERGENCY, "user", json.dumps(user))
    raw(t, EMERGENCY, "bot", json.dumps({"event": "bot", "text": "Call 112 now.", "data": {"buttons": None}}))
    meta = {"kind": "emergency", "topics": ["\udfff"], "passage_ids": [], "confidence": float("nan"), "handoff": True}
    raw(t, EMERGENCY, "bot", json.dumps({"event": "bot", "text": None, "data": {"custom": {"meta": meta}}}))
    raw(t, EMERGENCY, "slot", json.dumps({"event": "slot", "name": "handoff", "value": True}))
    raw(t, EMERGENCY, "slot", json.dumps({"event": "slot", "name": "handoff_reason", "value": "\ud800" * 500}))

    broken = [
        ("user", "not json at all {" + SECRET_WORDS),
        ("user", json.dumps([1, 2, 3])),
        ("user", json.dumps({"event": "user"})),  # no text
        ("user", json.dumps({"event": "user", "text": 12345, "input_channel": ["rest"]})),
        ("user", json.dumps({"event": "user", "text": {"nested": SECRET_WORDS}})),
        ("user", json.dumps({"event": "user", "text": f"nul\x00 {SECRET_WORDS}\ufffe", "input_channel": "x" * 5000})),
        ("user", json.dumps({"event": "user", "text": SECRET_WORDS * 100_000})),  # 1.6 MB
        ("bot", json.dumps({"event": "bot", "text": 7, "metadata": "staff", "data": "buttons"})),
        ("bot", json.dumps({"event": "bot", "data": {"custom": {"meta": "answer"}, "buttons": {"a": 1}}})),
        ("bot", json.dumps({"event": "bot", "data": {"custom": [1]}})),
        ("bot", json.dumps({"event": "bot", "data": {"custom": {"meta": {"kind": {"x": 1}, "confidence": "low"}}}})),
        ("bot", json.dumps({"event": "bot", "data": {"custom": {"meta": {"kind": "a,b", "topics": 5}}}})),
        ("bot", json.dumps({"event": "bot", "text": "staff", "metadata": {"staff_reply": True, "author": ["x"]}})),
        ("slot", json.dumps({"event": "slot", "name": "handoff_reason", "value": {"why": SECRET_WORDS}})),
        ("slot", "null"),
        ("action", ""),
        ("user", '{"event": "user", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"),  # too deep: RecursionError
    ]
    for type_name, data in broken:
        raw(t, ODD, type_name, data)
    for timestamp in (float("nan"), float("inf"), -float("inf"), 1e300):
        raw(t, ODD, "user", json.dumps({"event": "user", "text": "when?"}), timestamp=timestamp)
    return t


def test_console_keeps_answering_with_every_conversation(console, bad_records):
    console.login("ada")
    assert set(listed(console, page_size=200)) == OTHERS | {EMERGENCY, ODD}

    queue = console.client.get("/api/handoffs")
    assert queue.status_code == 200, queue.text
    waiting = {w["sender_id"]: w for w in queue.json()["items"]}
    assert {EMERGENCY, "tg-1001", "wa-4477"} <= set(waiting)
    assert waiting[EMERGENCY]["emergency"] is True
    assert queue.json()["items"][0]["emergency"] is True  # emergencies first

    for sender in (EMERGENCY, ODD, *OTHERS):
        response = console.client.get(f"/api/conversations/{sender}")
        assert response.status_code == 200, (sender, response.text)

    for file_format in ("csv", "jsonl"):
        response = console.client.get("/api/export", params={"format": file_format})
        assert response.status_code == 200, response.text
        exported = (
            {row["sender_id"] for row in csv.DictReader(io.StringIO(response.text))}
            if file_format == "csv"
            else {json.loads(line)["conversation"]["sender_id"] for line in response.text.splitlines()}
        )
        assert exported == OTHERS | {EMERGENCY, ODD}


def test_the_emergency_with_a_lone_surrogate_reads_with_a_replacement_character(console, bad_records):
    console.login("ada")
    listing = console.client.get("/api/conversations", params={"kind": "emergency"}).json()["items"]
    row = next(c for c in listing if c["sender_id"] == EMERGENCY)
    assert row["preview"].startswith("I can't breathe\ufffd") and row["channel"] == "webchat"

    transcript = console.client.get(f"/api/conversations/{EMERGENCY}").json()
    patient = transcript["messages"][0]
    assert patient["role"] == "patient" and patient["text"].startswith("I can't breathe\ufffd")
    meta = transcript["messages"][1]["meta"]
    assert meta["kind"] == "emergency" and meta["topics"] == ["\ufffd"] and meta["confidence"] is None
    handoff = next(w for w in console.client.get("/api/handoffs").json()["items"] if w["sender_id"] == EMERGENCY)
    assert handoff["reason"] == "\ufffd" * 64  # cleaned and cut to its column

    found = console.client.get("/api/conversations", params={"q": "breathe"}).json()["items"]
    assert [c["sender_id"] for c in found] == [EMERGENCY]


def test_broken_events_are_repaired_to_what_can_be_read(console, bad_records):
    console.login("ada")
    messages = console.client.get(f"/api/conversations/{ODD}").json()["messages"]
    patient = [m["text"] for m in messages if m["role"] == "patient"]
    assert "12345" in patient  # a number stays readable
    nul = next(text for text in patient if text.startswith("nul"))
    assert "\x00" not in nul and nul.endswith("\ufffd")
    giant = max(patient, key=len)
    assert len(giant) == 20_000 and giant.endswith("…")
    impossible_times = [m["at"] for m in messages if m["role"] == "patient" and m["text"] == "when?"]
    assert len(impossible_times) == 4 and all(at.startswith("1970-01-01") for at in impossible_times)
    staff = next(m for m in messages if m["role"] == "staff")
    assert staff["author"] is None and staff["text"] == "staff"
    row = next(c for c in console.client.get("/api/conversations").json()["items"] if c["sender_id"] == ODD)
    assert row["kinds"] == ["a b"]  # a comma in a kind cannot split the kinds list; a dict is no kind
    assert row["user_messages"] == 12


def test_each_bad_event_is_logged_once_by_id_without_its_text(console, bad_records, caplog):
    console.login("ada")
    with caplog.at_level(logging.WARNING, logger="console.sync"):
        assert console.client.get("/api/conversations").status_code == 200
    first = [r.getMessage() for r in caplog.records if r.name == "console.sync"]
    assert any("repaired tracker event" in line for line in first)
    assert len(first) == len(set(first))
    assert not any(SECRET_WORDS in line or "breathe" in line for line in first)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="console.sync"):
        assert console.client.get("/api/conversations").status_code == 200
        assert console.client.get("/api/handoffs").status_code == 200
    assert [r for r in caplog.records if r.name == "console.sync"] == []


def test_an_event_that_cannot_be_stored_is_skipped_and_the_rest_indexed(console, conversations, monkeypatch, caplog):
    """The last safety net: a value the store refuses (here a lone surrogate put in the row behind
    the cleaning's back) fails its batch; the batch is stored event by event and only that one is
    skipped."""
    t = conversations
    t.turn("web-poison0000000000", "poison", "ok", channel="webchat")
    t.turn("web-after00000000000", "fine question", "fine answer", channel="webchat")
    real_apply = index_sync.apply

    def apply(row, event):
        real_apply(row, event)
        if event.data.get("text") == "poison":
            row.preview = "\ud800"

    monkeypatch.setattr(index_sync, "apply", apply)
    console.login("ada")
    with caplog.at_level(logging.WARNING, logger="console.sync"):
        names = set(listed(console, page_size=200))
    assert OTHERS | {"web-after00000000000"} <= names
    skipped = [r.getMessage() for r in caplog.records if "cannot be stored" in r.getMessage()]
    assert len(skipped) == 1 and "poison" not in skipped[0]
    # the poisoned conversation's other events are still indexed; the queue and export still answer
    assert "web-poison0000000000" in names
    assert console.client.get("/api/handoffs").status_code == 200
    assert console.client.get("/api/export", params={"format": "jsonl"}).status_code == 200


def test_a_staff_reply_to_the_bad_conversation_goes_through(console, bad_records):
    """Replies: the handoff reply route syncs the index first and must not trip over the record."""
    fake = FakeRasa(
        on_reply=lambda body: bad_records.add(
            body["sender_id"], "bot", text=body["text"], metadata={"staff_reply": True, "author": body["author"]}
        ),
    )
    url = fake.start()
    try:
        from console.deps import settings_dep

        settings = console.settings.model_copy(update={"rasa_url": url, "rasa_token": TOKEN})
        console.client.app.dependency_overrides[settings_dep] = lambda: settings
        console.login("cleo")
        response = console.client.post(f"/api/handoffs/{EMERGENCY}/reply", json={"text": "Calling you now."})
        assert response.status_code == 200, response.text
        messages = console.client.get(f"/api/conversations/{EMERGENCY}").json()["messages"]
        assert messages[-1]["role"] == "staff" and messages[-1]["text"] == "Calling you now."
    finally:
        fake.stop()


def test_redaction_at_rest_rewrites_a_record_with_a_lone_surrogate(console, tracker, tmp_path):
    """The retention job's at-rest redaction stores patient text again (tracker store, alerts file):
    a lone surrogate in it must not stop the job."""
    from tests.console.test_erasure import read_alerts

    console.settings.alerts_file = tmp_path / "alerts.jsonl"
    idle = time.time() - 3 * 86_400
    said = "call me on 07700 900123\ud800"
    tracker.add("web-idle-surrogate00", "user", at=idle, text=said, input_channel="webchat")  # stored escaped
    tracker.turn("web-other00000000000", "does it hurt?", "A little.", channel="webchat")
    line = {"kind": "emergency", "sender_id": "web-idle-surrogate00", "channel": "webchat", "text": said, "at": idle}
    console.settings.alerts_file.write_text(json.dumps(line) + "\n", encoding="utf-8")
    console.login("ada")
    response = console.client.post("/api/retention/purge")
    assert response.status_code == 200, response.text
    assert response.json()["redacted"]["events"] == 1 and response.json()["redacted"]["alerts"] == 1
    messages = console.client.get("/api/conversations/web-idle-surrogate00").json()["messages"]
    assert messages[0]["text"] == "call me on [phone]\ufffd"
    assert [a["text"] for a in read_alerts(console.settings.alerts_file)] == ["call me on [phone]\ufffd"]
    assert {"web-idle-surrogate00", "web-other00000000000"} <= set(listed(console))
