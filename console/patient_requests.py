"""Erasure a patient asked for in the chat ("delete my data", then "Yes, delete it": actions/respond.py).

The dialogue cannot delete the conversation it is writing to (Rasa stores the turn after the action), so
the assistant's confirmed-erasure reply carries the reason `patient_data:erase_confirmed` in its reply
metadata, and this job, run every few seconds by the console (console/scheduler.py), erases each
conversation that holds one: the same erasure as an admin's (console/erasure.py: tracker events, the
console's rows, alert lines, widget sessions), audited with the actor `patient-request` (counts only) and
the patient pseudonymised in the audit log.

New events are read past a cursor (`console_sync_state`, `patient_requests_cursor`), so each run reads only
what was written since the last one; the cursor moves back after an erasure, as the index sync's does,
because SQLite hands the ids of deleted top rows out again."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.erasure import erase
from console.models import SyncState
from console.tracker_store import as_dict, events, has_events_table, json_object, tracker_engine
from core.settings import Settings

log = logging.getLogger(__name__)

ERASE_CONFIRMED = "patient_data:erase_confirmed"
"""The reason the assistant's reply carries (actions/respond.py ERASE_CONFIRMED)."""
ACTOR = "patient-request"
CURSOR = "patient_requests_cursor"
BATCH = 5000


@dataclass(frozen=True)
class Handled:
    erased: int
    """Conversations erased in this run."""
    read: int
    """New tracker events read."""


def _asks_erasure(raw: str | None) -> bool:
    meta = as_dict(as_dict(as_dict(json_object(raw).get("data")).get("custom")).get("meta"))
    return meta.get("reason") == ERASE_CONFIRMED


def _cursor(db: Session) -> SyncState:
    state = db.get(SyncState, CURSOR)
    if state is None:
        state = SyncState(name=CURSOR, value=0)
        db.add(state)
        db.flush()
    return state


def run_once(db: Session, settings: Settings) -> Handled:
    """Erases every conversation whose patient confirmed erasure since the last run."""
    engine = tracker_engine(settings.tracker_db_url)
    if not has_events_table(engine):
        return Handled(0, 0)
    state = _cursor(db)
    senders: list[str] = []
    read = 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(events.c.id, events.c.sender_id, events.c.data)
                .where(events.c.id > state.value, events.c.type_name == "bot")
                .order_by(events.c.id)
                .limit(BATCH)
            ).all()
            for row in rows:
                if _asks_erasure(row.data) and row.sender_id not in senders:
                    senders.append(str(row.sender_id))
            read += len(rows)
            if rows:
                state.value = int(rows[-1].id)  # the next run starts after it
            if len(rows) < BATCH:
                break
    db.commit()
    for sender in senders:
        removed = erase(db, settings, sender, ACTOR)
        log.info("erased the conversation of a patient who asked for it (%d events)", removed.events)
    if senders:
        with engine.connect() as conn:
            left = conn.execute(select(func.max(events.c.id))).scalar() or 0
        state = _cursor(db)
        state.value = min(int(state.value), int(left))
        db.commit()
    return Handled(len(senders), read)
