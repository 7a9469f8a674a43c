"""The live handoff queue: conversations waiting for a clinician, emergencies first, then the
patients who have waited longest for a reply, then those already answered; filtered, searched and
paged in the database. Who is replying (claimed or assigned) and who acknowledged an emergency are
kept on the conversation's index row, so they end with the handoff (console/sync.py) and go with an
erasure. Claims, assignments and acknowledgements are single conditional UPDATEs: two clinicians
claiming at the same moment get one claim and one "<name> is replying"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select, update
from sqlalchemy.orm import Session

from console.models import Conversation, User
from core.business_hours import BusinessHours
from core.clinic import load_clinic
from core.patient_ref import patient_reference

FILTERS = ("emergency", "waiting", "mine", "unassigned")
ALERT_LIMIT = 20
"""New alerts and unacknowledged emergencies returned by one counts poll, at most."""
ASSIGNABLE_ROLES = ("clinician", "admin")
"""Who can be given a handoff: the roles that may reply to patients."""
_REF_LIKE = re.compile(r"(?:P-)?[0-9A-HJKMNP-TV-Z]{3,6}")  # Crockford's base32, as core/patient_ref.py

C = Conversation


# ---------------------------------------------------------------- one waiting patient


@dataclass(frozen=True)
class Waiting:
    conversation: Conversation
    awaiting_reply: bool
    since: datetime

    def seconds(self, now: datetime) -> int:
        return max(0, int((now - self.since).total_seconds()))

    @property
    def kind(self) -> str:
        return kind_of(self.conversation)

    @property
    def handed_off_at(self) -> datetime:
        return self.conversation.handoff_since or self.conversation.last_at


def kind_of(row: Conversation) -> str:
    """ "emergency" or "handoff" (rows indexed before the kind was kept: from the emergency flag)."""
    if row.alert_kind in ("emergency", "handoff"):
        return row.alert_kind
    return "emergency" if row.emergency else "handoff"


def business_hours(clinic_file: Path) -> BusinessHours | None:
    """The clinic's hours (clinic.yml, read again when it changes), or None when the file cannot be
    read: the queue then shows waiting times without a promised reply time."""
    try:
        changed = clinic_file.stat().st_mtime_ns
    except OSError:
        return None
    return _hours(str(clinic_file), changed)


@lru_cache(maxsize=4)
def _hours(path: str, changed: int) -> BusinessHours | None:
    try:
        return load_clinic(Path(path)).business_hours
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
        return None  # the assistant's own start-up reports a broken clinic file


def reply_due(w: Waiting, hours: BusinessHours | None) -> datetime | None:
    """By when the clinic promised a reply to a patient still waiting for one (the promise runs from
    when they started waiting: the handoff, or their first message after the last staff reply)."""
    if hours is None or not w.awaiting_reply:
        return None
    return hours.reply_due(w.since)


def waiting(row: Conversation) -> Waiting:
    started = row.handoff_since or row.last_at
    staff = row.last_staff_at
    if staff is None or staff < started:
        return Waiting(row, True, started)
    if row.last_user_at is not None and row.last_user_at > staff:
        return Waiting(row, True, row.last_user_at)
    return Waiting(row, False, staff)


# ---------------------------------------------------------------- the same rules in SQL

_started = func.coalesce(C.handoff_since, C.last_at)
_unanswered = or_(C.last_staff_at.is_(None), C.last_staff_at < _started)
AWAITING_REPLY: ColumnElement[bool] = or_(
    _unanswered, and_(C.last_user_at.is_not(None), C.last_user_at > C.last_staff_at)
)
"""The patient's latest message has no staff reply yet (as `waiting()`)."""
_WAITING_SINCE = case(
    (_unanswered, _started),
    (and_(C.last_user_at.is_not(None), C.last_user_at > C.last_staff_at), C.last_user_at),
    else_=C.last_staff_at,
)
IS_EMERGENCY: ColumnElement[bool] = or_(
    C.alert_kind == "emergency", and_(C.alert_kind.is_(None), C.emergency.is_(True))
)
UNACKNOWLEDGED: ColumnElement[bool] = and_(IS_EMERGENCY, C.acknowledged_at.is_(None))


@dataclass(frozen=True)
class QueueFilters:
    show: str | None = None
    """emergency, waiting (no staff reply yet), mine (claimed by or assigned to the viewer) or unassigned."""
    channel: str | None = None
    q: str | None = None
    """Part of the patient reference, the patient's name or the message that caused the handoff; or a sender id."""


