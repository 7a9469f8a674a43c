"""Patients' feedback on curated answers: a thumbs up or down, and an optional "what was missing?".

Given in the web widget under an answer (POST /webhooks/webchat/feedback, bot/channels/webchat.py) and as
quick replies on Telegram and WhatsApp (bot/channels/feedback_prompts.py). Only a reply whose metadata
(../shared/CONTRACT.md) says `kind: answer` can be rated, and only by the patient whose conversation it is;
the rating is stored with that reply's passage ids and first topic, so staff see which passages help.

Two small tables in the channels' database (MESO_CHANNEL_DB_URL, else the tracker database), like the
delivery log and the widget sessions, created on first use:

- `feedback`: one row per (sender, answer): a patient who changes their mind updates it. `answer_id` is
  the id of the patient message the answer replied to (Rasa's `message_id` of that user event: the
  Telegram update `tg-<update_id>`, the WhatsApp message id, a uuid in the widget), so a rating leads to
  the question and the answer in the transcript; `message_index` is the rated message's index among the
  conversation's events where the widget knows it.
- `feedback_offers`: the answers Telegram and WhatsApp patients were asked about, with their passage ids,
  so a tap is checked against what was really offered (a forged button payload rates nothing) and the
  question is asked sparingly.

The comment is patient text: cleaned (core/text_clean.py), cut to COMMENT_LIMIT characters, kept in the
channels' database and read only by the staff console, never sent in an alert. Erasure and the retention
purge delete a patient's rows (`forget_senders`, called by console/erasure.py).

The staff console reads through `read_feedback`, `totals` and `passage_counts` (SQLAlchemy core only, so
this module runs under SQLAlchemy 1.4 in Rasa's environment and 2.x in the console's; no Rasa imports).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.text_clean import clean_text

log = logging.getLogger(__name__)

Value = Literal["up", "down"]
VALUES: tuple[Value, ...] = ("up", "down")
COMMENT_LIMIT = 500
"""Characters of a "what was missing?" comment that are kept (longer ones are cut)."""
MAX_PASSAGES = 20
ID_LIMIT = 128
OFFERS_KEPT_SECONDS = 30 * 24 * 3600.0
"""A messaging-app patient can answer "Was this helpful?" for this long; older offers are forgotten."""
SWEEP_EVERY = 200
"""Old offers are deleted every this many new ones."""
BATCH = 500

metadata = sa.MetaData()
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender_id", sa.String(64), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("answer_id", sa.String(255), nullable=False),
    sa.Column("message_index", sa.Integer, nullable=True),
    sa.Column("passage_ids", sa.Text, nullable=False),
    sa.Column("topic", sa.String(64), nullable=True),
    sa.Column("value", sa.String(8), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("sender_id", "answer_id", name="uq_feedback_sender_answer"),
)
offers = sa.Table(
    "feedback_offers",
    metadata,
    sa.Column("sender_id", sa.String(64), primary_key=True),
    sa.Column("answer_id", sa.String(255), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("passage_ids", sa.Text, nullable=False),
    sa.Column("topic", sa.String(64), nullable=True),
    sa.Column("offered_at", sa.Float, nullable=False, index=True),
)


class NotRateable(ValueError):
    """What was to be rated is not a curated answer in this patient's conversation (or the value is wrong)."""


def _clean_id(value: Any) -> str:
    return clean_text(str(value)).strip()[:ID_LIMIT] if isinstance(value, str) else ""


