"""The handoff queue (clinicians): who is waiting (filtered, searched, paged), who is replying to whom
(claim, release, assign: "<name> is replying" for everyone), acknowledging emergencies so their alerts
stop, the navigation's counts, replying to patients on their channel, taking a conversation over, and
handing it back to the assistant. A reply needs a conversation that waits for a person. Replies,
take-overs, hand-backs, claims, assignments and acknowledgements are audited.

Roles (docs/security/staff-logins.md): clinicians and admins work the queue; reviewers do not. Anyone
who may reply may claim an unclaimed patient, release their own claim and pass on (assign) a patient
nobody or they themselves have, to an active clinician or admin; admins may also release or reassign
a patient someone else has."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from console import audit
from console import handoff_queue as queue
from console.deps import DB, Clinician, SettingsDep, Staff, client_ip
from console.handoff_queue import QueueError, QueueFilters, Waiting, waiting
from console.models import Conversation
from console.redaction import maybe
from console.routers.users import UNPROCESSABLE
from console.schemas import (
    AssigneeOut,
    AssignIn,
    HandoffAlertOut,
    HandoffCountsOut,
    HandoffFilter,
    HandoffKind,
    HandoffOut,
    Page,
    Problem,
    ReplyIn,
    ReplyOut,
)
from console.sync import sync
from core import rasa_api
from core.business_hours import BusinessHours

router = APIRouter(
    prefix="/api/handoffs", tags=["handoffs"], responses={401: {"model": Problem}, 403: {"model": Problem}}
)
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem},
    409: {"model": Problem},
    502: {"model": Problem},
    503: {"model": Problem},
}
CLAIM_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 409: {"model": Problem}}
PAGE_LIMIT = 100
EMERGENCY_REPEAT_SECONDS = 30
"""How often an open console repeats the sound and notification of an emergency nobody acknowledged
(each browser may choose a shorter or longer interval on the queue screen)."""


def item(w: Waiting, now: datetime, redact: bool, hours: BusinessHours | None = None) -> HandoffOut:
    row = w.conversation
    return HandoffOut(
        sender_id=row.sender_id,
        channel=row.channel,
        display_name=maybe(row.display_name, redact) if row.display_name else None,
        kind=_kind(w.kind),
        emergency=w.kind == "emergency",
        reason=row.handoff_reason,
        trigger=maybe(row.trigger_text or row.last_user_text or row.preview, redact),
        preview=maybe(row.last_user_text or row.preview, redact),
        handed_off_at=w.handed_off_at,
        awaiting_reply=w.awaiting_reply,
        waiting_since=w.since,
        waiting_seconds=w.seconds(now),
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        reply_due=queue.reply_due(w, hours),
    )


def _one(row: Conversation, settings: SettingsDep) -> HandoffOut:
    return item(waiting(row), datetime.now(UTC), settings.console_redact, queue.business_hours(settings.clinic_file))


@router.get("", response_model=Page[HandoffOut])
def waiting_list(
    staff: Clinician,
    db: DB,
    settings: SettingsDep,
    show: Annotated[
        HandoffFilter | None,
        Query(
            alias="filter",
            description="emergency, waiting (no staff reply yet), mine (yours), unassigned (nobody is replying)",
        ),
    ] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="part of the patient reference, the patient's name or the message"),
    ] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT, description=f"entries per page, at most {PAGE_LIMIT}")] = 25,
) -> Page[HandoffOut]:
    """Patients waiting for staff: emergencies first, then those waiting longest for a reply, then those
    already answered but not handed back."""
    sync(db, settings.tracker_db_url)
    now = datetime.now(UTC)
    entries, total = queue.page(db, QueueFilters(show, channel, q), staff.username, page_number, limit)
    hours = queue.business_hours(settings.clinic_file)
    return Page[HandoffOut](
        items=[item(w, now, settings.console_redact, hours) for w in entries],
        total=total,
        page=page_number,
        page_size=limit,
    )


@router.get("/counts", response_model=HandoffCountsOut)
def queue_counts(
    staff: Clinician,
    db: DB,
    settings: SettingsDep,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**62, description="the `cursor` of the previous poll: lists the alerts after it"),
    ] = None,
) -> HandoffCountsOut:
    """For the navigation's badges and the console's alerts, polled every few seconds: counts, the new
    handoffs and emergencies since the last poll and the emergencies nobody acknowledged. Patient
    references and kinds only, never what a patient wrote."""
    sync(db, settings.tracker_db_url)
    found = queue.counts(db, staff.username, after)
    return HandoffCountsOut(
        waiting=found.waiting,
        emergencies=found.emergencies,
        mine=found.mine,
        unassigned=found.unassigned,
        cursor=found.cursor,
        new=[HandoffAlertOut(sender_id=a.sender_id, kind=_kind(a.kind), seq=a.seq) for a in found.new],
        unacknowledged=[
            HandoffAlertOut(sender_id=a.sender_id, kind=_kind(a.kind), seq=a.seq) for a in found.unacknowledged
        ],
        repeat_seconds=EMERGENCY_REPEAT_SECONDS,
    )


def _kind(kind: str) -> HandoffKind:
    return "emergency" if kind == "emergency" else "handoff"


@router.get("/assignees", response_model=list[AssigneeOut])
def assignees(staff: Clinician, db: DB) -> list[AssigneeOut]:
    """Active clinicians and admins: who a handoff can be given to."""
    return [AssigneeOut.model_validate(user) for user in queue.assignees(db)]


def _refused(exc: QueueError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.post("/{sender_id}/claim", response_model=HandoffOut, responses=CLAIM_ERRORS)
def claim(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> HandoffOut:
    """ "I am replying to this patient": shown to everyone. 409 when someone else is (an admin may
    reassign)."""
    sync(db, settings.tracker_db_url)
    try:
        row, changed = queue.claim(db, sender_id, staff.username)
    except QueueError as exc:
        raise _refused(exc) from exc
    if changed:
        audit.record(db, "handoff_claim", staff.username, sender_id, client_ip(request))
    return _one(row, settings)


@router.post("/{sender_id}/release", response_model=HandoffOut, responses=CLAIM_ERRORS)
def release(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> HandoffOut:
    """Gives up a claim, so the patient shows as unassigned: one's own, or anyone's for an admin."""
    sync(db, settings.tracker_db_url)
    try:
        row, holder = queue.release(db, sender_id, staff.username, admin=staff.role == "admin")
    except QueueError as exc:
        raise _refused(exc) from exc
    if holder is not None:
        audit.record(db, "handoff_release", staff.username, sender_id, client_ip(request), released=holder)
    return _one(row, settings)


@router.post("/{sender_id}/assign", response_model=HandoffOut, responses={**CLAIM_ERRORS, **UNPROCESSABLE})
def assign(
    sender_id: str, body: AssignIn, staff: Clinician, request: Request, db: DB, settings: SettingsDep
) -> HandoffOut:
    """Gives the patient to a colleague (an active clinician or admin), who then shows as replying."""
    sync(db, settings.tracker_db_url)
    try:
        row, holder = queue.assign(db, sender_id, staff.username, staff.role == "admin", body.username)
    except QueueError as exc:
        raise _refused(exc) from exc
    if holder != body.username:
        audit.record(
            db, "handoff_assign", staff.username, sender_id, client_ip(request), assignee=body.username, previous=holder
        )
    return _one(row, settings)


@router.post("/{sender_id}/acknowledge", response_model=HandoffOut, responses=CLAIM_ERRORS)
def acknowledge(sender_id: str, staff: Clinician, request: Request, db: DB, settings: SettingsDep) -> HandoffOut:
    """ "Someone is on this emergency": its sound and notification stop repeating in every console. A
    new emergency message from the patient needs a new acknowledgement."""
    sync(db, settings.tracker_db_url)
    try:
        row, changed = queue.acknowledge(db, sender_id, staff.username)
    except QueueError as exc:
        raise _refused(exc) from exc
    if changed:
        audit.record(db, "emergency_acknowledge", staff.username, sender_id, client_ip(request))
    return _one(row, settings)


def _claim_quietly(db: DB, sender_id: str, staff: Staff, request: Request, via: str) -> None:
    """A reply or take-over makes its author the one replying, when nobody else is (audited)."""
    try:
        _, changed = queue.claim(db, sender_id, staff.username)
    except QueueError:
        return  # someone else is replying, or the handoff ended meanwhile: the reply itself went out
    if changed:
        audit.record(db, "handoff_claim", staff.username, sender_id, client_ip(request), via=via)


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
    _claim_quietly(db, sender_id, staff, request, via="reply")
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
    _claim_quietly(db, sender_id, staff, request, via="take_over")


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
