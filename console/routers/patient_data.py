"""Erasure of one patient's data and the retention purge on demand (admins; both audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status

from console import erasure, retention
from console.deps import DB, Admin, SettingsDep, client_ip
from console.schemas import ErasureOut, Problem, PurgeOut, RedactedOut, RemovedOut

router = APIRouter(prefix="/api", tags=["patient data"], responses={401: {"model": Problem}, 403: {"model": Problem}})


@router.delete("/patients/{sender_id}", response_model=ErasureOut, responses={404: {"model": Problem}})
def erase_patient(
    sender_id: Annotated[str, Path(min_length=1, max_length=255)],
    staff: Admin,
    request: Request,
    db: DB,
    settings: SettingsDep,
) -> ErasureOut:
    """Deletes the patient's conversation from the tracker store, the console's tables and the alerts file."""
    removed = erasure.erase(db, settings, sender_id, staff.username, client_ip(request))
    if not removed.anything:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "nothing is stored for this sender id")
    return ErasureOut(sender_id=sender_id, **removed.counts())


@router.post("/retention/purge", response_model=PurgeOut)
def purge_now(staff: Admin, request: Request, db: DB, settings: SettingsDep) -> PurgeOut:
    """Runs the retention purge and the at-rest redaction now (they also run every
    MESO_RETENTION_INTERVAL_MINUTES)."""
    report = retention.run(db, settings, staff.username, client_ip(request))
    return PurgeOut(
        cutoff=report.purged.cutoff,
        expired=report.purged.expired,
        removed=RemovedOut.model_validate(report.purged.removed),
        redacted=RedactedOut.model_validate(report.redacted) if report.redacted else None,
    )
