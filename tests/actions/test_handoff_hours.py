"""What a handed-off patient is promised follows the clinic's hours (clinic.yml): while it is open,
a reply within its hours or by a time; out of hours, when the clinic opens and, if it is urgent,
the emergency number. Urgent care never waits for the hours and never promises a time. The action
server reads the time only from its one clock (`Services.clock`), fixed here."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from actions import texts
from actions.respond import Reply, Turn, respond
from actions.safety import texts as safety
from actions.safety import translations as safety_translations
from actions.services import Services
from core.business_hours import system_clock
from core.clinic import load_clinic
from core.settings import PROJECT_ROOT

CLINIC = load_clinic(PROJECT_ROOT / "clinic.yml")  # Asia/Kolkata, Monday to Saturday 10:00-19:00
FACTS = texts.facts(CLINIC)
IST = ZoneInfo("Asia/Kolkata")
SATURDAY_NIGHT = datetime(2026, 3, 7, 23, 0, tzinfo=IST)
TUESDAY_MORNING = datetime(2026, 3, 10, 10, 30, tzinfo=IST)
JUST_BEFORE_CLOSING = datetime(2026, 3, 10, 18, 59, tzinfo=IST)
REPUBLIC_DAY_EVE = datetime(2026, 1, 25, 20, 0, tzinfo=IST)  # Sunday; Monday 26 January is a holiday
MEDICAL = "I take isotretinoin tablets, can I have mesotherapy next week?"
WARNING_SIGNS = "since the injections my throat is swelling and I can't breathe properly"
URGENT_LINE = f"If it is urgent, do not wait: call {CLINIC.emergency_number}."


def at(services: Services, now: datetime) -> Services:
    return replace(services, clock=lambda: now)


def turn(text: str, channel: str = "webchat", **slots: Any) -> Turn:
    return Turn(sender_id="s", text=text, intent="ask_question", channel=channel, slots={"consent": True, **slots})


def text_of(reply: Reply) -> str:
    return "\n".join(m["text"] for m in reply.messages)


def handoff_at(services: Services, now: datetime, text: str = MEDICAL, route: str = "answer") -> str:
    reply = respond(turn(text), route, at(services, now))
    assert reply.meta.kind == "handoff", reply.meta
    return text_of(reply)


def test_a_handoff_late_on_saturday_says_when_the_clinic_opens_and_what_to_do_if_urgent(stub_services: Services):
    text = handoff_at(stub_services, SATURDAY_NIGHT)
    assert "the clinic is closed now, so a clinician will reply here after it opens on Monday at 10:00." in text
    assert URGENT_LINE in text
    assert "within" not in text and f"You can also call {CLINIC.phone}" not in text
    assert safety.disclaimer() in text


def test_a_handoff_while_open_promises_the_clinics_hours(stub_services: Services):
    text = handoff_at(stub_services, TUESDAY_MORNING)
    assert f"a clinician will reply here within {CLINIC.reply_within_hours} hours." in text
    assert f"You can also call {CLINIC.phone}." in text
    assert "closed now" not in text and URGENT_LINE not in text
    assert CLINIC.emergency_number in text  # the warning-signs line is always there


def test_a_handoff_just_before_closing_promises_a_time_tomorrow(stub_services: Services):
    text = handoff_at(stub_services, JUST_BEFORE_CLOSING)
    assert "a clinician will reply here by 13:59 tomorrow." in text  # 4 working hours: 1 minute today
    assert "closed now" not in text


def test_a_handoff_before_a_holiday_skips_it(stub_services: Services):
    text = handoff_at(stub_services, REPUBLIC_DAY_EVE, "I want to talk to a person please", "human")
    assert "after it opens on Tuesday at 10:00" in text and URGENT_LINE in text


def test_a_handoff_early_in_the_morning_opens_today(stub_services: Services):
    text = handoff_at(stub_services, datetime(2026, 3, 10, 7, 15, tzinfo=IST))
    assert "after it opens today at 10:00" in text


def test_the_hold_follows_the_hours_too(stub_services: Services):
    def hold(now: datetime) -> str:
        reply = respond(turn("any news?", handoff=True, handoff_reason="medicine"), "answer", at(stub_services, now))
        assert reply.meta.kind == "handoff" and reply.meta.disclaimer
        return text_of(reply)

    closed = hold(SATURDAY_NIGHT)
    assert (
        "the clinic is closed at the moment, so a person will reply here after it opens on Monday at 10:00." in closed
    )
    assert f"feels urgent, call {CLINIC.emergency_number}" in closed
    assert "a person will reply here within 4 hours." in hold(TUESDAY_MORNING)


@pytest.mark.parametrize("now", [SATURDAY_NIGHT, TUESDAY_MORNING, JUST_BEFORE_CLOSING, REPUBLIC_DAY_EVE])
def test_urgent_care_is_the_same_at_any_hour_and_promises_no_time(stub_services: Services, now: datetime):
    svc = at(stub_services, now)
    emergency = respond(turn(WARNING_SIGNS), "answer", svc)
    after = respond(turn("hello?", handoff=True, handoff_reason="emergency"), "answer", svc)
    assert emergency.meta.kind == "emergency"
    assert text_of(emergency) == texts.emergency(CLINIC, "webchat")
    assert text_of(after) == texts.emergency_hold(CLINIC, "webchat")
    for text in (text_of(emergency), text_of(after)):
        assert "will reply here" not in text and "closed now" not in text and "opens" not in text


def test_the_action_server_reads_one_clock():
    svc = Services(settings=None, clinic=CLINIC, retriever=None, alerts=None, topic_titles={})  # type: ignore[arg-type]
    assert svc.clock is system_clock
    now = svc.clock()
    assert now.tzinfo is not None and abs((now - datetime.now(timezone.utc)).total_seconds()) < 60


# --- Hindi ------------------------------------------------------------------------------------------------


def test_in_hindi_the_day_and_time_are_said_in_hindi():
    closed = texts.handoff(CLINIC, "medicine", lang="hi", now=SATURDAY_NIGHT)
    assert "क्लिनिक अभी बंद है" in closed and "सोमवार को 10:00 बजे" in closed
    assert CLINIC.emergency_number in closed and "Monday" not in closed
    assert "4 घंटे के अंदर" in texts.handoff(CLINIC, "medicine", lang="hi", now=TUESDAY_MORNING)
    assert "कल 13:59 बजे तक" in texts.handoff_hold(CLINIC, lang="hi", now=JUST_BEFORE_CLOSING)


def test_a_stale_hindi_reply_line_is_said_in_english_with_english_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "texts.yml"
    shutil.copy(safety.TEXTS_FILE, path)
    hindi = tmp_path / "texts.hi.yml"
    shutil.copy(safety_translations.translated_path(safety.TEXTS_FILE, "hi"), hindi)
    monkeypatch.setattr(safety, "TEXTS_FILE", path)
    english_line = safety.current().texts["handoff_reply_closed"].text
    content = hindi.read_text(encoding="utf-8")
    old = f'source_sha: "{safety.source_sha(english_line)}"'
    assert content.count(old) == 1
    hindi.write_text(content.replace(old, 'source_sha: "0000000000000000"'), encoding="utf-8")
    assert any(p.startswith("hi: handoff_reply_closed: stale") for p in safety.lint())
    said = texts.handoff(CLINIC, "medicine", lang="hi", now=SATURDAY_NIGHT)
    assert "after it opens on Monday at 10:00" in said and "सोमवार" not in said
    assert "आपका संदेश" in said  # the rest of the handoff is still Hindi


# --- the words for days -----------------------------------------------------------------------------------


def test_a_long_closure_names_the_date():
    data = CLINIC.model_dump(mode="json")
    data["closed_dates"] = [f"2026-03-{d:02d}" for d in range(9, 21)]  # two weeks off from Monday the 9th
    clinic = type(CLINIC).model_validate(data)
    promise = clinic.business_hours.promise(SATURDAY_NIGHT)
    assert promise.kind == "closed" and promise.opens_at == datetime(2026, 3, 21, 10, 0, tzinfo=IST)
    assert safety.when_words(promise) == {"hours": "4", "time": "10:00", "day": "on Saturday 21 March"}
    assert safety.when_words(promise, "hi")["day"] == "शनिवार, 21 मार्च को"
    assert safety.when_words(promise, "xx")["day"] == "on Saturday 21 March"  # no words: English
    line = safety.reply_line(texts.facts(clinic), "handoff", promise)
    assert line.startswith(
        "the clinic is closed now, so a clinician will reply here after it opens on Saturday 21 March"
    )
