"""Canned replies: texts admins keep for the answers staff give again and again ("our prices", "we will call
you"), inserted into a reply with a keystroke (the reply box's "/" or Ctrl+/ list, console/static/js/
canned_picker.js).

A text may hold placeholders filled in from clinic.yml when a clinician inserts it, so one reply stays right
when the clinic's number or hours change: {clinic_name}, {phone}, {address}, {booking_url},
{emergency_number}, {privacy_url}, {opening_hours}, {reply_within_hours}. An unknown placeholder is refused
when the reply is saved, so a typo never reaches a patient; when clinic.yml cannot be read, the placeholders
stay as they are and the clinician sees them before sending.

A shortcut is 1-31 lower-case letters, digits, "-" or "_" after the "/" ("/price"); it is optional and
unique, stored without the slash."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.models import CannedReply
from core.clinic import ClinicConfig, load_clinic

PLACEHOLDERS = (
    "clinic_name",
    "phone",
    "address",
    "booking_url",
    "emergency_number",
    "privacy_url",
    "opening_hours",
    "reply_within_hours",
)
TITLE_LIMIT = 80
TEXT_LIMIT = 4000
"""As long as a staff reply may be (console/schemas.py ReplyIn)."""
SHORTCUT = re.compile(r"/?([a-z0-9][a-z0-9_-]{0,30})")
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,40})\}")


class CannedError(ValueError):
    """A change refused: `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def shortcut_of(value: str | None) -> str | None:
    """A shortcut as stored ("/Price " -> "price"), None for none; CannedError (422) for one that is not."""
    if value is None or not value.strip():
        return None
    found = SHORTCUT.fullmatch(value.strip().lower())
    if found is None:
        raise CannedError(422, 'a shortcut is "/" and 1-31 letters, digits, "-" or "_", e.g. /price')
    return found.group(1)


def unknown_placeholders(text: str) -> list[str]:
    """The {names} in `text` that are not placeholders this console fills in."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise CannedError(422, "the text is empty")
    unknown = unknown_placeholders(text)
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise CannedError(422, f"unknown placeholder {{{unknown[0]}}}: the console fills in {known}")
    return text


def values(clinic: ClinicConfig) -> dict[str, str]:
    """What each placeholder becomes for this clinic."""
    return {
        "clinic_name": clinic.name,
        "phone": clinic.phone,
        "address": clinic.address,
        "booking_url": str(clinic.booking_url),
        "emergency_number": clinic.emergency_number,
        "privacy_url": str(clinic.privacy_url),
        "opening_hours": "; ".join(clinic.opening_hours),
        "reply_within_hours": str(clinic.reply_within_hours),
    }


def clinic_values(clinic_file: Path) -> dict[str, str]:
    """The placeholders' values from clinic.yml (read again when it changes); {} when it cannot be read."""
    try:
        changed = clinic_file.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_values(str(clinic_file), changed))


@lru_cache(maxsize=4)
def _values(path: str, changed: int) -> tuple[tuple[str, str], ...]:
    try:
        return tuple(values(load_clinic(Path(path))).items())
    except (OSError, ValueError, TypeError, AttributeError, yaml.YAMLError):
        return ()  # the assistant's own start-up reports a broken clinic file


def fill(text: str, known: dict[str, str]) -> str:
    """The text with every placeholder that has a value filled in; the others are left as written."""
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class Draft:
    """A canned reply as an admin writes it."""

    title: str
    text: str
    shortcut: str | None


def everything(db: Session) -> list[CannedReply]:
    """Every canned reply, by title."""
    return list(db.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id)))


def _taken(db: Session, shortcut: str | None, other_than: int | None = None) -> None:
    if shortcut is None:
        return
    holder = db.scalars(select(CannedReply).where(CannedReply.shortcut == shortcut)).first()
    if holder is not None and holder.id != other_than:
        raise CannedError(409, f'the shortcut /{shortcut} is already used by "{holder.title}"')


def _commit(db: Session, shortcut: str | None) -> None:
    try:
        db.commit()
    except IntegrityError as exc:  # another admin took the shortcut at the same moment
        db.rollback()
        raise CannedError(409, f"the shortcut /{shortcut} is already used") from exc


def create(db: Session, draft: Draft, actor: str) -> CannedReply:
    _taken(db, draft.shortcut)
    now = datetime.now(UTC)
    row = CannedReply(
        title=draft.title,
        text=draft.text,
        shortcut=draft.shortcut,
        created_by=actor,
        created_at=now,
        updated_by=actor,
        updated_at=now,
    )
    db.add(row)
    _commit(db, draft.shortcut)
    return row


def update(db: Session, row: CannedReply, draft: Draft, actor: str) -> CannedReply:
    _taken(db, draft.shortcut, other_than=row.id)
    row.title, row.text, row.shortcut = draft.title, draft.text, draft.shortcut
    row.updated_by, row.updated_at = actor, datetime.now(UTC)
    _commit(db, draft.shortcut)
    return row