@dataclass(frozen=True)
class Answer:
    """A curated answer that can be rated: the patient message it replied to, and what it was built from."""

    answer_id: str
    passage_ids: tuple[str, ...] = ()
    topic: str | None = None

    @classmethod
    def from_meta(cls, meta: Any, answer_id: str) -> Answer | None:
        """The answer behind a reply's metadata, or None unless it is a curated answer (`kind: answer`, no
        handoff): emergencies, handoffs, clarifications, small talk... are never rated."""
        if not isinstance(meta, Mapping) or meta.get("kind") != "answer" or meta.get("handoff") is True:
            return None
        answer_id = clean_text(answer_id).strip()[:255]
        if not answer_id:
            return None
        raw = meta.get("passage_ids")
        passages = tuple(p for p in (_clean_id(v) for v in (raw if isinstance(raw, list) else [])) if p)
        topics = meta.get("topics")
        topic = _clean_id(topics[0]) if isinstance(topics, list) and topics else ""
        return cls(answer_id, passages[:MAX_PASSAGES], topic[:64] or None)


def clean_comment(value: Any) -> str | None:
    """A comment as stored: cleaned text, whitespace trimmed, at most COMMENT_LIMIT characters; None if empty."""
    if not isinstance(value, str):
        return None
    text = clean_text(value).strip()
    if len(text) > COMMENT_LIMIT:
        text = text[: COMMENT_LIMIT - 1].rstrip() + "…"
    return text or None


@dataclass(frozen=True)
class Rating:
    """One patient's rating of one answer."""

    sender_id: str
    channel: str
    answer: Answer
    value: Value
    comment: str | None = None
    message_index: int | None = None

    def __post_init__(self) -> None:
        if self.value not in VALUES:
            raise NotRateable(f"a rating is one of {', '.join(VALUES)}")
        if not self.sender_id or not self.channel:
            raise NotRateable("a rating needs the sender and the channel")


@dataclass(frozen=True)
class Feedback:
    """One stored rating, as the staff console reads it."""

    id: int
    sender_id: str
    channel: str
    answer_id: str
    message_index: int | None
    passage_ids: tuple[str, ...]
    topic: str | None
    value: Value
    comment: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Counts:
    up: int = 0
    down: int = 0
    comments: int = 0
    """Ratings with a "what was missing?" comment."""

    @property
    def total(self) -> int:
        return self.up + self.down


@dataclass(frozen=True)
class PassageCount:
    """How one passage was rated (an answer built from several passages counts for each)."""

    passage_id: str
    up: int
    down: int
    comments: int

    @property
    def total(self) -> int:
        return self.up + self.down


@dataclass(frozen=True)
class Totals:
    """All ratings in a period, and per channel and per topic."""

    all: Counts = field(default_factory=Counts)
    by_channel: dict[str, Counts] = field(default_factory=dict)
    by_topic: dict[str, Counts] = field(default_factory=dict)


def _engine(url: str) -> sa.engine.Engine:
    connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _dump(passages: Iterable[str]) -> str:
    return json.dumps(list(passages), ensure_ascii=False)


def _load(raw: Any) -> tuple[str, ...]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return ()
    return tuple(p for p in (_clean_id(v) for v in (value if isinstance(value, list) else [])) if p)


