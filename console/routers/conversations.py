"""Conversation list and transcript (read access: reviewers, clinicians, admins). Every
transcript view is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from console import audit, transcripts
from console.conversations_query import conversation_out, decorations, page
from console.deps import DB, ListFilters, Reader, SettingsDep, client_ip
from console.models import Conversation
from console.schemas import ConversationOut, Page, Problem, TranscriptOut
from console.sync import sync
from console.tracker_store import conversation as tracker_events

router = APIRouter(
    prefix="/api/conversations", tags=["conversations"], responses={401: {"model": Problem}, 403: {"model": Problem}}
)


@router.get("", response_model=Page[ConversationOut])
def list_conversations(
    staff: Reader,
    db: DB,
    settings: SettingsDep,
    filters: ListFilters,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ConversationOut]:
    sync(db, settings.tracker_db_url)
    rows, total = page(db, filters, page_number, page_size)
    done, tags = decorations(db, [r.sender_id for r in rows])
    return Page[ConversationOut](
        items=[conversation_out(r, done, tags, settings.console_redact) for r in rows],
        total=total,
        page=page_number,
        page_size=page_size,
    )


@router.get("/{sender_id}", response_model=TranscriptOut, responses={404: {"model": Problem}})
def transcript(
    sender_id: str,
    staff: Reader,
    request: Request,
    db: DB,
    settings: SettingsDep,
    raw: Annotated[bool, Query(description="unredacted text (admins, when MESO_CONSOLE_KEEP_RAW_TEXT)")] = False,
) -> TranscriptOut:
    sync(db, settings.tracker_db_url)
    row = db.get(Conversation, sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    show_raw = raw and settings.console_keep_raw_text and staff.role == "admin"
    if raw and not show_raw:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "unredacted text is only for admins, where the clinic's settings keep it"
        )
    audit.record(
        db, "view_transcript_raw" if show_raw else "view_transcript", staff.username, sender_id, client_ip(request)
    )
    redact = settings.console_redact and not show_raw
    messages = transcripts.messages(tracker_events(settings.tracker_db_url, sender_id), redact)
    done, tags = decorations(db, [sender_id])
    return TranscriptOut(conversation=conversation_out(row, done, tags, redact), messages=messages)
