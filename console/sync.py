"""Keeps the conversation index (console_conversations) in step with Rasa's tracker store: reads
only the events added since the last run (by event id), so it is cheap to call before every list.

One bad record never stops it. Every value read from an event is checked: strings are cleaned
(core/text_clean.py: lone surrogates, NUL, noncharacters) and cut to their column, values of the
wrong type count as missing, unreadable timestamps as the epoch. An event that is repaired that way,
or that still cannot be stored (it is then skipped), is logged once, by event id and never with its
text, and the sync carries on with the next one."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from console.models import Conversation, SyncState
from console.tracker_store import EPOCH, StoredEvent, as_dict, event_time, events_after
from core.text_clean import clean_text, is_clean

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.6
CHANNEL_PREFIXES = {"tg-": "telegram", "wa-": "whatsapp", "web-": "webchat"}
NAMED_CHANNELS = ("telegram", "whatsapp")
"""Channels whose message metadata may name the patient (the platform's name, not something a web page
or REST client typed): Telegram's first name, WhatsApp's profile name."""
NAME_KEYS = ("display_name", "first_name", "profile_name")
NAME_LIMIT = 64  # console_conversations.display_name
YES_NO = ("affirm", "deny")
TRIGGER_LIMIT = 500  # console_conversations.trigger_text
SEARCH_LIMIT = 20_000
SENDER_LIMIT = 255  # console_conversations.sender_id
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


def _text(value: Any, limit: int) -> str:
    """A string field, cleaned and cut to `limit`; numbers as their digits; anything else empty."""
    if isinstance(value, str):
        return clean_text(value[:limit])
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:limit]
    return ""


def _channel(sender_id: str, event: StoredEvent | None) -> str:
    named = _text(event.data.get("input_channel"), 32) if event is not None else ""
    if named:
        return named
    return next((name for prefix, name in CHANNEL_PREFIXES.items() if sender_id.startswith(prefix)), "rest")


def _usable_sender(sender_id: Any) -> bool:
    """A sender id the index can key a conversation by. Ids are never repaired: two different ids
    must never become one conversation."""
    return isinstance(sender_id, str) and 0 < len(sender_id) <= SENDER_LIMIT and is_clean(sender_id)


def problems(event: StoredEvent) -> list[str]:
    """What is wrong with an event that the index repairs (names of fields only, never their text)."""
    found: list[str] = []
    data = event.data
    if not data:
        found.append("data is not a JSON object")
    if event_time(event.timestamp) == EPOCH and event.timestamp:
        found.append("unreadable timestamp")
    if event.type_name == "user":
        raw = data.get("text")
        if raw is not None and not isinstance(raw, str):
            found.append("text is not a string")
        elif isinstance(raw, str) and (len(raw) > SEARCH_LIMIT or not is_clean(raw)):
            found.append("text too long or with characters no store accepts")
    return found


def _display_name(channel: str, data: dict[str, Any]) -> str:
    """The patient's name from a messaging app's message metadata, or "" (other channels: never)."""
    if channel not in NAMED_CHANNELS:
        return ""
    metadata = as_dict(data.get("metadata"))
    for key in NAME_KEYS:
        value = metadata.get(key)
        name = " ".join(value[: NAME_LIMIT * 4].split())[:NAME_LIMIT] if isinstance(value, str) else ""
        if name:
            return clean_text(name)
    return ""


def _bare_yes_or_no(data: dict[str, Any], said: str) -> bool:
    """A short yes or no (accepting or declining an offer), not a question of its own."""
    intent = as_dict(as_dict(data.get("parse_data")).get("intent")).get("name")
    return intent in YES_NO and len(said.split()) <= 4


def _alert(row: Conversation, kind: str, event_id: int) -> None:
    """A new handoff or emergency for the queue's alerts; an emergency waits for a new acknowledgement."""
    row.alert_kind = kind
    row.alert_seq = event_id
    if kind == "emergency":
        row.acknowledged_by = None
        row.acknowledged_at = None


def _handoff_ended(row: Conversation) -> None:
    row.handoff_since = None
    row.handoff_reason = None
    row.alert_kind = None
    row.alert_seq = None
    row.claimed_by = None
    row.claimed_at = None
    row.acknowledged_by = None
    row.acknowledged_at = None


