"""Openings of a transcript, as the audit log records them: a transcript open on screen follows the
conversation live (`GET /api/conversations/{id}/updates`) without a new audit entry for every poll, so it
names its opening instead, the audit entry's id (`view`). Only an opening of the same conversation by the
same staff member in the current login counts, so the live route reads nothing that was not audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.models import AuditEntry

OPENINGS = ("view_transcript", "view_transcript_raw")


def latest(db: Session, action: str, actor: str, target: str) -> int:
    """The id of this staff member's latest opening of this transcript (just recorded)."""
    found = db.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.action == action, AuditEntry.actor == actor, AuditEntry.target == target
        )
    )
    return int(found or 0)


def opening(db: Session, view: int, actor: str, target: str, since: datetime) -> str | None:
    """The action of opening `view` ("view_transcript" or "view_transcript_raw") when it is this staff
    member's opening of this transcript at or after `since` (the login's start); None otherwise."""
    entry = db.get(AuditEntry, view)
    if entry is None or entry.action not in OPENINGS or entry.actor != actor or entry.target != target:
        return None
    return entry.action if entry.at >= since else None