class FeedbackStore:
    """Stores ratings and the messaging apps' offers. Blocking (SQLAlchemy): call from a worker thread.
    The tables are created on first use, so a database that is down at start-up does not stop Rasa."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.engine.Engine | None = None
        self._lock = threading.Lock()
        self._offered = 0

    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:
            if self._engine is None:
                engine = _engine(self.url)
                metadata.create_all(engine, checkfirst=True)
                self._engine = engine
            return self._engine

    def save(self, rating: Rating, now: float | None = None) -> bool:
        """Stores a rating; the same patient rating the same answer again replaces it (comment included).
        Returns True when it was new, False when it replaced an earlier one."""
        now = time.time() if now is None else now
        answer = rating.answer
        values = {
            "channel": rating.channel[:32],
            "message_index": rating.message_index,
            "passage_ids": _dump(answer.passage_ids),
            "topic": answer.topic,
            "value": rating.value,
            "comment": clean_comment(rating.comment),
            "updated_at": now,
        }
        where = sa.and_(feedback.c.sender_id == rating.sender_id, feedback.c.answer_id == answer.answer_id)
        for _ in range(2):  # an insert that loses a race to the same patient's other tab becomes an update
            with self.engine.begin() as conn:
                if conn.execute(feedback.update().where(where).values(**values)).rowcount:
                    return False
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        feedback.insert().values(
                            sender_id=rating.sender_id, answer_id=answer.answer_id, created_at=now, **values
                        )
                    )
                return True
            except IntegrityError:
                continue
        raise RuntimeError("could not store the rating")

    def given(self, sender_id: str) -> dict[str, Value]:
        """The patient's ratings so far: answer id -> up / down."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(feedback.c.answer_id, feedback.c.value).where(feedback.c.sender_id == sender_id)
            ).all()
        return {str(r[0]): r[1] for r in rows if r[1] in VALUES}

    # -- the messaging apps' "Was this helpful?" ------------------------------------------------------

    def last_offer_at(self, sender_id: str) -> float | None:
        """When this patient was last asked to rate an answer (None: never, or forgotten)."""
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(sa.func.max(offers.c.offered_at)).where(offers.c.sender_id == sender_id)
            ).scalar()
        return float(found) if found is not None else None

    def record_offer(self, sender_id: str, channel: str, answer: Answer, now: float | None = None) -> None:
        now = time.time() if now is None else now
        row = {
            "channel": channel[:32],
            "passage_ids": _dump(answer.passage_ids),
            "topic": answer.topic,
            "offered_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(offers.insert().values(sender_id=sender_id, answer_id=answer.answer_id, **row))
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(
                    offers.update()
                    .where(offers.c.sender_id == sender_id, offers.c.answer_id == answer.answer_id)
                    .values(**row)
                )
        self._offered += 1
        if self._offered % SWEEP_EVERY == 0:
            self.forget_offers_before(now - OFFERS_KEPT_SECONDS)

    def offered(self, sender_id: str, answer_id: str, now: float | None = None) -> Answer | None:
        """The answer this patient was asked to rate under this id, or None (never offered, someone
        else's, or older than OFFERS_KEPT_SECONDS)."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(offers.c.passage_ids, offers.c.topic).where(
                    offers.c.sender_id == sender_id,
                    offers.c.answer_id == answer_id,
                    offers.c.offered_at >= now - OFFERS_KEPT_SECONDS,
                )
            ).first()
        if row is None:
            return None
        return Answer(answer_id, _load(row[0]), row[1])

    def forget_offers_before(self, timestamp: float) -> int:
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(offers.delete().where(offers.c.offered_at < timestamp)).rowcount or 0)
        except sa.exc.SQLAlchemyError:
            log.exception("could not delete old feedback offers (tried again later)")
            return 0


# -- the staff console's read API (any engine on the channels' database) ---------------------------------


def _timestamp(value: datetime | float | None) -> float | None:
    if value is None or isinstance(value, int | float):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)  # naive datetimes are UTC, as the console stores them
    return value.timestamp()


def _when(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, timezone.utc)


def _has_table(engine: sa.engine.Engine, table: sa.Table) -> bool:
    return bool(sa.inspect(engine).has_table(table.name))


def _period(since: datetime | float | None, until: datetime | float | None) -> list[Any]:
    """Ratings first given in [since, until)."""
    conditions: list[Any] = []
    start, end = _timestamp(since), _timestamp(until)
    if start is not None:
        conditions.append(feedback.c.created_at >= start)
    if end is not None:
        conditions.append(feedback.c.created_at < end)
    return conditions


def _row(row: Any) -> Feedback:
    return Feedback(
        id=int(row.id),
        sender_id=str(row.sender_id),
        channel=str(row.channel),
        answer_id=str(row.answer_id),
        message_index=int(row.message_index) if row.message_index is not None else None,
        passage_ids=_load(row.passage_ids),
        topic=row.topic,
        value=row.value,
        comment=clean_comment(row.comment),
        created_at=_when(row.created_at),
        updated_at=_when(row.updated_at),
    )


def read_feedback(
    engine: sa.engine.Engine,
    since: datetime | float | None = None,
    until: datetime | float | None = None,
    *,
    value: Value | None = None,
    passage_id: str | None = None,
    sender_id: str | None = None,
    with_comment: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> list[Feedback]:
    """Ratings first given in [since, until), newest first, optionally only one value, one passage's, one
    patient's, or only those with a comment. No table yet (no feedback ever given) -> []."""
    if not _has_table(engine, feedback):
        return []
    query = sa.select(feedback).where(*_period(since, until))
    if value is not None:
        query = query.where(feedback.c.value == value)
    if sender_id is not None:
        query = query.where(feedback.c.sender_id == sender_id)
    if with_comment:
        query = query.where(feedback.c.comment.is_not(None))
    if passage_id is not None:
        # passage ids are stored as a JSON list: a LIKE narrows, the parsed list decides
        query = query.where(feedback.c.passage_ids.contains(json.dumps(passage_id, ensure_ascii=False)))
    query = query.order_by(feedback.c.created_at.desc(), feedback.c.id.desc())
    if passage_id is None:
        query = query.limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(query)]
    if passage_id is None:
        return rows
    return [r for r in rows if passage_id in r.passage_ids][offset : offset + limit]


