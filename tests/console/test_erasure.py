"""Erasure of one patient's data by sender id: gone from Rasa's tracker store, the console's tables and
the staff alerts file, with an audit entry that keeps no message text."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.channels.feedback import Answer, FeedbackStore, Rating, read_feedback
from bot.channels.webchat_sessions import WidgetSessions
from console.__main__ import main
from console.tracker_store import tracker_engine
from core.alerts import StaffAlerts, locked
from tests.console.conftest import listed

CONSOLE_TABLES = ("console_conversations", "console_reviews", "console_tags", "console_notes")


def count(db_url: str, table: str, sender: str | None = None) -> int:
    """Rows in a table (of one sender), read straight from the database."""
    with tracker_engine(db_url).connect() as conn:
        if sender is None:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        return conn.execute(text(f"SELECT count(*) FROM {table} WHERE sender_id = :s"), {"s": sender}).scalar_one()


def write_alerts(path: Path, *alerts: tuple[str, float, str]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        for sender, at, said in alerts:
            line = {"kind": "handoff", "sender_id": sender, "channel": "rest", "text": said, "reason": "r", "at": at}
            fh.write(json.dumps(line) + "\n")


def read_alerts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def use_alerts_file(console, tmp_path: Path) -> Path:
    console.settings.alerts_file = tmp_path / "alerts.jsonl"
    return console.settings.alerts_file


def is_pseudonym(target: str | None) -> bool:
    """What the audit log names instead of an erased or purged patient (console/audit.py)."""
    return re.fullmatch(r"erased-[0-9a-f]{12}", target or "") is not None


def audit_entries(console, action: str) -> list[dict]:
    response = console.client.get("/api/audit", params={"action": action})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def review_everything(console, sender: str) -> None:
    """As the reviewer (logged in by the `conversations` fixture): reviewed, tagged, a note."""
    assert console.client.put(f"/api/conversations/{sender}/review").status_code == 204
    assert console.client.post(f"/api/conversations/{sender}/tags", json={"tag": "warfarin"}).status_code == 204
    assert console.client.post(f"/api/conversations/{sender}/notes", json={"text": "call back"}).status_code == 201


def test_erasure_removes_the_patient_from_every_store_and_is_audited(console, conversations, tmp_path):
    db_url = console.settings.console_db_url
    alerts = use_alerts_file(console, tmp_path)
    write_alerts(alerts, ("tg-1001", 1_790_000_010, "I take warfarin"), ("wa-4477", 1_790_000_011, "throat"))
    review_everything(console, "tg-1001")
    review_everything(console, "wa-4477")
    assert count(db_url, "events", "tg-1001") > 0

    console.login("ada")
    response = console.client.delete("/api/patients/tg-1001")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sender_id"] == "tg-1001"
    assert body["events"] == 5 and body["alerts"] == 1
    assert (body["conversations"], body["reviews"], body["tags"], body["notes"]) == (1, 1, 1, 1)

    assert count(db_url, "events", "tg-1001") == 0
    for table in CONSOLE_TABLES:
        assert count(db_url, table, "tg-1001") == 0, table
        assert count(db_url, table, "wa-4477") == 1, table  # the other patients keep everything
    assert count(db_url, "events", "wa-4477") > 0
    assert [a["sender_id"] for a in read_alerts(alerts)] == ["wa-4477"]

    entries = audit_entries(console, "erase")
    assert len(entries) == 1
    assert entries[0]["actor"] == "ada" and is_pseudonym(entries[0]["target"])  # the audit log names no patient
    assert json.loads(entries[0]["detail"]) == {
        "events": 5,
        "conversations": 1,
        "reviews": 1,
        "tags": 1,
        "notes": 1,
        "alerts": 1,
        "widget_sessions": 0,
        "feedback": 0,
        "contacts": 0,
    }
    assert "warfarin" not in json.dumps(entries)

    # gone from the console too; the admin's own login still works
    assert "tg-1001" not in listed(console)
    assert console.client.get("/api/conversations/tg-1001").status_code == 404
    assert console.client.delete("/api/patients/tg-1001").status_code == 404
    assert len(audit_entries(console, "erase")) == 1


def test_erasure_ends_the_patients_widget_sessions_and_no_one_elses(console, tracker, tmp_path):
    """A phone that kept the widget's token opens nothing once its conversation is erased."""
    use_alerts_file(console, tmp_path)
    sessions = WidgetSessions(console.settings.tracker_db_url, idle_days=30)
    erased, kept = sessions.issue(), sessions.issue()
    tracker.turn(erased.sender_id, "does it hurt?", "Mild stinging.", channel="webchat")
    tracker.turn(kept.sender_id, "how much is it?", "It depends.", channel="webchat")
    assert sessions.resolve(erased.token) == erased.sender_id

    console.login("ada")
    response = console.client.delete(f"/api/patients/{erased.sender_id}")
    assert response.status_code == 200, response.text
    assert response.json()["widget_sessions"] == 1
    assert sessions.resolve(erased.token) is None
    assert sessions.resolve(kept.token) == kept.sender_id
    assert json.loads(audit_entries(console, "erase")[0]["detail"])["widget_sessions"] == 1


