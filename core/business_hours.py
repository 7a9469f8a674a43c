"""The clinic's working hours (clinic.yml `timezone`, `weekly_hours`, `closed_dates`,
`reply_within_hours`) and what follows from them: whether it is open, when it next opens, by when
staff promised to reply to a handed-off patient, and the `Promise` the handoff texts make.

Pure and deterministic: nothing here reads the clock. Every function takes an aware `now` (the
action server gets it from its one injectable clock, `actions.services.Services.clock`, which is
`system_clock` in production), so tests pass fixed datetimes.

How time is counted:
- Opening intervals are local wall-clock times in the clinic's IANA time zone on each date, so
  "10:00-19:00" stays 10:00-19:00 local across a daylight-saving change. Durations (the promised
  `reply_within_hours`) are counted in real elapsed time between those local instants.
- A promise counts whole minutes: the seconds of the hand-off moment are dropped, the same for
  the patient's text and for `reply_due` (what the staff console shows), so both name one time.
- `closed_dates` are local dates on which the clinic is closed all day (holidays).

Standard library only; importable from Python 3.10 (Rasa) and 3.11 (action server).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from itertools import pairwise
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "WEEKDAYS",
    "BusinessHours",
    "Clock",
    "Interval",
    "Promise",
    "describe_week",
    "parse_day",
    "parse_interval",
    "system_clock",
    "zone",
]

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""The keys of clinic.yml `weekly_hours`, in `date.weekday()` order."""
DAY = 24 * 60
_INTERVAL = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*")

PromiseKind = Literal["within_hours", "by", "closed"]
Clock = Callable[[], datetime]
"""What `Services.clock` is: a function returning an aware now (`system_clock`, or a fixed time in tests)."""


def system_clock() -> datetime:
    """The real time, aware (UTC). The only clock the action server reads (through `Services.clock`)."""
    return datetime.now(timezone.utc)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. Asia/Kolkata); ValueError with a clear message otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("must be an IANA time zone name such as Asia/Kolkata or Europe/London")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Kolkata or Europe/London "
            "(or this machine has no time zone database: install tzdata)"
        ) from exc


