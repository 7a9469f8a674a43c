"""The dashboard's queries (console/dashboard.py says what each figure counts), fast with tens of
thousands of conversations and tolerant of any record.

- The conversation index and the feedback table are counted by one GROUP BY each, the day of each row
  computed in SQL from the clinic zone's UTC offsets over the period (`Period.offsets`: one piece, or
  one more per daylight-saving change).
- Rasa's events are JSON text written with `json.dumps` (default separators). The queries narrow them
  with LIKE on fragments such as `"kind": "emergency"`, which can occur only in the JSON's structure (a
  quote inside a string is escaped), so they read just the events a figure needs; where a fragment
  cannot decide (an odd value), the event's JSON is parsed in Python the way the conversation index
  reads it. An odd record is skipped or read as missing, never a failed screen.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Integer, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.channels.feedback import feedback as feedback_table
from console.knowledge_gaps import unsure_questions
from console.models import Conversation
from console.sync import LOW_CONFIDENCE
from console.tracker_store import StoredEvent, as_dict, events, has_events_table
from core.rasa_api import TAKE_OVER_REASON

if TYPE_CHECKING:
    from console.dashboard import Period

TOP_TOPICS = 10
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TOPICS_MARK = '"topics": ["'
_TOPIC_LIMIT = 64


@dataclass(frozen=True)
class Handoff:
    """One handoff to staff and its first staff reply (Unix seconds)."""

    sender_id: str
    started: float
    first_reply: float | None = None
    reason: str | None = None

    @property
    def wait_seconds(self) -> float | None:
        return None if self.first_reply is None else self.first_reply - self.started


def _seconds(column: Any, dialect: str, *, stored_as_datetime: bool) -> ColumnElement[int]:
    """Whole Unix seconds of a timestamp column (a console datetime, or Rasa's float seconds)."""
    if dialect == "postgresql":
        value = func.extract("epoch", column) if stored_as_datetime else column
        return cast(func.floor(value), BigInteger)
    if stored_as_datetime:  # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; strftime would round the fraction
        return cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
    return cast(column, Integer)  # towards zero: the floor for every time after 1970


def _local_day(seconds: ColumnElement[int], period: Period) -> ColumnElement[int]:
    """Days since 1970-01-01 in the clinic's time zone, of a Unix-seconds expression."""
    pieces = period.offsets()
    offset: Any = sa.literal(pieces[0][1])
    if len(pieces) > 1:
        offset = case(
            *((seconds < since, before) for (since, _), (_, before) in zip(pieces[1:], pieces, strict=False)),
            else_=pieces[-1][1],
        )
    return (seconds + offset) // DAY


def _day(number: Any) -> date | None:
    try:
        return date.fromordinal(_EPOCH_ORDINAL + int(number))
    except (TypeError, ValueError, OverflowError):
        return None


def _position(dialect: str, text: Any, needle: str) -> ColumnElement[int]:
    return func.strpos(text, needle) if dialect == "postgresql" else func.instr(text, needle)


def _stored(
    event_id: Any, sender_id: Any, type_name: Any, timestamp: Any, raw: Any, known: dict[str, Any] | None = None
) -> StoredEvent | None:
    """A tracker event read tolerantly (`known`: its data as SQL already read it); None when its time
    is unusable."""
    at = _finite(timestamp)
    if at is None or sender_id is None:
        return None
    if known is not None:
        data: Any = known
    else:
        try:
            data = json.loads(raw or "{}")
        except (ValueError, RecursionError):
            data = {}
    return StoredEvent(int(event_id), str(sender_id), str(type_name), at, data if isinstance(data, dict) else {})


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


# ------------------------------------------------------------------------------------ conversations


def outcome_of() -> ColumnElement[str]:
    """A conversation's weightiest outcome, from the index's flags and reply kinds."""
    kinds = Conversation.kinds

    def seen(kind: str) -> ColumnElement[bool]:
        return kinds.contains(f",{kind},", autoescape=True)

    return case(
        (Conversation.emergency.is_(True), "emergency"),
        (seen("emergency"), "emergency"),
        (seen("handoff"), "handoff"),
        (sa.or_(seen("answer"), seen("clinic_info")), "answered"),
        (seen("clarify"), "clarify"),
        (seen("out_of_scope"), "out_of_scope"),
        else_="other",
    )


def outcomes_by_day(db: Session, period: Period) -> defaultdict[date, Counter[str]]:
    """Conversations started on each day of the period, by outcome: one GROUP BY."""
    dialect = db.get_bind().dialect.name
    inner = (
        select(
            _local_day(_seconds(Conversation.started_at, dialect, stored_as_datetime=True), period).label("day"),
            outcome_of().label("outcome"),
        )
        .where(Conversation.started_at >= period.start, Conversation.started_at < period.end)
        .subquery()
    )
    query = select(inner.c.day, inner.c.outcome, func.count()).group_by(inner.c.day, inner.c.outcome)
    found: defaultdict[date, Counter[str]] = defaultdict(Counter)
    for number, outcome, count in db.execute(query):
        day = _day(number)
        if day is not None and period.first <= day <= period.last:
            found[day][str(outcome)] += int(count)
    return found


# ------------------------------------------------------------------------------------ tracker events


def _in_period(period: Period) -> list[ColumnElement[bool]]:
    return [events.c.timestamp >= period.start.timestamp(), events.c.timestamp < period.end.timestamp()]


def _has(table: Any, fragment: str) -> Any:
    """The event's JSON holds `fragment` (LIKE, with its % and _ taken literally)."""
    return table.c.data.contains(fragment, autoescape=True)


def _of_type(table: Any, type_name: str, *conditions: Any) -> Any:
    """An event of this type whose JSON meets the conditions, the type checked first (a CASE: the
    database reads the JSON of those events only, whatever order its planner likes)."""
    return case((table.c.type_name == type_name, sa.and_(*conditions)), else_=False)


# What a handoff slot or staff reply says, read in SQL where Rasa wrote it the usual way; anything else
# ("odd") comes back with its JSON, which Python reads the way the conversation index does.
_KNOWN_STEPS: dict[str, dict[str, Any]] = {
    "on": {"name": "handoff", "value": True},
    "off": {"name": "handoff", "value": False},
    "take_over": {"name": "handoff_reason", "value": TAKE_OVER_REASON},
    "reason": {"name": "handoff_reason", "value": "another reason"},
    "reply": {"metadata": {"staff_reply": True}},
}


def _handoff_step() -> ColumnElement[str]:
    slot, bot = events.c.type_name == "slot", events.c.type_name == "bot"
    handoff, reason = _has(events, '"name": "handoff"'), _has(events, '"name": "handoff_reason"')
    return case(
        (sa.and_(slot, handoff, _has(events, '"value": true')), "on"),
        (sa.and_(slot, handoff, sa.or_(_has(events, '"value": false'), _has(events, '"value": null'))), "off"),
        (sa.and_(slot, reason, _has(events, f'"value": "{TAKE_OVER_REASON}"')), "take_over"),
        (sa.and_(slot, reason, _has(events, '"value": "')), "reason"),
        (sa.and_(bot, _has(events, '"staff_reply": true')), "reply"),
        else_="odd",
    )


def handoffs_started(engine: sa.Engine, period: Period) -> list[Handoff]:
    """The handoffs that started in the period (take-overs by staff left out), with their first staff
    reply: one query for the handoff slots and staff replies of the conversations with a handoff slot
    in the period."""
    if not has_events_table(engine):
        return []
    slot_then = select(events.c.sender_id).where(
        *_in_period(period), _of_type(events, "slot", _has(events, '"name": "handoff"'))
    )
    relevant = sa.or_(
        _of_type(events, "slot", _has(events, '"name": "handoff')),
        _of_type(events, "bot", _has(events, '"staff_reply"')),
    )
    steps = (
        select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
        .add_columns(_handoff_step().label("step"))
        .where(events.c.sender_id.in_(slot_then), relevant)
        .subquery()
    )
    odd_data = case((steps.c.step == "odd", steps.c.data), else_=None)
    query = select(steps.c.id, steps.c.sender_id, steps.c.type_name, steps.c.timestamp, steps.c.step, odd_data)
    by_sender: defaultdict[str, list[StoredEvent]] = defaultdict(list)
    with engine.connect() as conn:
        for event_id, sender_id, type_name, timestamp, step, data in conn.execute(query.order_by(steps.c.id)).all():
            event = _stored(event_id, sender_id, type_name, timestamp, data, _KNOWN_STEPS.get(step))
            if event is not None:
                by_sender[event.sender_id].append(event)
    start, end = period.start.timestamp(), period.end.timestamp()
    return [
        h
        for sender_id, stored in by_sender.items()
        for h in handoffs_of(sender_id, stored)
        if start <= h.started < end and h.reason != TAKE_OVER_REASON
    ]


@dataclass
class _Open:
    started: float
    reason: str | None = None
    first_reply: float | None = None


def handoffs_of(sender_id: str, stored: Iterable[StoredEvent]) -> list[Handoff]:
    """A conversation's handoffs from its `handoff` / `handoff_reason` slots and staff replies, in order
    (the same reading as the conversation index: a truthy `handoff` slot opens one, a falsy one ends it)."""
    found: list[Handoff] = []
    current: _Open | None = None
    for event in stored:
        data = event.data
        slot = data.get("name") if event.type_name == "slot" else None
        if slot == "handoff" and data.get("value"):
            current = current or _Open(event.timestamp)
        elif slot == "handoff" and current is not None:
            found.append(Handoff(sender_id, current.started, current.first_reply, current.reason))
            current = None
        elif current is None:
            continue
        elif slot == "handoff_reason" and current.reason is None and isinstance(data.get("value"), str):
            current.reason = str(data["value"])[:64]
        elif (
            event.type_name == "bot"
            and as_dict(data.get("metadata")).get("staff_reply")
            and current.first_reply is None
            and event.timestamp >= current.started
        ):
            current.first_reply = event.timestamp
    if current is not None:
        found.append(Handoff(sender_id, current.started, current.first_reply, current.reason))
    return found


def emergencies_by_day(engine: sa.Engine, period: Period) -> defaultdict[date, set[str]]:
    """Each day's conversations with an emergency reply."""
    found: defaultdict[date, set[str]] = defaultdict(set)
    if not has_events_table(engine):
        return found
    query = select(events.c.sender_id, events.c.timestamp).where(
        *_in_period(period), _of_type(events, "bot", _has(events, '"kind": "emergency"'))
    )
    with engine.connect() as conn:
        for sender_id, timestamp in conn.execute(query):
            at = _finite(timestamp)
            if at is not None and sender_id is not None:
                found[period.day_of(at)].add(str(sender_id))
    return found


def top_topics(engine: sa.Engine, period: Period, limit: int = TOP_TOPICS) -> list[tuple[str, int, int]]:
    """(topic, curated answers, conversations) for the answers' best topics, most answers first: one
    GROUP BY over the topic cut out of each answer's metadata in SQL."""
    if not has_events_table(engine):
        return []
    dialect = engine.dialect.name
    after = func.substr(events.c.data, _position(dialect, events.c.data, _TOPICS_MARK) + len(_TOPICS_MARK), 80)
    quote = _position(dialect, after, '"')
    topic = case((quote > 1, func.substr(after, 1, quote - 1)), else_=None)
    inner = (
        select(topic.label("topic"), events.c.sender_id)
        .where(
            *_in_period(period), _of_type(events, "bot", _has(events, '"kind": "answer"'), _has(events, _TOPICS_MARK))
        )
        .subquery()
    )
    answers = func.count()
    query = (
        select(inner.c.topic, answers, func.count(sa.distinct(inner.c.sender_id)))
        .where(inner.c.topic.is_not(None))
        .group_by(inner.c.topic)
        .order_by(answers.desc(), inner.c.topic)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            (str(name)[:_TOPIC_LIMIT], int(count), int(people))
            for name, count, people in conn.execute(query)
            if name and "\\" not in str(name)
        ]


def _high_confidence(low: float) -> tuple[str, ...]:
    """How json.dumps starts a confidence from `low` to below 1, in three characters, when `low` is a
    tenth (0.6: "0.6", "0.7", "0.8", "0.9"): answers with one of these are surely not low-confidence
    gaps, so SQL leaves them out; Python decides about every other answer (all of them, for a `low`
    that is not a tenth)."""
    tenths = round(low * 10)
    if abs(low * 10 - tenths) > 1e-9 or not 1 <= tenths <= 9:
        return ()
    return tuple(f"0.{d}" for d in range(tenths, 10))


def _surely_confident(table: Any, dialect: str) -> Any:
    """The reply's metadata has a confidence of at least LOW_CONFIDENCE, as HIGH_CONFIDENCE tells."""
    if not HIGH_CONFIDENCE:
        return sa.false()
    mark = '"confidence": '
    start = func.substr(table.c.data, _position(dialect, table.c.data, mark) + len(mark), 3)
    return sa.and_(_has(table, mark), start.in_(HIGH_CONFIDENCE))


HIGH_CONFIDENCE = _high_confidence(LOW_CONFIDENCE)
REPLY_WITHIN = 60.0
"""Seconds a reply's metadata may come after the question it answers (a question just before the end
of the period is still counted)."""


def gap_replies(start: float, end: float, dialect: str) -> sa.Select[Any]:
    """The replies in [start, end) that may be knowledge gaps (clarify, out of scope, an answer not
    surely confident), each with the id of the patient message it replied to (`asked`: the
    conversation's latest before it) and of the reply before it (`earlier`)."""
    reply, question, between = events.alias("reply"), events.alias("question"), events.alias("between")

    asked = (
        select(func.max(question.c.id))
        .where(question.c.sender_id == reply.c.sender_id, question.c.type_name == "user", question.c.id < reply.c.id)
        .scalar_subquery()
    )
    earlier = (
        select(func.max(between.c.id))
        .where(
            between.c.sender_id == reply.c.sender_id,
            between.c.id < reply.c.id,
            _of_type(between, "bot", _has(between, '"meta": {')),
        )
        .scalar_subquery()
    )
    unsure = sa.or_(
        _has(reply, '"kind": "clarify"'),
        _has(reply, '"kind": "out_of_scope"'),
        sa.and_(_has(reply, '"kind": "answer"'), sa.not_(_surely_confident(reply, dialect))),
    )
    return select(
        reply.c.id,
        reply.c.sender_id,
        reply.c.type_name,
        reply.c.timestamp,
        reply.c.data,
        asked.label("asked"),
        earlier.label("earlier"),
    ).where(
        reply.c.timestamp >= start, reply.c.timestamp < end, _of_type(reply, "bot", _has(reply, '"meta": {'), unsure)
    )


def gaps_by_day(engine: sa.Engine, period: Period) -> defaultdict[date, Counter[str]]:
    """The knowledge gaps' unsure questions asked on each day, by kind, by console/knowledge_gaps.py's
    own rule: SQL finds the replies that may be gaps and the patient message each replied to (none when
    another reply came in between), in one query; Python reads just those pairs."""
    found: defaultdict[date, Counter[str]] = defaultdict(Counter)
    if not has_events_table(engine):
        return found
    start, end = period.start.timestamp(), period.end.timestamp()
    pairs = gap_replies(start, end + REPLY_WITHIN, engine.dialect.name).subquery()
    question = events.alias("asked_event")
    query = select(
        pairs.c.id,
        pairs.c.sender_id,
        pairs.c.type_name,
        pairs.c.timestamp,
        pairs.c.data,
        question.c.id,
        question.c.sender_id,
        question.c.type_name,
        question.c.timestamp,
        question.c.data,
    ).join_from(
        pairs,
        question,
        sa.and_(question.c.id == pairs.c.asked, sa.or_(pairs.c.earlier.is_(None), pairs.c.earlier < pairs.c.asked)),
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        reply, asked = _stored(*row[:5]), _stored(*row[5:])
        if reply is None or asked is None:
            continue
        for unsure in unsure_questions(reply.sender_id, [asked, reply]):
            at = unsure.at.timestamp()
            if start <= at < end:
                found[period.day_of(at)][unsure.kind] += 1
    return found


def thumbs_down_by_day(engine: sa.Engine, period: Period) -> dict[date, int]:
    """Thumbs down first given on each day (the channels' feedback table): one GROUP BY."""
    if not sa.inspect(engine).has_table(feedback_table.name):
        return {}
    created = feedback_table.c.created_at
    inner = (
        select(
            _local_day(_seconds(created, engine.dialect.name, stored_as_datetime=False), period).label("day"),
        )
        .where(
            feedback_table.c.value == "down",
            created >= period.start.timestamp(),
            created < period.end.timestamp(),
        )
        .subquery()
    )
    found: dict[date, int] = {}
    with engine.connect() as conn:
        for number, count in conn.execute(select(inner.c.day, func.count()).group_by(inner.c.day)):
            day = _day(number)
            if day is not None and period.first <= day <= period.last:
                found[day] = found.get(day, 0) + int(count)
    return found
