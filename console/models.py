"""The console's own tables. Conversations themselves stay in Rasa's tracker store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Dialect, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ROLES = ("clinician", "reviewer", "admin")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware (SQLite stores none; everything stored is UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # naive means UTC here; an aware time in another zone is converted, so comparisons are right on SQLite
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The second factor's base32 secret once confirmed (console/two_factor.py); never sent after set-up."""
    totp_pending: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """A secret shown once and waiting for its first code; it replaces `totp_secret` when confirmed."""
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The 30-second step of the last code accepted: a code is accepted once (no replay)."""

    @property
    def two_factor(self) -> bool:
        return self.totp_secret is not None


class LoginLimit(Base):
    """Failed logins counted for one key (console/login_limits.py): a username, known or not
    (`user:<name>`), a client address (`addr:<ip>`), or a browser trusted for one account
    (`device:<token hash>:<user id>`). Unknown usernames get rows too, so they behave like known ones."""

    __tablename__ = "console_login_limits"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts counted in the current window: claimed before the password is checked, forgiven on success."""
    window_ends: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TrustedDevice(Base):
    """A browser where this account has logged in before (console/trusted_devices.py): its logins are
    limited on their own, so strangers who lock the account by name do not lock its owner out.
    The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_devices"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("console_users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditEntry(Base):
    """Who did what, when. Append-only: the database refuses UPDATE and DELETE (see the migration)."""

    __tablename__ = "console_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Review(Base):
    __tablename__ = "console_reviews"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Tag(Base):
    __tablename__ = "console_tags"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Note(Base):
    __tablename__ = "console_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Conversation(Base):
    """One conversation as the list shows it (derived from the tracker store by console/sync.py)."""

    __tablename__ = "console_conversations"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_user_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    user_messages: Mapped[int] = mapped_column(Integer, default=0)
    kinds: Mapped[str] = mapped_column(String(255), default=",")
    """Every reply kind seen, comma-delimited on both sides (",answer,handoff,")."""
    handoff: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    """Waiting for staff right now."""
    handoff_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handoff_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_staff_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_user_text: Mapped[str] = mapped_column(String(500), default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    low_confidence: Mapped[bool] = mapped_column(Boolean, default=False)
    preview: Mapped[str] = mapped_column(String(200), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The patient's name as their messaging app gives it (Telegram first name, WhatsApp profile name)."""
    trigger_text: Mapped[str] = mapped_column(String(500), default="")
    """The patient message that caused the handoff or emergency: the latest one before the handoff that
    is not a bare yes/no (a "yes" accepting an offer of a person points back at the question), or the
    message with the warning sign."""
    alert_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """"emergency" or "handoff" while the conversation waits for staff (an emergency within the handoff
    counts), None otherwise."""
    alert_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The tracker event id of the latest alert (handoff or emergency): the console's new-alert cursor."""
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """The staff member replying to this handoff (claimed or assigned); cleared when the handoff ends."""
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Who acknowledged the current emergency (its alerts stop repeating); a new emergency clears it."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SyncState(Base):
    __tablename__ = "console_sync_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CannedReply(Base):
    """A reply staff insert with a keystroke (console/canned_replies.py): kept by admins, used by clinicians.
    Its text may hold placeholders such as {clinic_name} and {phone}, filled in from clinic.yml."""

    __tablename__ = "console_canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    shortcut: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    """Typed after "/" in the reply box ("/price"); optional, unique, stored without the slash."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CallbackContact(Base):
    """The name and phone number a patient left, with consent, so the clinic can call them back
    (console/contacts.py): moved here from the channels' inbox (bot/channels/contacts.py). Shown unredacted
    only to the clinician treating the patient (audited `contact_view`); erased and purged with the
    conversation."""

    __tablename__ = "console_contacts"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    """Where the patient left it: the channel (webchat)."""
    name: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str] = mapped_column(String(32))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    """When the console took it from the channel."""
