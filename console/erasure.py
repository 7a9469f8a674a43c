"""Erasing patients' data: every event of their conversations in Rasa's tracker store, their rows in the
console's tables (index, reviews, tags, notes), their lines in the staff alerts file, their web widget
sessions (a device that kept the token opens nothing afterwards), their feedback on answers and the call-back
contact they left (in the console and still waiting in the channels' database). Used for one
patient on request (audited as `erase`) and by the retention purge for every expired conversation.

Logins and staff accounts are not touched, and no audit row is removed: the audit log is append-only and
keeps the erasure entry itself (counts only, never message text), but its rows stop naming the patient:
the sender id becomes a pseudonym (console/audit.py `pseudonymise`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.channels import contacts as contact_inbox
from bot.channels.feedback import forget_senders
from bot.channels.webchat_sessions import end_conversations
from console import audit
from console import contacts as callbacks
from console.models import Conversation, Note, Review, SyncState, Tag
from console.sync import index_lock, lock_index
from console.tracker_store import chunks, events, has_events_table, json_object, tracker_engine
from core.alerts import locked
from core.settings import Settings
from core.text_clean import clean_text


@dataclass(frozen=True)
class Removed:
    """How many rows and lines went, store by store."""

    events: int = 0
    conversations: int = 0
    reviews: int = 0
    tags: int = 0
    notes: int = 0
    alerts: int = 0
    widget_sessions: int = 0
    feedback: int = 0
    contacts: int = 0

    @property
    def anything(self) -> bool:
        return any(self.counts().values())

    def counts(self) -> dict[str, int]:
        return asdict(self)


def rewrite_alerts(path: Path, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> int:
    """Rewrites the staff alerts file under its lock: `change` returns the alert (maybe edited) or None to
    drop it. The new file replaces the old one atomically; returns how many lines were dropped or edited."""
    try:
        with locked(path, "r") as handle:
            kept: list[str] = []
            touched = 0
            for line in handle.read().splitlines():
                alert = json_object(line) if line.strip() else None
                if not alert:
                    kept.append(line)  # not ours to judge: keep it as it is
                    continue
                new = change(dict(alert))
                if new is None:
                    touched += 1
                elif new != alert:
                    touched += 1
                    kept.append(clean_text(json.dumps(new, ensure_ascii=False)))  # any str: stays UTF-8
                else:
                    kept.append(line)
            if touched:
                temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                with temporary.open("w", encoding="utf-8") as out:
                    out.write("".join(line + "\n" for line in kept))
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(temporary, os.stat(path).st_mode & 0o7777)
                os.replace(temporary, path)
            return touched
    except FileNotFoundError:
        return 0


def _delete_tracker_events(tracker_url: str, senders: list[str]) -> tuple[int, int]:
    """Deletes the senders' events; returns (rows deleted, the highest event id left, 0 if none)."""
    engine = tracker_engine(tracker_url)
    with engine.begin() as conn:
        if not has_events_table(conn):
            return 0, 0
        deleted = 0
        for batch in chunks(senders):
            deleted += conn.execute(delete(events).where(events.c.sender_id.in_(batch))).rowcount or 0
        highest = conn.execute(select(func.max(events.c.id))).scalar() or 0
    return deleted, int(highest)


def _delete_console_rows(db: Session, senders: list[str], highest_event_id: int) -> dict[str, int]:
    counts = {"conversations": 0, "reviews": 0, "tags": 0, "notes": 0}
    for batch in chunks(senders):
        for name, model in (("conversations", Conversation), ("reviews", Review), ("tags", Tag), ("notes", Note)):
            result = db.execute(delete(model).where(model.sender_id.in_(batch)))
            counts[name] += result.rowcount or 0  # type: ignore[attr-defined]
    # SQLite hands the ids of deleted top rows out again: move the sync cursor back to the highest id left,
    # so events written from now on are indexed and not taken for ones already seen.
    db.execute(
        update(SyncState)
        .where(SyncState.name == "last_event_id", SyncState.value > highest_event_id)
        .values(value=highest_event_id)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    db.expire_all()
    return counts


def remove(
    db: Session, settings: Settings, senders: list[str], alerts_too: Callable[[dict[str, Any]], bool] | None = None
) -> Removed:
    """Removes the senders' data from the tracker store, the console's tables and the alerts file (plus any
    other alert `alerts_too` picks). The tracker store goes first, so the index cannot be rebuilt from it."""
    db.commit()  # nothing of ours pending while the tracker store (maybe the same SQLite file) is written
    deleted_events, rows = 0, {}
    if senders:
        with index_lock():  # no index refresh can read the events before they go and write them back after
            lock_index(db)
            deleted_events, highest = _delete_tracker_events(settings.tracker_db_url, senders)
            rows = _delete_console_rows(db, senders, highest)
    wanted = set(senders)

    def keep(alert: dict[str, Any]) -> dict[str, Any] | None:
        if alert.get("sender_id") in wanted or (alerts_too is not None and alerts_too(alert)):
            return None
        return alert

    alerts = rewrite_alerts(settings.alerts_file, keep) if wanted or alerts_too else 0
    # the patient's widget sessions (in the channels' database) end with the conversation they opened
    channel_db = tracker_engine(settings.channel_db_url or settings.tracker_db_url)
    ended = end_conversations(channel_db, senders)
    feedback = forget_senders(channel_db, senders)  # their ratings and "what was missing?" notes
    # the call-back numbers they left: the console's copies and any the console has not taken yet
    contacts = callbacks.forget(db, senders) + contact_inbox.forget_senders(channel_db, senders)
    return Removed(
        events=deleted_events, alerts=alerts, widget_sessions=ended, feedback=feedback, contacts=contacts, **rows
    )


def erase(db: Session, settings: Settings, sender_id: str, actor: str, ip: str | None = None) -> Removed:
    """Erases one patient's data; audited (action `erase`, counts only) when anything was there. Then the
    audit log's rows about this patient, the erasure's own included, name a pseudonym instead of the
    sender id (console/audit.py)."""
    removed = remove(db, settings, [sender_id])
    if removed.anything:
        audit.record(db, "erase", actor, sender_id, ip, **removed.counts())
    audit.pseudonymise(db, [sender_id])
    return removed