def _ratings(engine: sa.engine.Engine, since: datetime | float | None, until: datetime | float | None) -> list[Any]:
    if not _has_table(engine, feedback):
        return []
    query = sa.select(
        feedback.c.channel, feedback.c.topic, feedback.c.passage_ids, feedback.c.value, feedback.c.comment
    ).where(*_period(since, until))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _counted(rows: Iterable[tuple[str, bool]]) -> Counts:
    up = down = comments = 0
    for value, commented in rows:
        up += value == "up"
        down += value == "down"
        comments += commented
    return Counts(up, down, comments)


def totals(
    engine: sa.engine.Engine, since: datetime | float | None = None, until: datetime | float | None = None
) -> Totals:
    """Up, down and commented ratings first given in [since, until): in all, per channel and per topic."""
    rows = [(r.channel, r.topic or "", r.value, bool(r.comment)) for r in _ratings(engine, since, until)]
    channels = sorted({r[0] for r in rows})
    topics = sorted({r[1] for r in rows if r[1]})
    return Totals(
        all=_counted((r[2], r[3]) for r in rows),
        by_channel={c: _counted((r[2], r[3]) for r in rows if r[0] == c) for c in channels},
        by_topic={t: _counted((r[2], r[3]) for r in rows if r[1] == t) for t in topics},
    )


def passage_counts(
    engine: sa.engine.Engine, since: datetime | float | None = None, until: datetime | float | None = None
) -> list[PassageCount]:
    """Per passage, the up, down and commented ratings of the answers built from it, first given in
    [since, until); most thumbs down first (the knowledge gaps to look at), then most rated."""
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    comments: Counter[str] = Counter()
    for row in _ratings(engine, since, until):
        for passage in set(_load(row.passage_ids)):
            (up if row.value == "up" else down)[passage] += 1
            comments[passage] += bool(row.comment)
    counts = [PassageCount(p, up[p], down[p], comments[p]) for p in set(up) | set(down)]
    return sorted(counts, key=lambda c: (-c.down, -c.total, c.passage_id))


def forget_senders(engine: sa.engine.Engine, sender_ids: list[str]) -> int:
    """Deletes these patients' ratings and offers (erasure, retention). Returns how many rows went; no
    tables yet -> 0."""
    senders = sorted(set(sender_ids))
    removed = 0
    for table in (feedback, offers):
        if not senders or not _has_table(engine, table):
            continue
        with engine.begin() as conn:
            for start in range(0, len(senders), BATCH):
                result = conn.execute(table.delete().where(table.c.sender_id.in_(senders[start : start + BATCH])))
                removed += int(result.rowcount or 0)
    return removed
