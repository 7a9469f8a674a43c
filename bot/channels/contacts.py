"""Call-back contacts: at a handoff, a web widget patient may leave a name and a phone number, with their
consent, so the clinic can call them (POST /webhooks/webchat/contact, bot/channels/webchat.py).

What is taken, strictly (`parse_contact`): a JSON object with exactly `name`, `phone` and `consent: true`.
The name is cleaned text (core/text_clean.py) of 1-NAME_LIMIT characters; the phone number is what a person
types (an optional leading +, digits, spaces, dots, dashes, brackets) with MIN_DIGITS-MAX_DIGITS digits.
Anything else is a `ContactProblem` with the HTTP status the channel answers and a sentence saying what
is wrong.

Where it goes: one small table, `callback_contacts`, in the channels' database (MESO_CHANNEL_DB_URL, else the
tracker database), like the widget sessions and the feedback, created on first use: one row per
conversation, a newer number replacing the older. It is an inbox: the staff console moves each contact into
its own table (`console_contacts`, console/contacts.py) the first time it looks at that conversation, with
`read_contacts` then `take`, so one copy is kept at rest, under the console's erasure and retention, and
the treating clinician reads it there (audited). Erasure and the retention purge also delete what is still
waiting here (`forget_senders`, called by console/erasure.py).

The number is patient data: it is never logged, never sent in an alert, never part of the conversation's
events (so transcripts and exports never hold it).

SQLAlchemy core only, so this module runs under SQLAlchemy 1.4 in Rasa's environment and 2.x in the
console's; no Rasa imports.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from core.text_clean import clean_text

NAME_LIMIT = 80
PHONE_LIMIT = 32
"""Characters of a phone number as typed (spaces and separators included)."""
MIN_DIGITS = 7
MAX_DIGITS = 15
"""E.164 allows at most 15 digits; local numbers have at least 7."""
FIELDS = frozenset({"name", "phone", "consent"})
BATCH = 500

_PHONE = re.compile(r"\+?[0-9 ().\-]+")

metadata = sa.MetaData()
contacts = sa.Table(
    "callback_contacts",
    metadata,
    sa.Column("sender_id", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("name", sa.String(NAME_LIMIT * 4), nullable=False),
    sa.Column("phone", sa.String(PHONE_LIMIT), nullable=False),
    sa.Column("consent_at", sa.Float, nullable=False),
    sa.Column("saved_at", sa.Float, nullable=False, index=True),
)


class ContactProblem(ValueError):
    """A contact the channel refuses: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ContactIn:
    """A checked contact, as the patient gave it."""

    name: str
    phone: str


@dataclass(frozen=True)
class Contact:
    """One stored contact, as the console reads it."""

    sender_id: str
    channel: str
    name: str
    phone: str
    consent_at: datetime
    saved_at: float
    """The stored time as a number: `take` removes exactly this version."""


def clean_name(value: Any) -> str:
    """A name as stored: cleaned, inner whitespace collapsed, trimmed ("" when nothing is left)."""
    if not isinstance(value, str):
        return ""
    return " ".join(clean_text(value).split())


def clean_phone(value: Any) -> str | None:
    """A phone number as stored (whitespace collapsed), or None when it is not one: an optional leading
    +, then digits, spaces, dots, dashes and brackets, MIN_DIGITS to MAX_DIGITS digits."""
    if not isinstance(value, str) or len(value) > PHONE_LIMIT:
        return None
    text = " ".join(value.split())
    if not _PHONE.fullmatch(text):
        return None
    digits = sum(ch.isdigit() for ch in text)
    return text if MIN_DIGITS <= digits <= MAX_DIGITS else None


def parse_contact(body: Any) -> ContactIn:
    """The body of POST contact, checked strictly; a ContactProblem names the first thing wrong."""
    if not isinstance(body, dict):
        raise ContactProblem(400, "the body must be a JSON object")
    unknown = sorted(str(key) for key in set(body) - FIELDS)
    if unknown:
        raise ContactProblem(400, f"unknown field `{clean_text(unknown[0])[:40]}`: the body takes {sorted(FIELDS)}")
    if body.get("consent") is not True:
        raise ContactProblem(403, "the patient has not agreed to be called (`consent: true`): nothing was stored")
    raw_name = body.get("name")
    if not isinstance(raw_name, str):
        raise ContactProblem(400, "`name` must be a string: the name the clinic should ask for")
    name = clean_name(raw_name)
    if not name:
        raise ContactProblem(400, "`name` is empty: please give the name the clinic should ask for")
    if len(name) > NAME_LIMIT:
        raise ContactProblem(400, f"`name` is longer than {NAME_LIMIT} characters")
    phone = clean_phone(body.get("phone"))
    if phone is None:
        raise ContactProblem(
            400,
            f"`phone` must be a phone number: {MIN_DIGITS} to {MAX_DIGITS} digits, optionally with a leading +, "
            "spaces, dots, dashes or brackets",
        )
    return ContactIn(name, phone)


