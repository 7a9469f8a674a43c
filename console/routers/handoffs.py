"""The handoff queue (clinicians): who is waiting, replying to them on their channel, taking a
conversation over, and handing it back to the assistant. A reply needs a conversation that waits for
a person. Replies, take-overs and hand-backs go through Rasa and are audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from console import audit
from console.deps import DB, Clinician, SettingsDep, client_ip
from console.handoff_queue import queue
from console.models import Conversation
from console.redaction import maybe
from console.schemas import HandoffOut, Problem, ReplyIn, ReplyOut
from console.sync import sync
from core import rasa_api

router = APIRouter(
    prefix="/api/handoffs", tags=["handoffs"], responses={401: {"model": Problem}, 403: {"model": Problem}}
)
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    409: {"model": Problem},
    502: {"model": Problem},
    503: {"model": Problem},
}


@router.get("", response_model=list[HandoffOut])
def waiting_list(staff: Clinician, db: DB, settings: SettingsDep) -> list[HandoffOut]:
    sync(db, settings.tracker_db_url)
    now = datetime.now(UTC)
    return [
        HandoffOut(
            sender_id=w.conversation.sender_id,
            channel=w.conversation.channel,
            emergency=w.conversation.emergency,
            reason=w.conversation.handoff_reason,
            awaiting_reply=w.awaiting_reply,
            waiting_since=w.since,
            waiting_seconds=w.seconds(now),
            preview=maybe(w.conversation.last_user_text or w.conversation.preview, settings.console_redact),
        )
        for w in queue(db, now)
    ]


def _known(db: DB, settings: SettingsDep, sender_id: str) -> Conversation:
    sync(db, settings.tracker_db_url)
    row = db.get(Conversation, sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    return row


@router.post("/{sender_id}/reply", response_model=ReplyOut, responses=ERRORS)
def reply(sender_id: str, body: ReplyIn, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> ReplyOut:
    """A staff reply, only while the conversation waits for a person: the patient asked for one, the
    assistant handed over, or a clinician took the conversation over first (`take-over`, audited).
    Admins follow the same rule; reviewers cannot reply."""
    row = _known(db, settings, sender_id)
    if not row.handoff:
        audit.record(db, "reply_refused", staff.username, sender_id, client_ip(request), reason="not_handed_off")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "this patient is not waiting for a person: take the conversation over first, then reply",
        )
    try:
        delivery = rasa_api.staff_reply(sender_id, body.text, staff.username, settings)
    except rasa_api.RasaApiError as exc:
        audit.record(db, "reply_failed", staff.username, sender_id, client_ip(request), status=exc.status)
        code = exc.status if exc.status in (404, 409, 503) else status.HTTP_502_BAD_GATEWAY
        raise HTTPException(code, f"the reply was not delivered: {exc}") from exc
    audit.record(db, "reply", staff.username, sender_id, client_ip(request), via=delivery.via)
    sync(db, settings.tracker_db_url)
    return ReplyOut(delivered=True, via=delivery.via)


@router.post("/{sender_id}/take-over", status_code=204, responses=ERRORS)
def take_over(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> None:
    """Starts a handoff on purpose, so a clinician can write to a patient who did not ask for a person
    (audited): the assistant then only tells the patient that a person will reply, as after any
    handoff, until someone hands the conversation back."""
    row = _known(db, settings, sender_id)
    if row.handoff:
        raise HTTPException(status.HTTP_409_CONFLICT, "this conversation is already waiting for staff")
    try:
        rasa_api.take_over(sender_id, settings)
    except rasa_api.RasaApiError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    audit.record(db, "take_over", staff.username, sender_id, client_ip(request))
    sync(db, settings.tracker_db_url)


@router.post("/{sender_id}/hand-back", status_code=204, responses=ERRORS)
def hand_back(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> None:
    row = _known(db, settings, sender_id)
    if not row.handoff:
        raise HTTPException(status.HTTP_409_CONFLICT, "this conversation is not waiting for staff")
    try:
        rasa_api.hand_back(sender_id, settings)
    except rasa_api.RasaApiError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    audit.record(db, "hand_back", staff.username, sender_id, client_ip(request))
    sync(db, settings.tracker_db_url)
