"""Reviewing conversations: mark reviewed, tag, notes (reviewers and admins; everyone who reads
conversations can read notes and tags)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from console import audit
from console.deps import DB, Reader, Reviewer, SettingsDep, client_ip
from console.models import Conversation, Note, Review, Tag
from console.schemas import NoteIn, NoteOut, Problem, TagCount, TagIn
from console.sync import sync

router = APIRouter(
    prefix="/api",
    tags=["review"],
    responses={401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}},
)


def _known(db: Session, tracker_url: str, sender_id: str) -> None:
    sync(db, tracker_url)
    if db.get(Conversation, sender_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")


@router.put("/conversations/{sender_id}/review", status_code=204)
def mark_reviewed(sender_id: str, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> Response:
    _known(db, settings.tracker_db_url, sender_id)
    if db.get(Review, sender_id) is None:
        db.add(Review(sender_id=sender_id, reviewed_by=staff.username, reviewed_at=datetime.now(UTC)))
        db.commit()
    audit.record(db, "review", staff.username, sender_id, client_ip(request))
    return Response(status_code=204)


@router.delete("/conversations/{sender_id}/review", status_code=204)
def unmark_reviewed(sender_id: str, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> Response:
    _known(db, settings.tracker_db_url, sender_id)
    db.execute(delete(Review).where(Review.sender_id == sender_id))
    db.commit()
    audit.record(db, "unreview", staff.username, sender_id, client_ip(request))
    return Response(status_code=204)


@router.post("/conversations/{sender_id}/tags", status_code=204)
def add_tag(sender_id: str, body: TagIn, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> Response:
    _known(db, settings.tracker_db_url, sender_id)
    tag = body.tag.strip().lower()
    if db.get(Tag, (sender_id, tag)) is None:
        db.add(Tag(sender_id=sender_id, tag=tag, added_by=staff.username, added_at=datetime.now(UTC)))
        db.commit()
    audit.record(db, "tag", staff.username, sender_id, client_ip(request), tag=tag)
    return Response(status_code=204)


@router.delete("/conversations/{sender_id}/tags/{tag}", status_code=204)
def remove_tag(sender_id: str, tag: str, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> Response:
    _known(db, settings.tracker_db_url, sender_id)
    db.execute(delete(Tag).where(Tag.sender_id == sender_id, Tag.tag == tag.strip().lower()))
    db.commit()
    audit.record(db, "untag", staff.username, sender_id, client_ip(request), tag=tag)
    return Response(status_code=204)


@router.get("/conversations/{sender_id}/notes", response_model=list[NoteOut])
def read_notes(sender_id: str, staff: Reader, db: DB, settings: SettingsDep) -> list[Note]:
    _known(db, settings.tracker_db_url, sender_id)
    return list(db.scalars(select(Note).where(Note.sender_id == sender_id).order_by(Note.id)))


@router.post("/conversations/{sender_id}/notes", response_model=NoteOut, status_code=201)
def add_note(sender_id: str, body: NoteIn, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> Note:
    _known(db, settings.tracker_db_url, sender_id)
    note = Note(sender_id=sender_id, author=staff.username, text=body.text.strip(), created_at=datetime.now(UTC))
    db.add(note)
    db.commit()
    audit.record(db, "note", staff.username, sender_id, client_ip(request))
    return note


@router.get("/tags", response_model=list[TagCount])
def list_tags(staff: Reader, db: DB) -> list[TagCount]:
    rows = db.execute(select(Tag.tag, func.count()).group_by(Tag.tag).order_by(Tag.tag))
    return [TagCount(tag=tag, conversations=count) for tag, count in rows]