def test_erasure_removes_the_patients_feedback_and_no_one_elses(console, tracker, tmp_path):
    """Ratings and "what was missing?" notes go with the patient (and the messaging apps' open questions)."""
    use_alerts_file(console, tmp_path)
    store = FeedbackStore(console.settings.tracker_db_url)
    answer = Answer("tg-1", ("downtime-01",), "downtime")
    store.save(Rating("tg-5001", "telegram", answer, "down", "my own words about my face"))
    store.record_offer("tg-5001", "telegram", Answer("tg-2", ("pain-01",), "pain"))
    store.save(Rating("tg-5002", "telegram", answer, "up"))
    tracker.turn("tg-5001", "any downtime?", "A little redness.", channel="telegram")

    console.login("ada")
    response = console.client.delete("/api/patients/tg-5001")
    assert response.status_code == 200, response.text
    assert response.json()["feedback"] == 2
    assert [f.sender_id for f in read_feedback(store.engine)] == ["tg-5002"]
    assert store.offered("tg-5001", "tg-2") is None
    detail = json.loads(audit_entries(console, "erase")[0]["detail"])
    assert detail["feedback"] == 2 and "my own words" not in json.dumps(detail)


def test_unknown_sender_is_404_and_alerts_only_senders_are_erased(console, tmp_path):
    # no conversation stored yet: Rasa has not even created its events table
    alerts = use_alerts_file(console, tmp_path)
    write_alerts(alerts, ("web-only-alerted", 1_790_000_000, "ring me on 07700 900123"))
    console.login("ada")
    assert console.client.delete("/api/patients/web-nobody").status_code == 404
    response = console.client.delete("/api/patients/web-only-alerted")
    assert response.status_code == 200, response.text
    assert response.json()["alerts"] == 1 and response.json()["events"] == 0
    assert read_alerts(alerts) == []
    assert [is_pseudonym(e["target"]) for e in audit_entries(console, "erase")] == [True]


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/api/patients/tg-1001"), ("POST", "/api/retention/purge")])
def test_only_admins_erase_and_purge_and_only_with_the_csrf_token(console, conversations, method, path, tmp_path):
    use_alerts_file(console, tmp_path)
    anonymous = console.as_new_client()
    assert anonymous.request(method, path).status_code == 401
    for name in ("rita", "cleo"):
        console.login(name)
        assert console.client.request(method, path).status_code == 403, name
    console.login("ada")
    csrf = console.client.headers.pop("X-CSRF-Token")
    assert console.client.request(method, path).status_code == 403
    assert count(console.settings.console_db_url, "events", "tg-1001") > 0  # nothing happened
    console.client.headers["X-CSRF-Token"] = csrf
    assert console.client.request(method, path).status_code == 200


def test_a_conversation_started_after_erasing_the_newest_one_is_listed(console, tracker):
    tracker.turn("web-first", "does it hurt?", "A little.")
    tracker.turn("web-newest", "my number is 07700 900123", "Thanks.")
    console.login("ada")
    assert set(listed(console)) == {"web-first", "web-newest"}  # indexed: the sync cursor is at the top id

    assert console.client.delete("/api/patients/web-newest").status_code == 200
    # SQLite gives the next events the ids the erased ones had
    tracker.turn("web-later", "how many sessions?", "Usually 4-6.")
    response = console.client.get("/api/conversations")
    by_sender = {c["sender_id"]: c for c in response.json()["items"]}
    assert set(by_sender) == {"web-first", "web-later"}
    assert by_sender["web-later"]["user_messages"] == 1
    assert by_sender["web-later"]["preview"] == "how many sessions?"


def test_an_erased_sender_is_not_indexed_again_from_events_not_yet_synced(console, tracker):
    tracker.turn("web-erased", "first question", "Answer.")
    console.login("ada")
    assert listed(console) == ["web-erased"]
    tracker.turn("web-erased", "second question", "Answer.")  # not indexed yet
    tracker.turn("web-never-listed", "a question", "Answer.")  # not indexed yet either
    tracker.turn("web-kept", "my question", "Answer.")

    assert console.client.delete("/api/patients/web-erased").json()["events"] == 6
    assert console.client.delete("/api/patients/web-never-listed").json()["events"] == 3
    assert listed(console) == ["web-kept"]
    assert count(console.settings.console_db_url, "console_conversations") == 1


def test_alerts_appended_while_the_file_is_rewritten_are_kept(tmp_path):
    path = tmp_path / "alerts.jsonl"
    write_alerts(path, ("web-a", 1.0, "old"))
    alerts = StaffAlerts(path)
    with locked(path, "r") as held:  # the console's rewrite holds the lock...
        sender = threading.Thread(target=alerts.send, args=("handoff", "web-b", "webchat", "help", "handoff:human"))
        sender.start()
        replacement = tmp_path / "replacement"
        replacement.write_text(held.read(), encoding="utf-8")
        replacement.replace(path)  # ...and replaces the file before letting go
    sender.join()
    assert [a["sender_id"] for a in read_alerts(path)] == ["web-a", "web-b"]


def test_the_command_line_erases_and_audits(console, conversations, tmp_path, monkeypatch, capsys):
    alerts = use_alerts_file(console, tmp_path)
    write_alerts(alerts, ("wa-4477", 1_790_000_011, "throat"))
    db_url = console.settings.console_db_url
    monkeypatch.setenv("MESO_CONSOLE_DB_URL", db_url)
    monkeypatch.setenv("MESO_TRACKER_DB_URL", db_url)
    monkeypatch.setenv("MESO_ALERTS_FILE", str(alerts))
    monkeypatch.setattr("getpass.getuser", lambda: "root")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["erase", "wa-4477"]) == 0
        assert "erased 'wa-4477'" in capsys.readouterr().out
        assert main(["erase", "wa-4477"]) == 1
        assert "nothing is stored" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
    assert count(db_url, "events", "wa-4477") == 0
    assert count(db_url, "console_conversations", "wa-4477") == 0
    assert read_alerts(alerts) == []
    console.login("ada")
    entries = audit_entries(console, "erase")
    assert [(e["actor"], is_pseudonym(e["target"])) for e in entries] == [("cli:root", True)]