def apply(row: Conversation, event: StoredEvent) -> None:
    """Folds one tracker event into the conversation's row. Tolerant: fields of the wrong type are
    ignored, strings are cleaned and cut to their columns.

    A turn's events come in order (the patient's message, the replies, the reply metadata, the
    slots), so the handoff queue's fields follow it: the reply metadata of kind `emergency` or (not
    yet waiting) `handoff` raises an alert, the `handoff` slot opens or closes the queue entry."""
    at = event_time(event.timestamp)
    row.last_at = max(row.last_at, at)
    data = event.data
    if event.type_name == "user":
        row.user_messages = (row.user_messages or 0) + 1
        row.last_user_at = at
        row.channel = _channel(row.sender_id, event)
        said = _text(data.get("text"), SEARCH_LIMIT)
        if not row.handoff:
            row.alert_kind = None  # a new turn: its reply says whether it hands off
        if said and not said.startswith("/"):
            row.last_user_text = said[:500]
            if not row.handoff and not _bare_yes_or_no(data, said):
                row.trigger_text = said[:TRIGGER_LIMIT]
            if not row.preview:
                row.preview = said[:200]
            if len(row.search_text or "") < SEARCH_LIMIT:
                row.search_text = ((row.search_text or "") + "\n" + said.lower())[:SEARCH_LIMIT]
        name = _display_name(row.channel, data)
        if name:
            row.display_name = name
    elif event.type_name == "bot" and as_dict(data.get("metadata")).get("staff_reply"):
        row.last_staff_at = at
    elif event.type_name == "bot":
        meta = as_dict(as_dict(as_dict(data.get("data")).get("custom")).get("meta"))
        kind = _text(meta.get("kind"), 32).replace(",", " ").strip()
        if kind:
            if f",{kind}," not in row.kinds:
                row.kinds = f"{row.kinds}{kind},"[:255]
            if kind == "emergency":
                row.emergency = True
                row.trigger_text = (row.last_user_text or "")[:TRIGGER_LIMIT]  # the message with the warning sign
                _alert(row, "emergency", event.id)
            elif kind == "handoff" and not row.handoff and row.alert_kind is None:
                _alert(row, "handoff", event.id)
            confidence = meta.get("confidence")
            if kind == "clarify" or (
                kind == "answer"
                and isinstance(confidence, int | float)
                and not isinstance(confidence, bool)
                and confidence < LOW_CONFIDENCE
            ):
                row.low_confidence = True
    elif event.type_name == "slot" and data.get("name") == "handoff":
        waiting = bool(data.get("value"))
        if waiting and not row.handoff:
            row.handoff_since = at
            row.claimed_by = None
            row.claimed_at = None
            if row.alert_kind is None:  # started by staff (take-over), or with no reply metadata
                _alert(row, "handoff", event.id)
        elif not waiting:
            _handoff_ended(row)
        row.handoff = waiting
    elif event.type_name == "slot" and data.get("name") == "handoff_reason" and data.get("value"):
        row.handoff_reason = _text(data["value"], 64) or None


def sync(db: Session, tracker_url: str, batch: int = 5000) -> int:
    """Indexes every event added since the last call; returns how many were read. Safe to call
    from concurrent requests: one batch at a time, each in its own locked transaction. A batch that
    cannot be stored is stored again event by event, skipping (and logging) the ones that fail."""
    total = 0
    with _index_lock:
        while True:
            lock_index(db)
            state = _state(db)
            new = events_after(tracker_url, state.value, batch)
            if not new:
                db.commit()
                break
            try:
                _fold(db, new)
                state.value = new[-1].id
                db.merge(state)
                db.commit()
            except (OperationalError, InterfaceError):
                db.rollback()
                raise  # the database itself is unavailable: nothing is skipped
            except (SQLAlchemyError, ValueError):
                db.rollback()
                _one_by_one(db, new)
            total += len(new)
            if len(new) < batch:
                break
    return total


def _state(db: Session) -> SyncState:
    return db.get(SyncState, "last_event_id", populate_existing=True) or SyncState(name="last_event_id", value=0)


def _one_by_one(db: Session, new: list[StoredEvent]) -> None:
    """Stores a batch that failed as a whole one event per transaction; an event that fails alone is
    skipped (the index moves past it) and logged by id."""
    for event in new:
        lock_index(db)
        state = _state(db)
        if event.id <= state.value:
            db.commit()
            continue
        try:
            _fold(db, [event])
            state.value = event.id
            db.merge(state)
            db.commit()
        except (OperationalError, InterfaceError):
            db.rollback()
            raise
        except (SQLAlchemyError, ValueError) as exc:
            db.rollback()
            log.warning("conversation index: skipped tracker event %s, it cannot be stored (%s)", event.id, _name(exc))
            lock_index(db)
            state = _state(db)
            state.value = max(state.value, event.id)
            db.merge(state)
            db.commit()


def _name(exc: BaseException) -> str:
    """The error's class, or the database driver's one inside SQLAlchemy's wrapper (never its message,
    which can quote the event's text)."""
    cause = getattr(exc, "orig", None)
    return type(cause if isinstance(cause, BaseException) else exc).__name__


def _fold(db: Session, new: list[StoredEvent]) -> None:
    by_sender: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in new:
        if not _usable_sender(event.sender_id):
            log.warning("conversation index: skipped tracker event %s, its sender id is unusable", event.id)
            continue
        found = problems(event)
        if found:
            log.warning("conversation index: repaired tracker event %s (%s)", event.id, "; ".join(found))
        by_sender[event.sender_id].append(event)
    for sender_id, events in by_sender.items():
        row = db.get(Conversation, sender_id, populate_existing=True)
        if row is None:
            first_user = next((e for e in events if e.type_name == "user"), None)
            row = Conversation(
                sender_id=sender_id,
                channel=_channel(sender_id, first_user),
                started_at=event_time(events[0].timestamp),
                last_at=event_time(events[0].timestamp),
                user_messages=0,
                kinds=",",
                handoff=False,
                emergency=False,
                low_confidence=False,
                preview="",
                search_text="",
                last_user_text="",
                trigger_text="",
            )
            db.add(row)
        for event in events:
            try:
                apply(row, event)
            except Exception as exc:  # a shape no check above foresaw: the rest of the batch still counts
                log.warning("conversation index: skipped tracker event %s (%s)", event.id, type(exc).__name__)
