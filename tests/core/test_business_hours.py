"""The clinic's hours (core/business_hours.py, clinic.yml): whether it is open, when it next opens,
and by when a handed-off patient was promised a reply, at fixed times: a late Saturday night, a
holiday, just before closing, a lunch break, and across a daylight-saving change in London. And
clinic.yml's hours are refused with a clear message when they cannot be meant."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from core.business_hours import BusinessHours, Interval, describe_week, parse_day, parse_interval
from core.clinic import ClinicConfig, load_clinic
from core.settings import PROJECT_ROOT

IST = ZoneInfo("Asia/Kolkata")
LONDON = ZoneInfo("Europe/London")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
REPUBLIC_DAY = date(2026, 1, 26)  # a Monday


def week(**days: list[str]) -> dict[str, tuple[Interval, ...]]:
    return {day: parse_day(days.get(day, "closed")) for day in DAYS}


SIX_DAYS = week(**{d: ["10:00-19:00"] for d in DAYS[:6]})
KOLKATA = BusinessHours.build("Asia/Kolkata", SIX_DAYS, [REPUBLIC_DAY], reply_within_hours=4)


def ist(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


# --- open, closed, next opening ------------------------------------------------------------------------


def test_late_on_saturday_night_the_clinic_opens_on_monday():
    now = ist(2026, 3, 7, 23, 0)  # Saturday
    assert not KOLKATA.is_open(now)
    assert KOLKATA.next_opening(now) == ist(2026, 3, 9, 10, 0)
    assert KOLKATA.reply_due(now) == ist(2026, 3, 9, 14, 0)
    promise = KOLKATA.promise(now)
    assert promise.kind == "closed" and promise.opens_at == ist(2026, 3, 9, 10, 0)
    assert promise.days_until(promise.opens_at) == 2


def test_a_holiday_is_skipped():
    sunday = ist(2026, 1, 25, 12, 0)
    assert KOLKATA.next_opening(sunday) == ist(2026, 1, 27, 10, 0)  # Monday the 26th is Republic Day
    assert not KOLKATA.is_open(ist(2026, 1, 26, 12, 0))
    assert KOLKATA.reply_due(ist(2026, 1, 26, 12, 0)) == ist(2026, 1, 27, 14, 0)
    # The same Monday a week later is an ordinary day.
    assert KOLKATA.is_open(ist(2026, 2, 2, 12, 0))


def test_open_in_the_morning_promises_hours():
    now = ist(2026, 3, 10, 10, 30)  # Tuesday
    assert KOLKATA.is_open(now) and KOLKATA.next_opening(now) == now
    promise = KOLKATA.promise(now)
    assert promise.kind == "within_hours" and promise.hours == 4 and promise.due == ist(2026, 3, 10, 14, 30)


def test_just_before_closing_the_promise_runs_into_the_next_day():
    now = ist(2026, 3, 10, 18, 59)
    assert KOLKATA.is_open(now)
    promise = KOLKATA.promise(now)
    assert promise.kind == "by" and promise.due == ist(2026, 3, 11, 13, 59)  # 1 minute today, 3:59 tomorrow
    assert promise.days_until(promise.due) == 1


def test_opening_and_closing_minutes():
    assert KOLKATA.is_open(ist(2026, 3, 10, 10, 0))
    assert not KOLKATA.is_open(ist(2026, 3, 10, 9, 59, 59))
    assert not KOLKATA.is_open(ist(2026, 3, 10, 19, 0))
    assert KOLKATA.next_opening(ist(2026, 3, 10, 19, 0)) == ist(2026, 3, 11, 10, 0)
    early = KOLKATA.promise(ist(2026, 3, 10, 7, 0))
    assert (
        early.kind == "closed" and early.opens_at == ist(2026, 3, 10, 10, 0) and early.days_until(early.opens_at) == 0
    )
    # A promise ending exactly at closing time stays today.
    assert KOLKATA.promise(ist(2026, 3, 10, 15, 0)).kind == "within_hours"
    assert KOLKATA.reply_due(ist(2026, 3, 10, 15, 0)) == ist(2026, 3, 10, 19, 0)


def test_seconds_are_dropped_the_same_for_the_patient_and_the_console():
    now = ist(2026, 3, 10, 15, 0, 30)
    assert KOLKATA.reply_due(now) == ist(2026, 3, 10, 19, 0)  # not 10:00:30 tomorrow
    assert KOLKATA.promise(now).kind == "within_hours"


def test_a_lunch_break_is_not_counted():
    hours = BusinessHours.build("Asia/Kolkata", week(tuesday=["10:00-13:00", "14:00-19:00"]), reply_within_hours=4)
    now = ist(2026, 3, 10, 12, 0)
    assert hours.is_open(now) and not hours.is_open(ist(2026, 3, 10, 13, 30))
    assert hours.next_opening(ist(2026, 3, 10, 13, 30)) == ist(2026, 3, 10, 14, 0)
    promise = hours.promise(now)
    assert promise.due == ist(2026, 3, 10, 17, 0) and promise.kind == "by"  # "by 17:00 today", not "within 4 hours"
    # The only open day is Tuesday: a handoff late on Tuesday is answered the next Tuesday.
    assert hours.reply_due(ist(2026, 3, 10, 18, 0)) == ist(2026, 3, 17, 13, 0)


def test_a_one_hour_promise_is_said_as_a_time():
    hours = BusinessHours.build("Asia/Kolkata", SIX_DAYS, reply_within_hours=1)
    promise = hours.promise(ist(2026, 3, 10, 11, 0))
    assert promise.kind == "by" and promise.due == ist(2026, 3, 10, 12, 0)  # never "within 1 hours"


def test_any_aware_now_gives_the_same_answer_and_a_naive_one_is_refused():
    local = ist(2026, 3, 7, 23, 0)
    utc = local.astimezone(timezone.utc)
    assert KOLKATA.promise(utc) == KOLKATA.promise(local)
    assert KOLKATA.reply_due(utc).tzinfo == IST
    with pytest.raises(ValueError, match="timezone-aware"):
        KOLKATA.is_open(datetime(2026, 3, 7, 23, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        KOLKATA.reply_due(datetime(2026, 3, 7, 23, 0))


# --- a zone with daylight-saving time -------------------------------------------------------------------


LONDON_WEEK = week(**{d: ["09:00-17:00"] for d in DAYS[:5]}, saturday=["10:00-14:00"])
LONDON_CLINIC = BusinessHours.build("Europe/London", LONDON_WEEK, reply_within_hours=4)


def test_local_hours_hold_across_the_spring_change_in_london():
    # Clocks go forward on Sunday 29 March 2026 (GMT -> BST).
    saturday = datetime(2026, 3, 28, 13, 0, tzinfo=LONDON)
    due = LONDON_CLINIC.reply_due(saturday)  # one hour on Saturday, three on Monday
    assert due == datetime(2026, 3, 30, 12, 0, tzinfo=LONDON)
    assert due.utcoffset() == timedelta(hours=1) and due.astimezone(timezone.utc).hour == 11
    assert LONDON_CLINIC.is_open(datetime(2026, 3, 30, 8, 30, tzinfo=timezone.utc))  # 09:30 BST
    assert not LONDON_CLINIC.is_open(datetime(2026, 3, 27, 17, 30, tzinfo=timezone.utc))  # 17:30 GMT


def test_local_hours_hold_across_the_autumn_change_in_london():
    # Clocks go back on Sunday 25 October 2026 (BST -> GMT).
    saturday_evening = datetime(2026, 10, 24, 20, 0, tzinfo=LONDON)
    opening = LONDON_CLINIC.next_opening(saturday_evening)
    assert opening == datetime(2026, 10, 26, 9, 0, tzinfo=LONDON) and opening.utcoffset() == timedelta(0)


def test_promised_hours_are_real_hours_on_a_short_day():
    always = BusinessHours.build("Europe/London", week(**{d: ["00:00-24:00"] for d in DAYS}), reply_within_hours=24)
    # 29 March 2026 has 23 hours in London: 24 working hours from its midnight end at 01:00 on Monday.
    assert always.reply_due(datetime(2026, 3, 29, 0, 0, tzinfo=LONDON)) == datetime(2026, 3, 30, 1, 0, tzinfo=LONDON)
    assert always.is_open(datetime(2026, 3, 29, 23, 59, tzinfo=LONDON))


# --- the parts of clinic.yml ------------------------------------------------------------------------------


def test_openings_are_read_as_written():
    assert parse_interval(" 9:30 - 13:00 ") == Interval(9 * 60 + 30, 13 * 60)
    assert parse_interval("18:00-24:00").closes == 24 * 60
    assert parse_day("Closed") == () and parse_day([]) == ()
    assert parse_day(["14:00-19:00", "10:00-13:00"]) == (Interval(600, 780), Interval(840, 1140))
    assert parse_day("10:00-19:00") == (Interval(600, 1140),)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("19:00-10:00", "closes before it opens"),
        ("10:00-10:00", "closes before it opens"),
        ("25:00-26:00", "no such time"),
        ("10:00-24:30", "no such time"),
        ("10-19", 'like "10:00-19:00"'),
        (600, "write it in quotes"),  # YAML reads an unquoted 10:00 as the number 600
        (["10:00-14:00", "13:00-19:00"], "overlap"),
        (None, "closed"),
        ({"open": "10:00"}, "list of openings"),
    ],
)
def test_an_opening_that_cannot_be_meant_is_refused(value: Any, message: str):
    with pytest.raises(ValueError, match=message):
        parse_day(value)


def test_the_week_is_described_for_patients():
    assert describe_week(KOLKATA.week) == ["Monday to Saturday, 10:00 to 19:00", "Sunday closed"]
    split = week(
        monday=["10:00-13:00", "14:00-19:00"], tuesday=["10:00-13:00", "14:00-19:00"], thursday=["10:00-16:00"]
    )
    assert describe_week(tuple(split.values())) == [
        "Monday and Tuesday, 10:00 to 13:00 and 14:00 to 19:00",
        "Wednesday closed",
        "Thursday, 10:00 to 16:00",
        "Friday to Sunday closed",
    ]


def test_the_example_clinic_keeps_its_opening_hours_text():
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    assert clinic.opening_hours == ["Monday to Saturday, 10:00 to 19:00", "Sunday closed"]
    hours = clinic.business_hours
    assert hours.tz == IST and hours.reply_within_hours == clinic.reply_within_hours
    assert not hours.is_open(ist(2026, 1, 26, 12, 0))  # Republic Day is in its closed_dates
    assert "weekly_hours" in clinic.model_dump(mode="json")


def _clinic(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((PROJECT_ROOT / "clinic.yml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Asia/Kolkatta"}, "unknown time zone 'Asia/Kolkatta'"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
        ({"timezone": ""}, "IANA time zone"),
        ({"timezone": None}, "timezone"),
        ({"weekly_hours": {**dict.fromkeys(DAYS, "closed"), "funday": ["10:00-12:00"]}}, "unknown weekday 'funday'"),
        ({"weekly_hours": {d: ["10:00-19:00"] for d in DAYS[:6]}}, "sunday missing"),
        ({"weekly_hours": {**dict.fromkeys(DAYS, "closed"), "monday": ["19:00-10:00"]}}, "monday: 19:00-10:00 closes"),
        ({"weekly_hours": dict.fromkeys(DAYS, "closed")}, "never open"),
        ({"weekly_hours": ["10:00-19:00"]}, "one line per day"),
        ({"closed_dates": ["2026-02-30"]}, "closed_dates"),
        ({"reply_within_hours": 0}, "reply_within_hours"),
        ({"reply_within_hours": None}, "reply_within_hours"),
        ({"handoff_reply_time": "within one working day"}, "replaced by `reply_within_hours`"),
        ({"opening_hours": ["Monday to Saturday, 10 am to 7 pm"]}, "does not name 10:00, 19:00"),
    ],
)
def test_clinic_hours_that_cannot_be_meant_are_refused_clearly(changes: dict[str, Any], message: str):
    with pytest.raises(ValidationError, match=message):
        ClinicConfig.model_validate(_clinic(**changes))


def test_a_clinic_may_word_its_opening_hours_itself():
    own = ["Monday to Saturday 10:00 to 19:00 (last appointment 18:00)", "Sunday: closed"]
    weekly = {"Monday": "10:00-19:00", **{d: ["10:00-19:00"] for d in DAYS[1:6]}, "SUNDAY": "closed"}
    clinic = ClinicConfig.model_validate(_clinic(opening_hours=own, weekly_hours=weekly))
    assert clinic.opening_hours == own
    assert clinic.weekly_hours["monday"] == ["10:00-19:00"] and clinic.weekly_hours["sunday"] == []
    assert clinic.timezone == "Asia/Kolkata"
