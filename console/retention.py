"""Retention and at-rest redaction, run together by the scheduler, `POST /api/retention/purge` and
`python -m console purge`.

Purge: every conversation whose last event is older than `retention_days` is erased like one patient's
data (console/erasure.py), decided from the tracker store itself so conversations the index has not
seen yet go too; a conversation still waiting for a clinician is purged as well (retention is a legal
limit), and so are alerts older than the cutoff.

At-rest redaction (unless `console_keep_raw_text`): once a conversation has been idle for
`redact_stored_after_hours` and is not waiting for a clinician, identifiers in the patient's stored
messages (and in text slots such as the pending question, the index's preview and search text and the
staff alerts) are replaced by console/redaction.py. A high-water mark (`redacted_before` in
console_sync_state) limits each run to the conversations that went idle since the last one; a
conversation handed back later gets a newer last event, so it comes round again."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.orm import Session

from console import audit
from console.erasure import Removed, remove, rewrite_alerts
from console.models import Conversation, SyncState
from console.redaction import redact
from console.sync import index_lock, lock_index
from console.tracker_store import chunks, events, has_events_table, json_object, tracker_engine
from core.settings import Settings
from core.text_clean import clean_text

SYSTEM = "system"
"""The actor of scheduled runs."""
REDACTED_BEFORE = "redacted_before"
_one_at_a_time = threading.Lock()


@dataclass(frozen=True)
class Redacted:
    conversations: int = 0
    events: int = 0
    alerts: int = 0

    @property
    def anything(self) -> bool:
        return any((self.conversations, self.events, self.alerts))


@dataclass(frozen=True)
class Purged:
    cutoff: datetime
    expired: int
    """Conversations (sender ids) purged."""
    removed: Removed


@dataclass(frozen=True)
class RetentionReport:
    purged: Purged
    redacted: Redacted | None
    """None when the clinic keeps raw text (MESO_CONSOLE_KEEP_RAW_TEXT=true)."""

    @property
    def anything(self) -> bool:
        return self.purged.expired > 0 or self.purged.removed.anything or bool(self.redacted and self.redacted.anything)


def _json(raw: str | None) -> dict[str, Any]:
    return json_object(raw)


def _old_alert(alert: dict[str, Any], before: float) -> bool:
    at = alert.get("at")
    return isinstance(at, int | float) and at < before


# ---------------------------------------------------------------------------------------------- purge


def expired_senders(db: Session, settings: Settings, cutoff: datetime) -> list[str]:
    """Conversations whose last event is older than the cutoff: from the tracker store, plus index rows
    with no newer events there (their events already gone, or never stored)."""
    before = cutoff.timestamp()
    indexed = set(db.scalars(select(Conversation.sender_id).where(Conversation.last_at < cutoff)))
    with tracker_engine(settings.tracker_db_url).connect() as conn:
        if not has_events_table(conn):
            return sorted(indexed)
        last = func.max(events.c.timestamp)
        old = set(conn.scalars(select(events.c.sender_id).group_by(events.c.sender_id).having(last < before)))
        for batch in chunks(sorted(indexed - old)):
            recent = select(events.c.sender_id).where(events.c.sender_id.in_(batch), events.c.timestamp >= before)
            indexed -= set(conn.scalars(recent.distinct()))
    return sorted(old | indexed)


def purge(db: Session, settings: Settings, now: datetime) -> Purged:
    cutoff = now - timedelta(days=settings.retention_days)
    senders = expired_senders(db, settings, cutoff)
    before = cutoff.timestamp()
    removed = remove(db, settings, senders, alerts_too=lambda alert: _old_alert(alert, before))
    audit.pseudonymise(db, senders)  # the audit log keeps its rows, no longer naming purged patients
    return Purged(cutoff=cutoff, expired=len(senders), removed=removed)


# ------------------------------------------------------------------------------------ at-rest redaction


def waiting_for_clinician(conn: Connection, senders: list[str]) -> set[str]:
    """Which of these conversations are handed off right now (their latest `handoff` slot is true)."""
    waiting: dict[str, bool] = {}
    for batch in chunks(senders):
        rows = conn.execute(
            select(events.c.sender_id, events.c.type_name, events.c.data)
            .where(events.c.sender_id.in_(batch), events.c.type_name.in_(("slot", "restart", "reset_slots")))
            .order_by(events.c.timestamp, events.c.id)
        )
        for row in rows:
            data = _json(row.data)
            if row.type_name != "slot":
                waiting[row.sender_id] = False  # every slot reset
            elif data.get("name") == "handoff":
                waiting[row.sender_id] = bool(data.get("value"))
    return {sender for sender, value in waiting.items() if value}


def redacted_event(type_name: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The event's data with identifiers redacted, or None when there is nothing to change."""
    new = json.loads(json.dumps(data))
    if type_name == "user":
        if isinstance(new.get("text"), str):
            new["text"] = redact(new["text"])
        parsed = new.get("parse_data")
        if isinstance(parsed, dict):
            if isinstance(parsed.get("text"), str):
                parsed["text"] = redact(parsed["text"])
            for entity in parsed.get("entities") or []:
                if isinstance(entity, dict) and isinstance(entity.get("value"), str):
                    entity["value"] = redact(entity["value"])
        metadata = new.get("metadata")
        if isinstance(metadata, dict) and "display_name" in metadata:
            del metadata["display_name"]  # the messaging app's name for the patient (bot/channels/common.py)
    elif type_name == "slot" and isinstance(new.get("value"), str):
        new["value"] = redact(new["value"])  # e.g. the question waiting for consent
    return new if new != data else None


