"""The live handoff queue: conversations waiting for a clinician, emergencies first, then the
patients who have waited longest for a reply, then those already answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.models import Conversation


@dataclass(frozen=True)
class Waiting:
    conversation: Conversation
    awaiting_reply: bool
    since: datetime

    def seconds(self, now: datetime) -> int:
        return max(0, int((now - self.since).total_seconds()))


def waiting(row: Conversation) -> Waiting:
    started = row.handoff_since or row.last_at
    staff = row.last_staff_at
    if staff is None or staff < started:
        return Waiting(row, True, started)
    if row.last_user_at is not None and row.last_user_at > staff:
        return Waiting(row, True, row.last_user_at)
    return Waiting(row, False, staff)


def queue(db: Session, now: datetime | None = None) -> list[Waiting]:
    rows = db.scalars(select(Conversation).where(Conversation.handoff.is_(True)))
    items = [waiting(row) for row in rows]
    now = now or datetime.now(UTC)
    # emergencies first, then unanswered patients (longest wait first), then answered ones
    items.sort(key=lambda w: (not w.conversation.emergency, not w.awaiting_reply, -w.seconds(now)))
    return items
