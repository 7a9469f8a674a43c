"""Keeps the conversation index (console_conversations) in step with Rasa's tracker store: reads
only the events added since the last run (by event id), so it is cheap to call before every list."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from console.models import Conversation, SyncState
from console.tracker_store import StoredEvent, events_after

LOW_CONFIDENCE = 0.6
CHANNEL_PREFIXES = {"tg-": "telegram", "wa-": "whatsapp", "web-": "webchat"}
SEARCH_LIMIT = 20_000
INDEX_LOCK_KEY = 0x6D65736F  # PostgreSQL advisory lock id ("meso")
_index_lock = threading.Lock()


def lock_index(db: Session) -> None:
    """Makes this transaction the only writer of the conversation index until it ends: across
    console processes on PostgreSQL (an advisory lock). Within a process, hold `index_lock` too."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INDEX_LOCK_KEY})


def index_lock() -> threading.Lock:
    """The in-process lock every writer of the index (sync, erasure, purge) holds."""
    return _index_lock


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp or 0.0, UTC)


def _channel(sender_id: str, event: StoredEvent | None) -> str:
    if event is not None and event.data.get("input_channel"):
        return str(event.data["input_channel"])[:32]
    return next((name for prefix, name in CHANNEL_PREFIXES.items() if sender_id.startswith(prefix)), "rest")


def apply(row: Conversation, event: StoredEvent) -> None:
    """Folds one tracker event into the conversation's row."""
    row.last_at = max(row.last_at, _when(event.timestamp))
    data = event.data
    if event.type_name == "user":
        row.user_messages = (row.user_messages or 0) + 1
        row.last_user_at = _when(event.timestamp)
        row.channel = _channel(row.sender_id, event)
        text = str(data.get("text") or "")
        if text and not text.startswith("/"):
            row.last_user_text = text[:500]
            if not row.preview:
                row.preview = text[:200]
            if len(row.search_text or "") < SEARCH_LIMIT:
                row.search_text = ((row.search_text or "") + "\n" + text.lower())[:SEARCH_LIMIT]
    elif event.type_name == "bot" and (data.get("metadata") or {}).get("staff_reply"):
        row.last_staff_at = _when(event.timestamp)
    elif event.type_name == "bot":
        meta = ((data.get("data") or {}).get("custom") or {}).get("meta")
        if isinstance(meta, dict) and meta.get("kind"):
            kind = str(meta["kind"])
            if f",{kind}," not in row.kinds:
                row.kinds = f"{row.kinds}{kind},"[:255]
            if kind == "emergency":
                row.emergency = True
            confidence = meta.get("confidence")
            if kind == "clarify" or (
                kind == "answer" and isinstance(confidence, int | float) and confidence < LOW_CONFIDENCE
            ):
                row.low_confidence = True
    elif event.type_name == "slot" and data.get("name") == "handoff":
        waiting = bool(data.get("value"))
        if waiting and not row.handoff:
            row.handoff_since = _when(event.timestamp)
        elif not waiting:
            row.handoff_since = None
            row.handoff_reason = None
        row.handoff = waiting
    elif event.type_name == "slot" and data.get("name") == "handoff_reason" and data.get("value"):
        row.handoff_reason = str(data["value"])[:64]


def sync(db: Session, tracker_url: str, batch: int = 5000) -> int:
    """Indexes every event added since the last call; returns how many were read. Safe to call
    from concurrent requests: one batch at a time, each in its own locked transaction."""
    total = 0
    with _index_lock:
        while True:
            lock_index(db)
            state = db.get(SyncState, "last_event_id", populate_existing=True) or SyncState(
                name="last_event_id", value=0
            )
            new = events_after(tracker_url, state.value, batch)
            if not new:
                db.commit()
                break
            _fold(db, new)
            state.value = new[-1].id
            db.merge(state)
            db.commit()
            total += len(new)
            if len(new) < batch:
                break
    return total


def _fold(db: Session, new: list[StoredEvent]) -> None:
    by_sender: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in new:
        by_sender[event.sender_id].append(event)
    for sender_id, events in by_sender.items():
        row = db.get(Conversation, sender_id, populate_existing=True)
        if row is None:
            first_user = next((e for e in events if e.type_name == "user"), None)
            row = Conversation(
                sender_id=sender_id,
                channel=_channel(sender_id, first_user),
                started_at=_when(events[0].timestamp),
                last_at=_when(events[0].timestamp),
                user_messages=0,
                kinds=",",
                handoff=False,
                emergency=False,
                low_confidence=False,
                preview="",
                search_text="",
                last_user_text="",
            )
            db.add(row)
        for event in events:
            apply(row, event)