def _redact_events(conn: Connection, senders: list[str]) -> tuple[int, set[str]]:
    """Rewrites the senders' stored patient messages; returns (rows rewritten, senders touched)."""
    rewritten, touched = 0, set[str]()
    statement = update(events).where(events.c.id == bindparam("row_id")).values(data=bindparam("new_data"))
    for batch in chunks(senders):
        rows = conn.execute(
            select(events.c.id, events.c.sender_id, events.c.type_name, events.c.data).where(
                events.c.sender_id.in_(batch), events.c.type_name.in_(("user", "slot"))
            )
        )
        changes = []
        for row in rows:
            new = redacted_event(row.type_name, _json(row.data))
            if new is not None:
                # cleaned: a lone surrogate or NUL in the stored text must not stop the job
                changes.append({"row_id": row.id, "new_data": clean_text(json.dumps(new, ensure_ascii=False))})
                touched.add(row.sender_id)
        if changes:
            conn.execute(statement, changes)
            rewritten += len(changes)
    return rewritten, touched


INDEX_TEXT = ("preview", "search_text", "last_user_text", "trigger_text")
"""The index's copies of what patients wrote."""


def _redact_index(db: Session, senders: list[str]) -> set[str]:
    touched = set[str]()
    for batch in chunks(senders):
        query = select(Conversation).where(Conversation.sender_id.in_(batch))
        for row in db.scalars(query.execution_options(populate_existing=True)):
            for name in INDEX_TEXT:
                text = getattr(row, name, None)
                if isinstance(text, str) and redact(text) != text:
                    setattr(row, name, redact(text))
                    touched.add(row.sender_id)
            if row.display_name:  # the patient's name from Telegram or WhatsApp: no longer needed
                row.display_name = None
                touched.add(row.sender_id)
    return touched


def _redact_alerts(settings: Settings, conn: Connection | None, before: float) -> int:
    try:
        lines = settings.alerts_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0
    senders = set[str]()
    for line in lines:
        alert = _json(line) if line.startswith("{") else {}
        if _old_alert(alert, before) and isinstance(alert.get("sender_id"), str):
            senders.add(alert["sender_id"])
    waiting = waiting_for_clinician(conn, sorted(senders)) if conn is not None and senders else set()

    def change(alert: dict[str, Any]) -> dict[str, Any]:
        if _old_alert(alert, before) and alert.get("sender_id") not in waiting and isinstance(alert.get("text"), str):
            alert["text"] = redact(alert["text"])
        return alert

    return rewrite_alerts(settings.alerts_file, change)


def redact_at_rest(db: Session, settings: Settings, now: datetime) -> Redacted:
    """Redacts the stored text of conversations idle since the last run (see the module's docstring)."""
    cutoff = now - timedelta(hours=settings.redact_stored_after_hours)
    before = cutoff.timestamp()
    mark = db.get(SyncState, REDACTED_BEFORE, populate_existing=True)
    since = mark.value if mark is not None else None
    db.commit()
    engine = tracker_engine(settings.tracker_db_url)
    rewritten, touched, idle = 0, set[str](), list[str]()
    with engine.connect() as conn:
        exists = has_events_table(conn)
        if exists:
            last = func.max(events.c.timestamp)
            query = select(events.c.sender_id).group_by(events.c.sender_id).having(last < before)
            if since is not None:
                query = query.having(last >= since)
            candidates = sorted(conn.scalars(query))
            waiting = waiting_for_clinician(conn, candidates)
            idle = [sender for sender in candidates if sender not in waiting]
        alerts = _redact_alerts(settings, conn if exists else None, before)
    with index_lock():  # an index refresh cannot fold in raw text read before the rewrite
        lock_index(db)
        if idle:
            with engine.begin() as conn:
                rewritten, touched = _redact_events(conn, idle)
        touched |= _redact_index(db, idle)
        db.merge(SyncState(name=REDACTED_BEFORE, value=int(before)))
        db.commit()
    return Redacted(conversations=len(touched), events=rewritten, alerts=alerts)


# ------------------------------------------------------------------------------------------------ run


def run(
    db: Session, settings: Settings, actor: str = SYSTEM, ip: str | None = None, now: datetime | None = None
) -> RetentionReport:
    """Purge, then at-rest redaction. Audited as `purge` (counts only) when run by someone, and when a
    scheduled run changed anything."""
    now = now or datetime.now(UTC)
    with _one_at_a_time:
        purged = purge(db, settings, now)
        redacted = None if settings.console_keep_raw_text else redact_at_rest(db, settings, now)
    report = RetentionReport(purged=purged, redacted=redacted)
    if actor != SYSTEM or report.anything:
        detail: dict[str, Any] = {
            "cutoff": purged.cutoff.isoformat(timespec="seconds"),
            "retention_days": settings.retention_days,
            "expired": purged.expired,
            **purged.removed.counts(),
        }
        if redacted is not None:
            detail.update(
                redacted_conversations=redacted.conversations,
                redacted_events=redacted.events,
                redacted_alerts=redacted.alerts,
            )
        audit.record(db, "purge", actor, None, ip, **detail)
    return report