@dataclass(frozen=True, order=True)
class Interval:
    """One opening on a day: from `opens` to `closes`, in minutes after local midnight (closes ≤ 1440)."""

    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.opens < DAY or not 0 < self.closes <= DAY:
            raise ValueError(f"{self}: times must lie between 00:00 and 24:00")
        if self.closes <= self.opens:
            raise ValueError(
                f"{self} closes before it opens (an opening past midnight must be split: "
                f'"{_hhmm(self.opens)}-24:00" on one day and "00:00-{_hhmm(self.closes)}" on the next)'
            )

    def __str__(self) -> str:
        return f"{_hhmm(self.opens)}-{_hhmm(self.closes)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_interval(text: object) -> Interval:
    """ "10:00-19:00" (24-hour clock; 24:00 is the end of the day) as an Interval; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError(f'{text!r} is not an opening like "10:00-19:00" (write it in quotes)')
    m = _INTERVAL.fullmatch(text)
    if not m:
        raise ValueError(f'{text!r} is not an opening like "10:00-19:00" (24-hour clock)')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r}: no such time of day (00:00 to 23:59, or 24:00 for midnight at the end)")
    return Interval(h1 * 60 + m1, h2 * 60 + m2)


def parse_day(value: object) -> tuple[Interval, ...]:
    """One day of `weekly_hours`: "closed" (or an empty list), one opening or a list of them.
    The openings come back sorted; overlapping ones are a ValueError."""
    if isinstance(value, str) and value.strip().lower() == "closed":
        return ()
    if value is None:
        raise ValueError('write "closed" for a day the clinic is closed')
    items = [value] if isinstance(value, str | int | float) else value  # a number: an unquoted YAML time
    if not isinstance(items, list | tuple):
        raise ValueError(f'{value!r}: "closed", or a list of openings like "10:00-13:00"')
    intervals = sorted(parse_interval(item) for item in items)
    for a, b in pairwise(intervals):
        if b.opens < a.closes:
            raise ValueError(f"{a} and {b} overlap")
    return tuple(intervals)


def describe_week(week: Sequence[Sequence[Interval]]) -> list[str]:
    """The weekly hours as patients read them (clinic.yml `opening_hours` when it is not written out):
    consecutive days with the same hours together, e.g. ["Monday to Saturday, 10:00 to 19:00",
    "Sunday closed"]."""
    lines: list[str] = []
    start = 0
    while start < 7:
        end = start
        while end + 1 < 7 and tuple(week[end + 1]) == tuple(week[start]):
            end += 1
        names = [WEEKDAYS[d].capitalize() for d in range(start, end + 1)]
        days = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} to {names[-1]}"
        hours = " and ".join(f"{_hhmm(i.opens)} to {_hhmm(i.closes)}" for i in week[start])
        lines.append(f"{days}, {hours}" if hours else f"{days} closed")
        start = end + 1
    return lines


@dataclass(frozen=True)
class Promise:
    """What a handoff or hold text promises a patient, at `now` (all datetimes in the clinic's zone).

    - `within_hours`: open now and the reply is due later today, `hours` (two or more) after now:
      "within 4 hours".
    - `by`: open now, but the promise ends at another time of day or on another day (a break in
      the day, just before closing): "by 11:00 tomorrow", see `due`.
    - `closed`: closed now: "after it opens on Monday at 10:00", see `opens_at`.
    """

    kind: PromiseKind
    now: datetime
    due: datetime
    """By when staff promised to reply (`BusinessHours.reply_due(now)`)."""
    opens_at: datetime
    """When the clinic next opens (`now` itself while it is open)."""
    hours: int
    """The clinic's `reply_within_hours`."""

    def days_until(self, moment: datetime) -> int:
        """Local calendar days from `now` to `moment`: 0 today, 1 tomorrow ..."""
        return (moment.astimezone(self.now.tzinfo).date() - self.now.date()).days


@dataclass(frozen=True)
class BusinessHours:
    """The clinic's week, holidays and reply promise in its time zone (built from clinic.yml by
    `core.clinic.ClinicConfig.business_hours`)."""

    tz: tzinfo
    week: tuple[tuple[Interval, ...], ...]
    """Seven days, Monday first; an empty tuple is a closed day."""
    closed_dates: frozenset[date] = frozenset()
    reply_within_hours: int = 4

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("the week needs seven days, Monday first")
        if not any(self.week):
            raise ValueError("the clinic is never open: give at least one day opening hours")
        if self.reply_within_hours < 1:
            raise ValueError("reply_within_hours must be at least 1")

    @classmethod
    def build(
        cls,
        timezone_name: str,
        weekly: Mapping[str, Sequence[Interval]],
        closed_dates: Sequence[date] = (),
        reply_within_hours: int = 4,
    ) -> BusinessHours:
        unknown = sorted(set(weekly) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {', '.join(unknown)} (use {', '.join(WEEKDAYS)})")
        return cls(
            tz=zone(timezone_name),
            week=tuple(tuple(weekly.get(day, ())) for day in WEEKDAYS),
            closed_dates=frozenset(closed_dates),
            reply_within_hours=reply_within_hours,
        )

    # --- the questions -------------------------------------------------------------------------------

    def is_open(self, now: datetime) -> bool:
        """Whether the clinic is open at `now` (an opening includes its first minute, not its closing)."""
        now = self._aware(now, "now")
        return any(start <= now < end for start, end in self._openings_of(self._local(now).date()))

    def next_opening(self, now: datetime) -> datetime:
        """The first moment at or after `now` when the clinic is open (`now` itself while it is
        open), in the clinic's time zone."""
        now = self._aware(now, "now")
        for start, end in self._openings_from(now):
            if end > now:
                return self._local(max(start, now))
        raise AssertionError("unreachable: the week has an opening")  # pragma: no cover

    def reply_due(self, handed_off_at: datetime) -> datetime:
        """By when staff promised to reply to a patient handed off at `handed_off_at`: after
        `reply_within_hours` of opening time (closed hours, closed days and holidays do not count),
        in the clinic's time zone. What the staff console shows waiting time against."""
        at = self._minute(self._aware(handed_off_at, "handed_off_at"))
        left = timedelta(hours=self.reply_within_hours)
        for start, end in self._openings_from(at):
            if end <= at:
                continue
            begin = max(start, at)
            if left <= end - begin:
                return self._local(begin + left)
            left -= end - begin
        raise AssertionError("unreachable: the week has an opening")  # pragma: no cover

    def promise(self, now: datetime) -> Promise:
        """What the handoff and hold texts promise at `now` (see `Promise`)."""
        now = self._local(self._aware(now, "now"))
        due = self.reply_due(now)
        if not self.is_open(now):
            return Promise("closed", now, due, self.next_opening(now), self.reply_within_hours)
        elapsed = due.astimezone(timezone.utc) - self._minute(now.astimezone(timezone.utc))
        exact = elapsed == timedelta(hours=self.reply_within_hours)
        same_day = due.date() == now.date()
        kind: PromiseKind = "within_hours" if exact and same_day and self.reply_within_hours > 1 else "by"
        return Promise(kind, now, due, now, self.reply_within_hours)

    # --- the calendar --------------------------------------------------------------------------------

    def _openings_of(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's openings as (start, end) in UTC; none on a closed date."""
        if day in self.closed_dates:
            return []
        return [(self._instant(day, i.opens), self._instant(day, i.closes)) for i in self.week[day.weekday()]]

    def _openings_from(self, now: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every opening from the local day of `now` on. Each week without a holiday has an opening,
        so one is found within len(closed_dates) + 7 days."""
        day = self._local(now).date()
        for offset in range(100 * 366):
            yield from self._openings_of(day + timedelta(days=offset))

    def _instant(self, day: date, minutes: int) -> datetime:
        """Local wall-clock `minutes` after midnight of `day`, as a UTC instant (24:00 is the next midnight)."""
        if minutes == DAY:
            return self._instant(day + timedelta(days=1), 0)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        return local.astimezone(timezone.utc)

    def _local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    @staticmethod
    def _minute(moment: datetime) -> datetime:
        return moment.replace(second=0, microsecond=0)

    @staticmethod
    def _aware(moment: datetime, name: str) -> datetime:
        if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime")
        return moment.astimezone(timezone.utc)
