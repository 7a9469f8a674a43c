"""A patient's call-back contact (console/contacts.py): everyone who reads the conversation sees that a
number was left, redacted, in the transcript; the treating clinician reveals it here, which is audited
(`contact_view`) every time. Reviewers never see it unredacted (403), and exports never hold it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from console import audit
from console import contacts as callbacks
from console import handoff_queue as queue
from console.deps import DB, Clinician, SettingsDep, Staff, client_ip
from console.models import CallbackContact, Conversation
from console.schemas import ContactOut, Problem
from console.sync import sync
from console.tracker_store import tracker_engine
from core.settings import Settings

router = APIRouter(
    prefix="/api/conversations",
    tags=["contacts"],
    responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}},
)


def channel_db(settings: Settings) -> Engine:
    """The channels' database, where the widget leaves new contacts."""
    return tracker_engine(settings.channel_db_url or settings.tracker_db_url)


def contact_out(row: CallbackContact, staff: Staff, conversation: Conversation, revealed: bool) -> ContactOut:
    seen = callbacks.shown(row, revealed)
    return ContactOut(
        name=seen.name,
        phone=seen.phone,
        tel=seen.tel,
        revealed=seen.revealed,
        source=seen.source,
        consent_at=seen.consent_at,
        may_reveal=callbacks.may_reveal(staff.role, staff.username, conversation) is None,
    )


def summary(db: Session, settings: Settings, staff: Staff, conversation: Conversation) -> ContactOut | None:
    """The conversation's contact as the transcript shows it: redacted, with whether this viewer may reveal it."""
    row = callbacks.collect(db, channel_db(settings), conversation.sender_id)
    return contact_out(row, staff, conversation, revealed=False) if row is not None else None


@router.post("/{sender_id}/contact/reveal", response_model=ContactOut, responses={409: {"model": Problem}})
def reveal(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> ContactOut:
    """The patient's name and number unredacted, with a tel: link, for the clinician treating them
    (claimed by them or by nobody); audited as `contact_view`. A waiting patient nobody had is claimed."""
    sync(db, settings.tracker_db_url)
    conversation = db.get(Conversation, sender_id)
    if conversation is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    row = callbacks.collect(db, channel_db(settings), sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this patient left no call-back number")
    refused = callbacks.may_reveal(staff.role, staff.username, conversation)
    if refused is not None:
        audit.record(db, "contact_refused", staff.username, sender_id, client_ip(request))
        raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
    if conversation.handoff and conversation.claimed_by is None:
        try:
            conversation, changed = queue.claim(db, sender_id, staff.username)
        except queue.QueueError as exc:  # a colleague claimed the patient this very moment: theirs to call
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if changed:
            audit.record(db, "handoff_claim", staff.username, sender_id, client_ip(request), via="contact_view")
    audit.record(db, "contact_view", staff.username, sender_id, client_ip(request), source=row.source)
    return contact_out(row, staff, conversation, revealed=True)