def _ref_matches(db: Session, needle: str) -> list[str]:
    """Sender ids of waiting conversations whose patient reference contains the needle ("3F9K", "P-3F9K2A").
    The reference is a digest of the sender id, so it is compared here, over the waiting rows only."""
    wanted = needle.strip().upper()
    if not _REF_LIKE.fullmatch(wanted):
        return []
    senders = db.scalars(select(C.sender_id).where(C.handoff.is_(True)))
    return [sender for sender in senders if wanted in patient_reference(sender)]


def filtered(db: Session, filters: QueueFilters, viewer: str) -> Select[Conversation]:
    query = select(C).where(C.handoff.is_(True))
    if filters.show == "emergency":
        query = query.where(IS_EMERGENCY)
    elif filters.show == "waiting":
        query = query.where(AWAITING_REPLY)
    elif filters.show == "mine":
        query = query.where(C.claimed_by == viewer)
    elif filters.show == "unassigned":
        query = query.where(C.claimed_by.is_(None))
    if filters.channel:
        query = query.where(C.channel == filters.channel)
    needle = (filters.q or "").strip()
    if needle:
        lowered = needle.lower()
        found: list[ColumnElement[bool]] = [
            func.lower(C.trigger_text).contains(lowered, autoescape=True),
            func.lower(func.coalesce(C.display_name, "")).contains(lowered, autoescape=True),
            C.sender_id == needle,
        ]
        refs = _ref_matches(db, needle)
        if refs:
            found.append(C.sender_id.in_(refs))
        query = query.where(or_(*found))
    return query


def _in_queue_order(query: Select[Conversation]) -> Select[Conversation]:
    # emergencies first, then unanswered patients (longest wait first), then answered ones
    return query.order_by(
        case((IS_EMERGENCY, 0), else_=1), case((AWAITING_REPLY, 0), else_=1), _WAITING_SINCE, C.sender_id
    )


def page(db: Session, filters: QueueFilters, viewer: str, number: int, size: int) -> tuple[list[Waiting], int]:
    """One page of the queue in its order, and how many entries the filters match."""
    query = filtered(db, filters, viewer)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.scalars(_in_queue_order(query).offset((number - 1) * size).limit(size))
    return [waiting(row) for row in rows], total


# ---------------------------------------------------------------- the navigation's counts


@dataclass(frozen=True)
class Alert:
    sender_id: str
    kind: str
    seq: int


@dataclass(frozen=True)
class Counts:
    waiting: int
    emergencies: int
    """Emergencies nobody has acknowledged yet."""
    mine: int
    unassigned: int
    cursor: int
    """The latest alert's number (a tracker event id): send it back as `after` to hear only of newer ones."""
    new: list[Alert]
    unacknowledged: list[Alert]


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def counts(db: Session, viewer: str, after: int | None) -> Counts:
    """Two small queries over the waiting rows (the `handoff` index): the counts, then the alerts
    after `after` (none on the first poll, which only learns the cursor) and the unacknowledged
    emergencies, newest first."""
    totals = db.execute(
        select(
            func.count(),
            _how_many(UNACKNOWLEDGED),
            _how_many(C.claimed_by == viewer),
            _how_many(C.claimed_by.is_(None)),
            func.coalesce(func.max(C.alert_seq), 0),
        ).where(C.handoff.is_(True))
    ).one()
    newer = C.alert_seq > after if after is not None else false()
    rows = db.execute(
        select(C.sender_id, C.alert_kind, C.emergency, C.alert_seq, C.acknowledged_at)
        .where(C.handoff.is_(True), or_(UNACKNOWLEDGED, newer))
        .order_by(C.alert_seq.desc().nulls_last(), C.sender_id)
        .limit(2 * ALERT_LIMIT)
    ).all()
    new: list[Alert] = []
    unacknowledged: list[Alert] = []
    for sender_id, alert_kind, emergency, seq, acknowledged_at in rows:
        kind = alert_kind if alert_kind in ("emergency", "handoff") else ("emergency" if emergency else "handoff")
        alert = Alert(sender_id, kind, seq or 0)
        if after is not None and seq is not None and seq > after and len(new) < ALERT_LIMIT:
            new.append(alert)
        if kind == "emergency" and acknowledged_at is None and len(unacknowledged) < ALERT_LIMIT:
            unacknowledged.append(alert)
    return Counts(
        waiting=int(totals[0]),
        emergencies=int(totals[1]),
        mine=int(totals[2]),
        unassigned=int(totals[3]),
        cursor=int(totals[4] or 0),
        new=new,
        unacknowledged=unacknowledged,
    )


