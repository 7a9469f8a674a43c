"""A patient who confirms "delete my data" in the chat has the conversation erased by the console, as an
admin's erasure would, audited as the patient's request; nobody else's conversation is touched, and a
patient who only types the marker text erases nothing."""

from __future__ import annotations

import json

from console.db import session_factory
from console.patient_requests import ACTOR, ERASE_CONFIRMED, run_once
from console.scheduler import patient_requests_once, schedulers
from tests.console.test_erasure import audit_entries, count, is_pseudonym


def test_a_confirmed_request_erases_that_conversation_only_and_is_audited(console, tracker):
    tracker.turn("tg-2001", "please delete my data", "Delete it?", kind="smalltalk", reason="patient_data:erase_asked")
    tracker.turn("tg-2002", "does it hurt?", "Mild stinging.", topics=["pain"])
    tracker.turn("tg-2001", "/affirm", "Done.", kind="smalltalk", reason=ERASE_CONFIRMED)
    with session_factory(console.settings.console_db_url)() as db:
        handled = run_once(db, console.settings)
    assert handled.erased == 1
    url = console.settings.tracker_db_url
    assert count(url, "events", "tg-2001") == 0
    assert count(url, "events", "tg-2002") > 0

    console.login("ada")
    entries = audit_entries(console, "erase")
    assert [e["actor"] for e in entries] == [ACTOR]
    assert is_pseudonym(entries[0]["target"])
    assert json.loads(entries[0]["detail"])["events"] == 6


def erased_now(settings) -> int:
    handled = patient_requests_once(settings)
    assert handled is not None
    return handled.erased


def test_each_request_is_handled_once_and_later_ones_are_found(console, tracker):
    tracker.turn("wa-1", "forget me", "Done.", kind="smalltalk", reason=ERASE_CONFIRMED)
    assert erased_now(console.settings) == 1
    assert erased_now(console.settings) == 0  # nothing new
    # new events may reuse the ids of the erased ones (SQLite): the next request is still found
    tracker.turn("wa-2", "delete my chat", "Done.", kind="smalltalk", reason=ERASE_CONFIRMED)
    assert erased_now(console.settings) == 1
    assert count(console.settings.tracker_db_url, "events", "wa-2") == 0


def test_the_marker_typed_by_a_patient_or_an_unconfirmed_request_erases_nothing(console, tracker):
    tracker.turn("web-x", ERASE_CONFIRMED, "Sorry, I can only help with mesotherapy.", kind="out_of_scope")
    tracker.turn("web-y", "delete my data", "Delete it?", kind="smalltalk", reason="patient_data:erase_asked")
    tracker.add("web-z", "bot", text="odd", data="not an object")
    assert erased_now(console.settings) == 0
    assert count(console.settings.tracker_db_url, "events", "web-x") > 0


def test_a_failed_run_is_logged_not_raised(console, caplog):
    broken = console.settings.model_copy(update={"tracker_db_url": "postgresql://nobody@127.0.0.1:1/none"})
    assert patient_requests_once(broken) is None
    assert "patient erasure requests" in caplog.text


def test_the_console_runs_the_job_in_the_background_unless_switched_off(console):
    jobs = {job.name: job for job in schedulers(console.settings)}
    assert jobs["console-patient-requests"].interval_seconds == console.settings.patient_request_interval_seconds > 0
    off = console.settings.model_copy(update={"patient_request_interval_seconds": 0})
    job = {j.name: j for j in schedulers(off)}["console-patient-requests"]
    job.start()
    assert not job.running
