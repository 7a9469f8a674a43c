"""The dashboard's figures: how the assistant and the staff did over a period of days, counted in the
clinic's time zone (clinic.yml), as numbers only: never a patient's words, nor who they are. Pure
queries returning dataclasses; console/routers/dashboard.py serves them as JSON and as CSV.

What each figure counts:

- **conversations per day by outcome** (the conversation index): each conversation once, on the day it
  started, by its weightiest outcome: emergency > handoff > answered (a curated answer, or the clinic's
  own information) > clarify > out of scope > other (greetings, consent, a booking link only).
- **answered share**: answered / (conversations - other), for the period and for each day.
- **handoffs per day and the time to the first staff reply**: Rasa's `handoff` slot turning on starts
  a handoff, on the day it turned on; its first staff reply (a bot message with `staff_reply` metadata)
  after that and before it ends is the reply, however late. p50 and p90 by nearest rank over the
  handoffs that got a reply. A staff take-over (reason `staff_took_over`) is not a handoff: no patient
  waited for it.
- **emergencies per day**: conversations with an emergency reply that day (a patient who describes
  warning signs three times in a day is one emergency).
- **top topics**: the best topic of each curated answer in the period (answers, and conversations).
- **feedback per passage**: the patients' thumbs (bot/channels/feedback.py `passage_counts`), most
  thumbs down first.
- **gaps over time**: the knowledge gaps' questions per day, by the gaps' own rule
  (console/knowledge_gaps.py: clarify, out of scope, low confidence), and the thumbs down given that day.

The queries are in console/dashboard_queries.py."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from bot.channels.feedback import passage_counts
from console.dashboard_queries import (
    Handoff,
    emergencies_by_day,
    gaps_by_day,
    handoffs_started,
    outcomes_by_day,
    thumbs_down_by_day,
    top_topics,
)
from console.tracker_store import tracker_engine
from knowledge.passages import load_passages

OUTCOMES = ("answered", "clarify", "handoff", "emergency", "out_of_scope", "other")
GAP_KINDS = ("clarify", "out_of_scope", "low_confidence", "thumbs_down")
DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PeriodError(ValueError):
    """A period the dashboard cannot show; `field` is the query parameter to blame ("from" or "to")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    """The days shown, first and last included, in the clinic's time zone."""

    first: date
    last: date
    tz: tzinfo

    @classmethod
    def choose(cls, first: date | None, last: date | None, tz: tzinfo, today: date) -> Period:
        """The asked period: by default the last DEFAULT_DAYS days up to today; PeriodError when the
        dates are reversed, outside EARLIEST..LATEST, or more than MAX_DAYS days apart."""
        for name, day in (("from", first), ("to", last)):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise PeriodError(name, f"give a date between {EARLIEST} and {LATEST}")
        if last is None:
            last = today if first is None or first <= today else first
        if first is None:
            first = max(EARLIEST, last - timedelta(days=DEFAULT_DAYS - 1))
        if first > last:
            raise PeriodError("to", "the last day is before the first day")
        if (last - first).days + 1 > MAX_DAYS:
            raise PeriodError("to", f"show at most {MAX_DAYS} days at once")
        return cls(first, last, tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def midnight(self, day: date) -> datetime:
        """The first moment of `day` in the clinic's time zone, in UTC."""
        return datetime.combine(day, time(), tzinfo=self.tz).astimezone(UTC)

    @property
    def start(self) -> datetime:
        return self.midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return self.midnight(self.last + timedelta(days=1))

    def day_of(self, timestamp: float) -> date:
        return datetime.fromtimestamp(timestamp, self.tz).date()

    def offsets(self) -> list[tuple[int, int]]:
        """(from this Unix second, the zone's UTC offset in seconds) over the period: one piece, or one
        more for each daylight-saving change."""
        start, end = int(self.start.timestamp()), int(self.end.timestamp())
        pieces = [(start, self._offset(start))]
        step = 6 * 3600  # no zone changes its offset twice within six hours
        for at in range(start, end, step):
            after = min(at + step, end)
            if self._offset(after) != pieces[-1][1]:
                low, high = at, after
                while high - low > 1:
                    middle = (low + high) // 2
                    low, high = (middle, high) if self._offset(middle) == pieces[-1][1] else (low, middle)
                pieces.append((high, self._offset(high)))
        return pieces

    def _offset(self, timestamp: int) -> int:
        delta = datetime.fromtimestamp(timestamp, self.tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0


# ------------------------------------------------------------------------------------ the figures


@dataclass(frozen=True)
class Outcomes:
    """Conversations by outcome (each conversation counts once)."""

    answered: int = 0
    clarify: int = 0
    handoff: int = 0
    emergency: int = 0
    out_of_scope: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.answered + self.clarify + self.handoff + self.emergency + self.out_of_scope + self.other

    @property
    def answered_share(self) -> float | None:
        """Answered / conversations that asked something (all but `other`); None when none did."""
        asked = self.total - self.other
        return self.answered / asked if asked else None

    @classmethod
    def of(cls, counts: Counter[str]) -> Outcomes:
        return cls(**{name: counts.get(name, 0) for name in OUTCOMES})


@dataclass(frozen=True)
class Gaps:
    """Knowledge gaps by kind: questions the assistant was unsure of, and answers rated thumbs down."""

    clarify: int = 0
    out_of_scope: int = 0
    low_confidence: int = 0
    thumbs_down: int = 0

    @property
    def total(self) -> int:
        return self.clarify + self.out_of_scope + self.low_confidence + self.thumbs_down

    @classmethod
    def of(cls, counts: Counter[str]) -> Gaps:
        return cls(**{name: counts.get(name, 0) for name in GAP_KINDS})


@dataclass(frozen=True)
class Replies:
    """Handoffs and how long their patients waited for the first staff reply."""

    handoffs: int = 0
    replied: int = 0
    p50_seconds: float | None = None
    p90_seconds: float | None = None

    @classmethod
    def of(cls, handoffs: Sequence[Handoff]) -> Replies:
        waits = sorted(w for w in (h.wait_seconds for h in handoffs) if w is not None)
        return cls(len(handoffs), len(waits), percentile(waits, 50), percentile(waits, 90))


@dataclass(frozen=True)
class DayFigures:
    day: date
    conversations: Outcomes
    replies: Replies
    emergencies: int
    gaps: Gaps


@dataclass(frozen=True)
class TopicCount:
    topic: str
    title: str | None
    answers: int
    conversations: int


@dataclass(frozen=True)
class PassageFeedback:
    passage_id: str
    title: str | None
    up: int
    down: int
    comments: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    timezone: str
    days: list[DayFigures]
    conversations: Outcomes
    replies: Replies
    emergencies: int
    gaps: Gaps
    topics: list[TopicCount] = field(default_factory=list)
    passages: list[PassageFeedback] = field(default_factory=list)


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile of values sorted in ascending order (None for none)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def figures(
    db: Session,
    tracker_url: str,
    feedback_url: str,
    period: Period,
    *,
    timezone: str = "UTC",
    topics_file: Path | None = None,
    passages_dir: Path | None = None,
) -> Dashboard:
    """Every figure of the dashboard for `period`. The tracker store's queries each read the events
    table once and wait on the database, so they run side by side, each on its own connection."""
    tracker = tracker_engine(tracker_url)
    channels = tracker_engine(feedback_url)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="dashboard") as pool:
        handoffs_job = pool.submit(handoffs_started, tracker, period)
        emergencies_job = pool.submit(emergencies_by_day, tracker, period)
        gaps_job = pool.submit(gaps_by_day, tracker, period)
        topics_job = pool.submit(top_topics, tracker, period)
        outcomes = outcomes_by_day(db, period)  # the request's own session, in this thread
        thumbs_down = thumbs_down_by_day(channels, period)
        rated = passage_counts(channels, period.start, period.end)
        handoffs, emergencies, gaps = handoffs_job.result(), emergencies_job.result(), gaps_job.result()
        topics = topics_job.result()
    for day, count in thumbs_down.items():
        gaps[day]["thumbs_down"] += count
    by_day: dict[date, list[Handoff]] = defaultdict(list)
    for handoff in handoffs:
        by_day[period.day_of(handoff.started)].append(handoff)
    days = [
        DayFigures(
            day,
            Outcomes.of(outcomes[day]),
            Replies.of(by_day[day]),
            len(emergencies[day]),
            Gaps.of(gaps[day]),
        )
        for day in period.days
    ]
    topic_names = topic_titles(topics_file) if topics_file else {}
    passage_names = passage_titles(passages_dir) if passages_dir else {}
    return Dashboard(
        period=period,
        timezone=timezone,
        days=days,
        conversations=Outcomes.of(sum((outcomes[d] for d in period.days), Counter())),
        replies=Replies.of(handoffs),
        emergencies=sum(len(emergencies[d]) for d in period.days),
        gaps=Gaps.of(sum((gaps[d] for d in period.days), Counter())),
        topics=[
            TopicCount(topic, topic_names.get(topic), answers, conversations)
            for topic, answers, conversations in topics
        ],
        passages=[
            PassageFeedback(c.passage_id, passage_names.get(c.passage_id), c.up, c.down, c.comments) for c in rated
        ],
    )


# ------------------------------------------------------------------------------------ names


def topic_titles(path: Path) -> dict[str, str]:
    """Topic id -> title from knowledge/topics.yml (read again when it changes; {} if unreadable)."""
    try:
        return _topic_titles(str(path), path.stat().st_mtime_ns)
    except OSError:
        return {}


@lru_cache(maxsize=2)
def _topic_titles(path: str, _changed: int) -> dict[str, str]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    topics = raw.get("topics") if isinstance(raw, dict) else None
    return {
        str(t["id"]): str(t.get("title") or t["id"])
        for t in (topics if isinstance(topics, list) else [])
        if isinstance(t, dict) and t.get("id")
    }


def passage_titles(directory: Path) -> dict[str, str]:
    """Passage id -> title of the curated passages (read again when the folder changes; {} if unreadable)."""
    try:
        return _passage_titles(str(directory), directory.stat().st_mtime_ns)
    except OSError:
        return {}


@lru_cache(maxsize=2)
def _passage_titles(directory: str, _changed: int) -> dict[str, str]:
    try:
        return {p.id: p.title for p in load_passages(Path(directory))}
    except (OSError, ValueError, yaml.YAMLError):
        return {}