# ---------------------------------------------------------------- claims, assignments, acknowledgements


class QueueError(Exception):
    """A change the queue refuses: `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def waiting_row(db: Session, sender_id: str) -> Conversation:
    row = db.get(C, sender_id, populate_existing=True)
    if row is None:
        raise QueueError(404, "no such conversation")
    if not row.handoff:
        raise QueueError(409, "this conversation is not waiting for staff")
    return row


def _changed(db: Session, sender_id: str, condition: ColumnElement[bool], **values: object) -> bool:
    """One conditional UPDATE of a waiting row; True when it changed the row."""
    result = db.execute(
        update(C)
        .where(C.sender_id == sender_id, C.handoff.is_(True), condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return bool(getattr(result, "rowcount", 0))


def _replying(row: Conversation) -> str:
    return f"{row.claimed_by} is replying to this patient"


def claim(db: Session, sender_id: str, username: str) -> tuple[Conversation, bool]:
    """Claims a waiting conversation for `username`; (row, whether it changed). 409 when someone else
    has it (an admin can assign it instead)."""
    row = waiting_row(db, sender_id)
    if row.claimed_by == username:
        return row, False
    if _changed(db, sender_id, C.claimed_by.is_(None), claimed_by=username, claimed_at=datetime.now(UTC)):
        return waiting_row(db, sender_id), True
    row = waiting_row(db, sender_id)  # someone was quicker: the same person in another tab, or a colleague
    if row.claimed_by is None:
        raise QueueError(409, "someone changed who is replying at the same moment: look again")
    if row.claimed_by != username:
        raise QueueError(409, _replying(row))
    return row, False


def release(db: Session, sender_id: str, username: str, admin: bool) -> tuple[Conversation, str | None]:
    """Gives up a claim: the claimer's own, or anyone's for an admin; (row, who had it). Nobody's: a no-op."""
    row = waiting_row(db, sender_id)
    holder = row.claimed_by
    if holder is None:
        return row, None
    if holder != username and not admin:
        raise QueueError(403, f"{holder} is replying: only they or an admin can release this patient")
    if not _changed(db, sender_id, C.claimed_by == holder, claimed_by=None, claimed_at=None):
        raise QueueError(409, "someone changed who is replying at the same moment: look again")
    return waiting_row(db, sender_id), holder


def assign(db: Session, sender_id: str, actor: str, admin: bool, assignee: str) -> tuple[Conversation, str | None]:
    """Gives a waiting conversation to an active clinician or admin; (row, who had it before).
    Clinicians pass on what nobody or they themselves have; admins reassign anything."""
    target = db.scalars(select(User).where(User.username == assignee)).first()
    if target is None or not target.active or target.role not in ASSIGNABLE_ROLES:
        raise QueueError(422, "assign to an active clinician or admin")
    row = waiting_row(db, sender_id)
    holder = row.claimed_by
    if holder == assignee:
        return row, holder
    allowed = C.claimed_by == holder if holder is not None else C.claimed_by.is_(None)
    if holder is not None and holder != actor and not admin:
        raise QueueError(409, f"{_replying(row)}: only they or an admin can pass it on")
    if not _changed(db, sender_id, allowed, claimed_by=assignee, claimed_at=datetime.now(UTC)):
        raise QueueError(409, "someone changed who is replying at the same moment: look again")
    return waiting_row(db, sender_id), holder


def acknowledge(db: Session, sender_id: str, username: str) -> tuple[Conversation, bool]:
    """Acknowledges a waiting emergency (its alerts stop repeating for everyone); (row, whether it
    changed). 409 for a handoff that is not an emergency."""
    row = waiting_row(db, sender_id)
    if kind_of(row) != "emergency":
        raise QueueError(409, "this patient's handoff is not an emergency: there is nothing to acknowledge")
    if row.acknowledged_at is not None:
        return row, False
    changed = _changed(
        db, sender_id, C.acknowledged_at.is_(None), acknowledged_by=username, acknowledged_at=datetime.now(UTC)
    )
    return waiting_row(db, sender_id), changed


def assignees(db: Session) -> list[User]:
    """The staff a handoff can be given to, by name."""
    query = select(User).where(User.active.is_(True), User.role.in_(ASSIGNABLE_ROLES)).order_by(User.username)
    return list(db.scalars(query))
