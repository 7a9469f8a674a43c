"""Conversation list and transcript (read access: reviewers, clinicians, admins). Every
transcript view is audited, once per opening: a transcript open on screen follows the conversation live
through `/updates`, which names its audited opening (`view`) instead of being audited again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from console import audit, transcript_views, transcripts
from console.conversations_query import conversation_out, decorations, page
from console.deps import DB, ListFilters, Reader, SettingsDep, client_ip
from console.models import Conversation
from console.routers.contacts import summary as contact_summary
from console.schemas import ConversationOut, Page, Problem, TranscriptOut, TranscriptUpdateOut
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
    """Opens a transcript (audited once: `view_transcript`). Its `view` number then follows it live with
    `/updates`, which is not audited again."""
    sync(db, settings.tracker_db_url)
    row = db.get(Conversation, sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    show_raw = raw and settings.console_keep_raw_text and staff.role == "admin"
    if raw and not show_raw:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "unredacted text is only for admins, where the clinic's settings keep it"
        )
    action = "view_transcript_raw" if show_raw else "view_transcript"
    audit.record(db, action, staff.username, sender_id, client_ip(request))
    view = transcript_views.latest(db, action, staff.username, sender_id)
    redact = settings.console_redact and not show_raw
    events = tracker_events(settings.tracker_db_url, sender_id)
    done, tags = decorations(db, [sender_id])
    return TranscriptOut(
        conversation=conversation_out(row, done, tags, redact),
        messages=transcripts.messages(events, redact),
        view=view,
        cursor=transcripts.cursor(events),
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        contact=contact_summary(db, settings, staff, row),
    )


@router.get(
    "/{sender_id}/updates",
    response_model=TranscriptUpdateOut,
    responses={404: {"model": Problem}},
)
def updates(
    sender_id: str,
    staff: Reader,
    db: DB,
    settings: SettingsDep,
    view: Annotated[
        int, Query(ge=1, le=2**31 - 1, description="the `view` of this transcript's opening, in this login")
    ],
    after: Annotated[int, Query(ge=0, le=2**62, description="the `cursor` of the last answer")] = 0,
) -> TranscriptUpdateOut:
    """What is new in a transcript open on screen: messages after `after`, the conversation's state, who is
    replying and the call-back contact. Polled every few seconds; not audited again, because it continues
    the opening named by `view` (this staff member's, this conversation's, in this login: otherwise 403)."""
    sync(db, settings.tracker_db_url)
    row = db.get(Conversation, sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    opened = transcript_views.opening(db, view, staff.username, sender_id, staff.session.created_at)
    if opened is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "open the transcript first: each opening is recorded in the audit log"
        )
    show_raw = opened == "view_transcript_raw" and settings.console_keep_raw_text and staff.role == "admin"
    redact = settings.console_redact and not show_raw
    events = tracker_events(settings.tracker_db_url, sender_id)
    done, tags = decorations(db, [sender_id])
    return TranscriptUpdateOut(
        conversation=conversation_out(row, done, tags, redact),
        messages=[m for m in transcripts.messages(events, redact) if m.event_id > after],
        cursor=max(after, transcripts.cursor(events)),
        claimed_by=row.claimed_by,
        claimed_at=row.claimed_at,
        contact=contact_summary(db, settings, staff, row),
    )
