"""Call-back contacts in the console: the name and phone number a patient left at a handoff, with their
consent, so the clinic can call them (the widget's "Would you like the clinic to call you?",
bot/channels/contacts.py).

The channels keep a new contact in their database only until the console first looks at the conversation:
`collect` then moves it into `console_contacts` (copied, then deleted there), so one copy is kept at rest,
under the console's erasure and retention. A newer number from the patient replaces the older.

Who sees what:
- everyone who reads the conversation sees that a number was left, when consent was given and where, with
  the name and the number redacted ("[name]", "[phone]"): reviewers always, as do exports, which never
  hold contacts at all (the contact is not part of the conversation's events);
- the treating clinician reveals it (`may_reveal`): a clinician or admin, when the patient is claimed by
  them or by nobody (a patient someone else is replying to is theirs to call; an admin can reassign it
  first). Revealing is audited (`contact_view`) every time, and a waiting patient nobody had is claimed by
  whoever reveals their number, so colleagues see who is calling.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.channels import contacts as inbox
from console.models import CallbackContact, Conversation
from console.redaction import PHONE
from console.tracker_store import chunks

log = logging.getLogger(__name__)

NAME_HIDDEN = "[name]"
REVEAL_ROLES = ("clinician", "admin")


def collect(db: Session, channel_db: Engine, sender_id: str) -> CallbackContact | None:
    """The conversation's contact, after moving a newer one left in the channels' database here. A
    channels' database that cannot be read leaves what the console already has (logged)."""
    try:
        waiting = inbox.read_contacts(channel_db, [sender_id]).get(sender_id)
    except Exception:
        log.exception("could not read the call-back contacts in the channels' database")
        waiting = None
    row = db.get(CallbackContact, sender_id)
    if waiting is None:
        return row
    if row is None or waiting.consent_at >= row.consent_at:
        row = _keep(db, row, waiting)
    try:
        inbox.take(channel_db, waiting)
    except Exception:
        log.exception("could not delete a call-back contact the console has copied (tried again next time)")
    return row


def _keep(db: Session, row: CallbackContact | None, waiting: inbox.Contact) -> CallbackContact:
    """Stores the channel's contact in the console (a colleague's screen may store it at the same moment)."""
    for _ in range(2):
        if row is None:
            row = CallbackContact(sender_id=waiting.sender_id)
            db.add(row)
        row.source, row.name, row.phone = waiting.channel or "webchat", waiting.name, waiting.phone
        row.consent_at, row.received_at = waiting.consent_at, datetime.now(UTC)
        try:
            db.commit()
            return row
        except IntegrityError:  # the other screen inserted it first: update theirs
            db.rollback()
            row = db.get(CallbackContact, waiting.sender_id)
    raise RuntimeError("could not store the call-back contact")


def may_reveal(role: str, username: str, conversation: Conversation) -> str | None:
    """None when this staff member may see the contact unredacted, else why not."""
    if role not in REVEAL_ROLES:
        return "only the clinician treating the patient sees their contact details"
    holder = conversation.claimed_by
    if holder is not None and holder != username:
        return f"{holder} is replying to this patient: only they see the number (an admin can reassign the patient)"
    return None


def tel_uri(phone: str) -> str:
    """A tel: link for a number as the patient typed it ("+91 98765-43210" -> "tel:+919876543210")."""
    digits = re.sub(r"[^0-9]", "", phone)
    return f"tel:{'+' if phone.strip().startswith('+') else ''}{digits}"


@dataclass(frozen=True)
class Shown:
    """A contact as one staff member sees it."""

    name: str
    phone: str
    tel: str | None
    revealed: bool
    source: str
    consent_at: datetime


def shown(row: CallbackContact, revealed: bool) -> Shown:
    if revealed:
        return Shown(row.name, row.phone, tel_uri(row.phone), True, row.source, row.consent_at)
    return Shown(NAME_HIDDEN, PHONE, None, False, row.source, row.consent_at)


def forget(db: Session, senders: list[str]) -> int:
    """Deletes these patients' contacts from the console (erasure, retention); how many went."""
    removed = 0
    for batch in chunks(senders):
        result = db.execute(delete(CallbackContact).where(CallbackContact.sender_id.in_(batch)))
        removed += result.rowcount or 0  # type: ignore[attr-defined]
    db.commit()
    return removed
