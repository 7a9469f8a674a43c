"""The audit log: one append-only row per login, transcript view, export, reply, erasure..."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from console.models import AuditEntry


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
