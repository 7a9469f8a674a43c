"""Filtering and paging the conversation index (the list screen's query)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from console.models import Conversation, Review, Tag
from console.redaction import maybe
from console.schemas import ConversationOut


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    kind: str | None = None
    reviewed: bool | None = None
    tag: str | None = None
    q: str | None = None


def filtered(filters: Filters) -> Select[Conversation]:
    query = select(Conversation)
    if filters.channel:
        query = query.where(Conversation.channel == filters.channel)
    if filters.since:
        query = query.where(Conversation.last_at >= filters.since)
    if filters.until:
        query = query.where(Conversation.started_at <= filters.until)
    if filters.kind == "low_confidence":
        query = query.where(Conversation.low_confidence.is_(True))
    elif filters.kind == "emergency":
        query = query.where(Conversation.emergency.is_(True))
    elif filters.kind:
        query = query.where(Conversation.kinds.contains(f",{filters.kind},"))
    reviewed = exists().where(Review.sender_id == Conversation.sender_id)
    if filters.reviewed is True:
        query = query.where(reviewed)
    elif filters.reviewed is False:
        query = query.where(~reviewed)
    if filters.tag:
        query = query.where(exists().where(Tag.sender_id == Conversation.sender_id, Tag.tag == filters.tag))
    if filters.q:
        needle = filters.q.lower()
        query = query.where(or_(Conversation.search_text.contains(needle), Conversation.sender_id == filters.q))
    return query


def _newest_first(query: Select[Conversation]) -> Select[Conversation]:
    return query.order_by(Conversation.last_at.desc(), Conversation.sender_id)


def page(db: Session, filters: Filters, number: int, size: int) -> tuple[list[Conversation], int]:
    query = filtered(filters)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.scalars(_newest_first(query).offset((number - 1) * size).limit(size))
    return list(rows), total


def decorations(db: Session, sender_ids: list[str]) -> tuple[set[str], dict[str, list[str]]]:
    """Which of these conversations are reviewed, and their tags."""
    if not sender_ids:
        return set(), {}
    reviewed = set(db.scalars(select(Review.sender_id).where(Review.sender_id.in_(sender_ids))))
    tags: dict[str, list[str]] = {}
    for sender_id, tag in db.execute(
        select(Tag.sender_id, Tag.tag).where(Tag.sender_id.in_(sender_ids)).order_by(Tag.tag)
    ):
        tags.setdefault(sender_id, []).append(tag)
    return reviewed, tags


def everything(db: Session, filters: Filters, redact: bool) -> list[ConversationOut]:
    """Every conversation the filters match, newest first (for export)."""
    rows = list(db.scalars(_newest_first(filtered(filters))))
    out: list[ConversationOut] = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        reviewed, tags = decorations(db, [r.sender_id for r in chunk])
        out.extend(conversation_out(r, reviewed, tags, redact) for r in chunk)
    return out


def conversation_out(
    row: Conversation, reviewed: set[str], tags: dict[str, list[str]], redact: bool
) -> ConversationOut:
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
        preview=maybe(row.preview, redact),
        reviewed=row.sender_id in reviewed,
        tags=tags.get(row.sender_id, []),
    )
