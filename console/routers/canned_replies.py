"""Canned replies (console/canned_replies.py): admins add, change and delete them (audited:
`canned_reply_create`, `canned_reply_update`, `canned_reply_delete`, with the id and the title, never a
patient's words); clinicians and admins list them, with the clinic's facts filled in, to insert into a reply.
Reviewers, who never reply, do not see them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from console import audit
from console import canned_replies as canned
from console.deps import DB, Admin, Clinician, SettingsDep, client_ip
from console.models import CannedReply
from console.routers.users import UNPROCESSABLE
from console.schemas import CannedReplyIn, CannedReplyOut, Problem

router = APIRouter(
    prefix="/api/canned-replies",
    tags=["canned replies"],
    responses={401: {"model": Problem}, 403: {"model": Problem}},
)
CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 409: {"model": Problem}, **UNPROCESSABLE}
ReplyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _out(row: CannedReply, known: dict[str, str]) -> CannedReplyOut:
    return CannedReplyOut(
        id=row.id,
        title=row.title,
        text=row.text,
        filled=canned.fill(row.text, known),
        shortcut=row.shortcut,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _draft(body: CannedReplyIn) -> canned.Draft:
    return canned.Draft(title=body.title, text=body.text, shortcut=body.shortcut)


def _found(db: DB, reply_id: int) -> CannedReply:
    row = db.get(CannedReply, reply_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such canned reply")
    return row


@router.get("", response_model=list[CannedReplyOut])
def list_replies(staff: Clinician, db: DB, settings: SettingsDep) -> list[CannedReplyOut]:
    """Every canned reply, by title, with the placeholders filled in from clinic.yml (`filled`)."""
    known = canned.clinic_values(settings.clinic_file)
    return [_out(row, known) for row in canned.everything(db)]


@router.post("", response_model=CannedReplyOut, status_code=201, responses=CHANGE_ERRORS)
def create_reply(body: CannedReplyIn, staff: Admin, request: Request, db: DB, settings: SettingsDep) -> CannedReplyOut:
    try:
        row = canned.create(db, _draft(body), staff.username)
    except canned.CannedError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    audit.record(db, "canned_reply_create", staff.username, None, client_ip(request), id=row.id, title=row.title)
    return _out(row, canned.clinic_values(settings.clinic_file))


@router.put("/{reply_id}", response_model=CannedReplyOut, responses=CHANGE_ERRORS)
def update_reply(
    reply_id: ReplyId, body: CannedReplyIn, staff: Admin, request: Request, db: DB, settings: SettingsDep
) -> CannedReplyOut:
    row = _found(db, reply_id)
    try:
        row = canned.update(db, row, _draft(body), staff.username)
    except canned.CannedError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    audit.record(db, "canned_reply_update", staff.username, None, client_ip(request), id=row.id, title=row.title)
    return _out(row, canned.clinic_values(settings.clinic_file))


@router.delete("/{reply_id}", status_code=204, responses={404: {"model": Problem}})
def delete_reply(reply_id: ReplyId, staff: Admin, request: Request, db: DB) -> Response:
    row = _found(db, reply_id)
    title = row.title
    db.delete(row)
    db.commit()
    audit.record(db, "canned_reply_delete", staff.username, None, client_ip(request), id=reply_id, title=title)
    return Response(status_code=204)
