"""The audit log: one append-only row per login, transcript view, export, reply, erasure...

Once a patient's conversation is erased or purged, the audit log no longer names the patient: every
row whose target is that sender id (a phone number on WhatsApp, a session-based id on the web) gets a
pseudonym instead, `erased-` and 12 random hex digits, the same for all of that patient's rows, so the
log still shows who viewed, replied to and erased one conversation, and when. The pseudonym is random,
not derived from the sender id: nothing, not even a key, leads back to the patient. The rows, their
actions, actors, times and details stay; the database accepts no other change (migration 0005)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from console.models import AuditEntry
from console.tracker_store import chunks

PSEUDONYM_PREFIX = "erased-"


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + secrets.token_hex(6)


def record(
    db: Session,
    action: str,
    actor: str | None,
    target: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    """Adds an entry and commits it, so it is kept even if what follows fails."""
    db.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            target=target,
            detail=json.dumps(detail, sort_keys=True, default=str) if detail else "",
            ip=ip,
        )
    )
    db.commit()


def pseudonymise(db: Session, senders: Iterable[str]) -> dict[str, str]:
    """Replaces each sender id in the audit log's `target` column by a new pseudonym (one per sender, for
    all of its rows) and commits; returns {sender id: pseudonym} for the senders the log named."""
    db.commit()  # nothing of ours pending in the same transaction
    replaced: dict[str, str] = {}
    for batch in chunks(sorted(set(senders))):
        named = db.scalars(select(AuditEntry.target).where(AuditEntry.target.in_(batch)).distinct())
        for sender in [target for target in named if target is not None]:
            pseudonym = new_pseudonym()
            db.execute(
                update(AuditEntry)
                .where(AuditEntry.target == sender)
                .values(target=pseudonym)
                .execution_options(synchronize_session=False)
            )
            replaced[sender] = pseudonym
    db.commit()
    db.expire_all()
    return replaced