def _engine(url: str) -> sa.engine.Engine:
    connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
    return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)


class ContactStore:
    """Stores call-back contacts. Blocking (SQLAlchemy): call from a worker thread. The table is created on
    first use, so a database that is down at start-up does not stop Rasa."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: sa.engine.Engine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:
            if self._engine is None:
                engine = _engine(self.url)
                metadata.create_all(engine, checkfirst=True)
                self._engine = engine
            return self._engine

    def save(self, sender_id: str, channel: str, contact: ContactIn, now: float | None = None) -> bool:
        """Stores the patient's contact (consent given now); a newer one replaces theirs. True when new."""
        now = time.time() if now is None else now
        values = {
            "channel": channel[:32],
            "name": contact.name,
            "phone": contact.phone,
            "consent_at": now,
            "saved_at": now,
        }
        where = contacts.c.sender_id == sender_id
        for _ in range(2):  # an insert that loses a race to the same patient's other tab becomes an update
            with self.engine.begin() as conn:
                if conn.execute(contacts.update().where(where).values(**values)).rowcount:
                    return False
            try:
                with self.engine.begin() as conn:
                    conn.execute(contacts.insert().values(sender_id=sender_id, **values))
                return True
            except sa.exc.IntegrityError:
                continue
        raise RuntimeError("could not store the contact")


# -- the staff console's read API (any engine on the channels' database) ---------------------------------


def _has_table(engine: sa.engine.Engine) -> bool:
    return bool(sa.inspect(engine).has_table(contacts.name))


def _when(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, timezone.utc)


def _row(row: Any) -> Contact | None:
    """A stored row as a Contact; None for one that was tampered with beyond reading (no usable number)."""
    phone = clean_phone(row.phone if isinstance(row.phone, str) else "")
    if phone is None:
        return None
    try:
        saved_at = float(row.saved_at)
    except (TypeError, ValueError):
        saved_at = 0.0
    return Contact(
        sender_id=str(row.sender_id),
        channel=clean_text(str(row.channel or ""))[:32],
        name=clean_name(row.name)[:NAME_LIMIT],
        phone=phone,
        consent_at=_when(row.consent_at),
        saved_at=saved_at,
    )


def read_contacts(engine: sa.engine.Engine, sender_ids: list[str]) -> dict[str, Contact]:
    """The contacts waiting for these conversations (sender id -> contact); no table yet -> {}."""
    senders = sorted(set(sender_ids))
    if not senders or not _has_table(engine):
        return {}
    found: dict[str, Contact] = {}
    with engine.connect() as conn:
        for start in range(0, len(senders), BATCH):
            query = sa.select(contacts).where(contacts.c.sender_id.in_(senders[start : start + BATCH]))
            for row in conn.execute(query):
                contact = _row(row)
                if contact is not None:
                    found[contact.sender_id] = contact
    return found


def take(engine: sa.engine.Engine, contact: Contact) -> bool:
    """Deletes this version of a contact once the console has its copy; a newer one the patient left in
    the meantime stays for the next look. True when it went."""
    with engine.begin() as conn:
        result = conn.execute(
            contacts.delete().where(contacts.c.sender_id == contact.sender_id, contacts.c.saved_at <= contact.saved_at)
        )
    return bool(result.rowcount)


def forget_senders(engine: sa.engine.Engine, sender_ids: list[str]) -> int:
    """Deletes these patients' waiting contacts (erasure, retention); how many rows went. No table -> 0."""
    senders = sorted(set(sender_ids))
    if not senders or not _has_table(engine):
        return 0
    removed = 0
    with engine.begin() as conn:
        for start in range(0, len(senders), BATCH):
            result = conn.execute(contacts.delete().where(contacts.c.sender_id.in_(senders[start : start + BATCH])))
            removed += int(result.rowcount or 0)
    return removed
