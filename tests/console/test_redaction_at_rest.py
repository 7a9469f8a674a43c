"""At-rest redaction: once a conversation has been idle for MESO_REDACT_STORED_AFTER_HOURS and is not
waiting for a clinician, identifiers in the stored patient messages (tracker store, conversation index,
alerts file) are redacted, unless the clinic keeps raw text (MESO_CONSOLE_KEEP_RAW_TEXT=true)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from console import retention
from console.db import session_factory
from console.tracker_store import tracker_engine
from tests.console.test_erasure import listed, read_alerts, write_alerts

DAY = 86_400.0
SAID = "call me on 07700 900123 or ann@example.com"
REDACTED = "call me on [phone] or [email]"


def patient_says(tracker, sender: str, at: float, said: str = SAID) -> None:
    entities = [{"entity": "email", "value": "ann@example.com", "start": 29, "end": 44}]
    parse = {"text": said, "intent": {"name": "ask_question"}, "entities": entities}
    tracker.add(sender, "user", at=at, text=said, parse_data=parse, input_channel="rest")
    tracker.add(sender, "bot", at=at + 1, text="Our phone is 020 7946 0000.")


def stored(db_url: str, sender: str, type_name: str = "user") -> list[dict]:
    with tracker_engine(db_url).connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM events WHERE sender_id = :s AND type_name = :t ORDER BY id"),
            {"s": sender, "t": type_name},
        )
        return [json.loads(r.data) for r in rows]


def index_text(db_url: str, sender: str) -> str:
    with tracker_engine(db_url).connect() as conn:
        row = conn.execute(
            text("SELECT preview, search_text FROM console_conversations WHERE sender_id = :s"), {"s": sender}
        ).one()
        return f"{row.preview}\n{row.search_text}"


def index_name(db_url: str, sender: str) -> str | None:
    with tracker_engine(db_url).connect() as conn:
        return conn.execute(
            text("SELECT display_name FROM console_conversations WHERE sender_id = :s"), {"s": sender}
        ).scalar_one()


def conversations(console, tracker, tmp_path) -> float:
    now = time.time()
    console.settings.alerts_file = tmp_path / "alerts.jsonl"
    patient_says(tracker, "web-idle", now - 3 * DAY)
    tracker.add("web-idle", "slot", at=now - 3 * DAY + 2, name="pending_question", value="is 07700 900123 ok?")
    patient_says(tracker, "web-recent", now - 3_600)
    patient_says(tracker, "wa-waiting", now - 3 * DAY)
    tracker.add("wa-waiting", "slot", at=now - 3 * DAY + 2, name="handoff", value=True)
    patient_says(tracker, "tg-released", now - 3 * DAY)
    tracker.add("tg-released", "slot", at=now - 3 * DAY + 2, name="handoff", value=True)
    tracker.add("tg-released", "slot", at=now - 2 * DAY, name="handoff", value=False)
    write_alerts(
        console.settings.alerts_file,
        ("web-idle", now - 3 * DAY, SAID),
        ("wa-waiting", now - 3 * DAY, SAID),
        ("web-recent", now - 3_600, SAID),
    )
    console.login("ada")
    assert len(listed(console)) == 4  # indexed with the raw text
    return now


def test_idle_conversations_are_redacted_in_every_store_but_recent_and_waiting_ones_are_not(console, tracker, tmp_path):
    db_url = console.settings.console_db_url
    conversations(console, tracker, tmp_path)
    response = console.client.post("/api/retention/purge")
    assert response.status_code == 200, response.text
    assert response.json()["redacted"] == {"conversations": 2, "events": 3, "alerts": 1}

    for sender in ("web-idle", "tg-released"):
        (message,) = stored(db_url, sender)
        assert message["text"] == REDACTED and message["parse_data"]["text"] == REDACTED
        assert message["parse_data"]["entities"][0]["value"] == "[email]"
        assert message["parse_data"]["intent"] == {"name": "ask_question"}  # the rest is untouched
        assert "07700" not in index_text(db_url, sender) and "ann@example.com" not in index_text(db_url, sender)
        assert stored(db_url, sender, "bot")[0]["text"] == "Our phone is 020 7946 0000."  # the clinic's replies stay
    assert [s["value"] for s in stored(db_url, "web-idle", "slot")] == ["is [phone] ok?"]
    for sender in ("web-recent", "wa-waiting"):
        (message,) = stored(db_url, sender)
        assert message["text"] == SAID and message["parse_data"]["text"] == SAID
        assert "07700 900123" in index_text(db_url, sender)
    assert [a["text"] for a in read_alerts(console.settings.alerts_file)] == [REDACTED, SAID, SAID]
    assert set(listed(console, q="ann@example.com")) == {"web-recent", "wa-waiting"}

    (entry,) = console.client.get("/api/audit", params={"action": "purge"}).json()["items"]
    assert json.loads(entry["detail"])["redacted_events"] == 3
    assert "ann@example.com" not in entry["detail"]

    again = console.client.post("/api/retention/purge").json()
    assert again["redacted"] == {"conversations": 0, "events": 0, "alerts": 0}


def test_conversations_come_round_once_idle_or_handed_back(console, tracker, tmp_path):
    db_url = console.settings.console_db_url
    now = conversations(console, tracker, tmp_path)
    assert console.client.post("/api/retention/purge").json()["redacted"]["events"] == 3
    tracker.add("wa-waiting", "slot", at=now, name="handoff", value=False)  # the clinician hands back

    later = datetime.fromtimestamp(now, UTC) + timedelta(days=2)
    with session_factory(db_url)() as db:
        report = retention.run(db, console.settings, now=later)
    assert report.redacted is not None and report.redacted.events == 2
    for sender in ("web-recent", "wa-waiting"):
        assert stored(db_url, sender)[0]["text"] == REDACTED, sender
        assert "07700" not in index_text(db_url, sender)
    assert all(a["text"] == REDACTED for a in read_alerts(console.settings.alerts_file))


def test_nothing_is_rewritten_when_the_clinic_keeps_raw_text(console, tracker, tmp_path):
    db_url = console.settings.console_db_url
    conversations(console, tracker, tmp_path)
    console.settings.console_keep_raw_text = True
    before = console.settings.alerts_file.read_text()
    response = console.client.post("/api/retention/purge")
    assert response.status_code == 200, response.text
    assert response.json()["redacted"] is None
    for sender in ("web-idle", "tg-released", "web-recent", "wa-waiting"):
        assert stored(db_url, sender)[0]["text"] == SAID
        assert "07700 900123" in index_text(db_url, sender)
    assert console.settings.alerts_file.read_text() == before

    # switched off later: the conversations kept raw meanwhile are redacted then
    console.settings.console_keep_raw_text = False
    assert console.client.post("/api/retention/purge").json()["redacted"]["events"] == 3
    assert stored(db_url, "web-idle")[0]["text"] == REDACTED


def test_a_messaging_apps_name_for_the_patient_goes_with_the_redaction(console, tracker, tmp_path):
    """Telegram's first name and WhatsApp's profile name help staff while a patient waits; once the
    conversation is idle they go from the stored messages and the index too."""
    db_url = console.settings.console_db_url
    long_ago = time.time() - 3 * DAY
    tracker.add(
        "tg-named",
        "user",
        at=long_ago,
        text="does it hurt?",
        input_channel="telegram",
        metadata={"display_name": "Asha"},
    )
    tracker.add("tg-named", "bot", at=long_ago + 1, text="Mild stinging.")
    console.login("ada")
    listed(console)  # indexes it
    assert index_name(db_url, "tg-named") == "Asha"
    response = console.client.post("/api/retention/purge")
    assert response.status_code == 200, response.text
    (message,) = stored(db_url, "tg-named")
    assert "display_name" not in message.get("metadata", {})
    assert index_name(db_url, "tg-named") is None
