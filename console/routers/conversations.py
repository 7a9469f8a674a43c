"""Conversation list and transcript (read access: reviewers, clinicians, admins). Every
transcript view is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status

from console import audit
from console.conversations_query import Filters, decorations, page
from console.deps import DB, Reader, SettingsDep, client_ip
from console.models import Conversation
from console.schemas import ConversationOut, Kind, MessageOut, Page, Problem, TranscriptOut
from console.sync import sync
from console.tracker_store import conversation as tracker_events

router = APIRouter(
    prefix="/api/conversations", tags=["conversations"], responses={401: {"model": Problem}, 403: {"model": Problem}}
)


def _out(row: Conversation, reviewed: set[str], tags: dict[str, list[str]]) -> ConversationOut:
    return ConversationOut(
        sender_id=row.sender_id,
        channel=row.channel,
        started_at=row.started_at,
        last_at=row.last_at,
        user_messages=row.user_messages,
        kinds=[k for k in row.kinds.split(",") if k],
        handoff=row.handoff,
        emergency=row.emergency,
        low_confidence=row.low_confidence,
        preview=row.preview,
        reviewed=row.sender_id in reviewed,
        tags=tags.get(row.sender_id, []),
    )


@router.get("", response_model=Page[ConversationOut])
def list_conversations(
    staff: Reader,
    db: DB,
    settings: SettingsDep,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: Kind | None = None,
    reviewed: bool | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="text the patient wrote, or a sender id")] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[ConversationOut]:
    sync(db, settings.tracker_db_url)
    filters = Filters(channel, since, until, kind, reviewed, tag, q)
    rows, total = page(db, filters, page_number, page_size)
    done, tags = decorations(db, [r.sender_id for r in rows])
    return Page[ConversationOut](
        items=[_out(r, done, tags) for r in rows], total=total, page=page_number, page_size=page_size
    )


@router.get("/{sender_id}", response_model=TranscriptOut, responses={404: {"model": Problem}})
def transcript(sender_id: str, staff: Reader, request: Request, db: DB, settings: SettingsDep) -> TranscriptOut:
    sync(db, settings.tracker_db_url)
    row = db.get(Conversation, sender_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation")
    audit.record(db, "view_transcript", staff.username, sender_id, client_ip(request))
    messages: list[MessageOut] = []
    for event in tracker_events(settings.tracker_db_url, sender_id):
        data = event.data
        at = datetime.fromtimestamp(event.timestamp, UTC)
        if event.type_name == "user":
            messages.append(MessageOut(event_id=event.id, at=at, role="patient", text=str(data.get("text") or "")))
        elif event.type_name == "bot":
            inner = data.get("data") or {}
            meta = (inner.get("custom") or {}).get("meta")
            if isinstance(meta, dict):
                # the turn's metadata belongs to the bot messages just before it
                for message in reversed(messages):
                    if message.role != "bot" or message.meta is not None:
                        break
                    message.meta = meta
                continue
            staff_reply = bool((data.get("metadata") or {}).get("staff_reply"))
            messages.append(
                MessageOut(
                    event_id=event.id,
                    at=at,
                    role="staff" if staff_reply else "bot",
                    text=str(data.get("text") or ""),
                    buttons=[str(b.get("title", "")) for b in inner.get("buttons") or [] if isinstance(b, dict)],
                    author=(data.get("metadata") or {}).get("author") if staff_reply else None,
                )
            )
    done, tags = decorations(db, [sender_id])
    return TranscriptOut(conversation=_out(row, done, tags), messages=messages)
