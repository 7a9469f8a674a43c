"""The retention purge: conversations whose last event is older than MESO_RETENTION_DAYS go from the
tracker store, the console's tables and the alerts file; recent ones stay; every run is audited."""

from __future__ import annotations

import json
import threading
import time

from fastapi.testclient import TestClient

from console import scheduler
from console.__main__ import main
from console.app import create_app
from tests.console.test_erasure import CONSOLE_TABLES, audit_entries, count, listed, read_alerts, write_alerts

DAY = 86_400.0


def old_conversations(tracker, now: float) -> None:
    """Three conversations past the 180-day limit (one never indexed, one still waiting for a clinician),
    two within it (one of them started long ago)."""
    tracker.add("web-recent", "user", at=now - 3_600, text="does it hurt?")
    tracker.add("web-long", "user", at=now - 300 * DAY, text="first question, long ago")
    tracker.add("web-long", "user", at=now - 2 * DAY, text="came back recently")
    tracker.add("web-old", "user", at=now - 200 * DAY, text="my email is ann@example.com")
    tracker.add("web-old", "bot", at=now - 200 * DAY + 1, text="Thanks.")
    tracker.add("wa-old-handoff", "user", at=now - 190 * DAY, text="I take warfarin")
    tracker.add("wa-old-handoff", "slot", at=now - 190 * DAY + 1, name="handoff", value=True)


def test_purge_removes_old_conversations_everywhere_and_keeps_recent_ones(console, tracker, tmp_path):
    now = time.time()
    db_url = console.settings.console_db_url
    console.settings.alerts_file = alerts = tmp_path / "alerts.jsonl"
    old_conversations(tracker, now)
    console.login("rita")
    assert set(listed(console)) == {"web-recent", "web-long", "web-old", "wa-old-handoff"}
    for sender in ("web-old", "web-recent"):
        assert console.client.put(f"/api/conversations/{sender}/review").status_code == 204
        assert console.client.post(f"/api/conversations/{sender}/tags", json={"tag": "x"}).status_code == 204
        assert console.client.post(f"/api/conversations/{sender}/notes", json={"text": "n"}).status_code == 201
    tracker.add("tg-old-unindexed", "user", at=now - 365 * DAY, text="hello")  # after the last sync
    write_alerts(
        alerts,
        ("web-old", now - 200 * DAY, "ann@example.com"),
        ("web-recent", now - 181 * DAY, "an alert older than the limit"),
        ("wa-old-handoff", now - 190 * DAY, "warfarin"),
        ("web-recent", now - 3_600, "recent alert"),
    )

    console.login("ada")
    response = console.client.post("/api/retention/purge")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expired"] == 3
    assert body["removed"] == {
        "events": 5,
        "conversations": 2,
        "reviews": 1,
        "tags": 1,
        "notes": 1,
        "alerts": 3,
        "widget_sessions": 0,
        "feedback": 0,
        "contacts": 0,
    }

    for sender in ("web-old", "wa-old-handoff", "tg-old-unindexed"):
        assert count(db_url, "events", sender) == 0, sender
        for table in CONSOLE_TABLES:
            assert count(db_url, table, sender) == 0, (table, sender)
    for table in CONSOLE_TABLES:
        assert count(db_url, table, "web-recent") == 1, table
    assert count(db_url, "events", "web-long") == 2
    assert [a["text"] for a in read_alerts(alerts)] == ["recent alert"]
    assert set(listed(console)) == {"web-recent", "web-long"}

    entries = audit_entries(console, "purge")
    assert len(entries) == 1 and entries[0]["actor"] == "ada" and entries[0]["target"] is None
    detail = json.loads(entries[0]["detail"])
    assert (detail["expired"], detail["events"], detail["alerts"], detail["retention_days"]) == (3, 5, 3, 180)
    assert "ann@example.com" not in entries[0]["detail"]

    again = console.client.post("/api/retention/purge").json()
    assert again["expired"] == 0 and set(again["removed"].values()) == {0}
    assert len(audit_entries(console, "purge")) == 2  # run by someone: always audited


def test_a_conversation_started_after_a_purge_of_the_newest_ids_is_listed(console, tracker):
    now = time.time()
    tracker.add("web-recent", "user", at=now - 60, text="hello")
    tracker.add("web-old", "user", at=now - 400 * DAY, text="very old")  # the highest id
    console.login("ada")
    assert set(listed(console)) == {"web-recent", "web-old"}
    assert console.client.post("/api/retention/purge").json()["expired"] == 1
    tracker.add("web-after", "user", at=now, text="a new patient")  # gets web-old's id on SQLite
    assert set(listed(console)) == {"web-recent", "web-after"}


def test_the_scheduled_run_purges_as_system_and_audits_only_when_something_changed(console, tracker, tmp_path):
    console.settings.alerts_file = tmp_path / "alerts.jsonl"
    now = time.time()
    tracker.add("web-old", "user", at=now - 200 * DAY, text="old")
    tracker.add("web-recent", "user", at=now - 60, text="new")

    report = scheduler.run_once(console.settings)
    assert report is not None and report.purged.expired == 1
    assert count(console.settings.console_db_url, "events", "web-old") == 0
    assert count(console.settings.console_db_url, "events", "web-recent") == 1
    assert scheduler.run_once(console.settings) is not None  # nothing left to do

    console.login("ada")
    entries = audit_entries(console, "purge")
    assert [e["actor"] for e in entries] == ["system"]
    assert json.loads(entries[0]["detail"])["expired"] == 1


def test_a_failing_scheduled_run_is_logged_and_the_console_keeps_going(console, caplog):
    broken = console.settings.model_copy(update={"tracker_db_url": "postgresql://nobody@127.0.0.1:1/none"})
    assert scheduler.run_once(broken) is None
    assert "retention run failed" in caplog.text
    assert console.client.get("/health").status_code == 200


def test_the_app_starts_and_stops_the_scheduler_with_its_lifespan(console):
    def retention_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "console-retention" and t.is_alive()]

    before = len(retention_threads())
    with TestClient(create_app(console.settings)) as client:
        assert client.get("/health").status_code == 200
        assert len(retention_threads()) == before + 1
    assert len(retention_threads()) == before

    off = console.settings.model_copy(update={"retention_interval_minutes": 0})
    with TestClient(create_app(off)):
        assert len(retention_threads()) == before


def test_the_command_line_purges_and_audits(console, tracker, tmp_path, monkeypatch, capsys):
    now = time.time()
    tracker.add("web-old", "user", at=now - 200 * DAY, text="old")
    alerts = tmp_path / "alerts.jsonl"
    db_url = console.settings.console_db_url
    for name, value in (("CONSOLE_DB_URL", db_url), ("TRACKER_DB_URL", db_url), ("ALERTS_FILE", str(alerts))):
        monkeypatch.setenv(f"MESO_{name}", value)
    monkeypatch.setattr("getpass.getuser", lambda: "cron")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["purge"]) == 0
    finally:
        get_settings.cache_clear()
    assert "purged 1 conversations" in capsys.readouterr().out
    assert count(db_url, "events", "web-old") == 0
    console.login("ada")
    assert [e["actor"] for e in audit_entries(console, "purge")] == ["cli:cron"]
