"""Reading Rasa's SQL tracker store (the `events` table Rasa creates), from SQLite or PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, Connection, Engine, Float, Integer, MetaData, String, Table, Text, inspect, select

from console.db import make_engine

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


EPOCH = datetime.fromtimestamp(0, UTC)


def event_time(timestamp: Any) -> datetime:
    """An event's time; the epoch for one that is missing, not a number, NaN or out of range (one bad
    record never stops a screen)."""
    try:
        return datetime.fromtimestamp(float(timestamp or 0.0), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return EPOCH


def as_dict(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (for reading stored events tolerantly)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class StoredEvent:
    id: int
    sender_id: str
    type_name: str
    timestamp: float
    data: dict[str, Any]


@lru_cache(maxsize=4)
def tracker_engine(url: str) -> Engine:
    return make_engine(url)


CHUNK = 500
"""Sender ids per IN (...) clause."""


def has_events_table(bind: Engine | Connection) -> bool:
    """False until Rasa has stored its first conversation."""
    return inspect(bind).has_table("events")


def chunks(items: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def json_object(raw: str | bytes | None) -> dict[str, Any]:
    """A stored JSON object (an event, an alert line), or an empty one for anything else: not JSON, not an
    object, or nested too deep for Python's parser (RecursionError). One bad record never stops a screen."""
    try:
        data = json.loads(raw or "{}")
    except (ValueError, RecursionError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _row(row: Any) -> StoredEvent:
    return StoredEvent(row.id, row.sender_id, row.type_name, row.timestamp or 0.0, json_object(row.data))


def events_after(url: str, last_id: int, limit: int = 5000) -> list[StoredEvent]:
    engine = tracker_engine(url)
    if not has_events_table(engine):
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(events).where(events.c.id > last_id).order_by(events.c.id).limit(limit))
        return [_row(r) for r in rows]


def conversation(url: str, sender_id: str) -> list[StoredEvent]:
    return conversations(url, [sender_id])[sender_id]


def conversations(url: str, sender_ids: list[str]) -> dict[str, list[StoredEvent]]:
    """The events of several conversations at once, each in order."""
    engine = tracker_engine(url)
    found: dict[str, list[StoredEvent]] = {sender_id: [] for sender_id in sender_ids}
    if not sender_ids or not has_events_table(engine):
        return found
    with engine.connect() as conn:
        for batch in chunks(sender_ids):
            rows = conn.execute(select(events).where(events.c.sender_id.in_(batch)).order_by(events.c.id))
            for row in rows:
                found[row.sender_id].append(_row(row))
    return found
