"""Request and response bodies of the console API (separate input and output schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from core.patient_ref import patient_reference

Role = Literal["clinician", "reviewer", "admin"]
T = TypeVar("T")


class PatientRef(BaseModel):
    """A patient's conversation: its sender id (for the API and links) and the short reference staff
    see instead (core/patient_ref.py: not the sender id, not a secret)."""

    sender_id: str

    @computed_field(description="short reference shown to staff instead of the sender id, e.g. P-3F9K2A")  # type: ignore[prop-decorator]
    @property
    def patient_ref(self) -> str:
        return patient_reference(self.sender_id)


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(
        default=None,
        max_length=16,
        description="the 6-digit code from the authenticator app (accounts that set one up)",
    )


class LoginProblem(BaseModel):
    detail: str
    need: Literal["code"] | None = Field(
        default=None, description='"code": the password was right; send it again with the authenticator code'
    )


class Me(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="send it back in the X-CSRF-Token header of every POST, PATCH and DELETE")
    expires_at: datetime
    two_factor: bool = Field(default=False, description="the account logs in with an authenticator code as well")
    two_factor_setup_required: bool = Field(
        default=False,
        description="an admin who must set up an authenticator code first: until then only /api/auth/ answers",
    )


class TwoFactorSetupIn(BaseModel):
    password: str = Field(min_length=1, max_length=1024, description="the account's password, asked again")


class TwoFactorSetupOut(BaseModel):
    secret: str = Field(description="base32, for typing into the app; shown this once")
    otpauth_uri: str = Field(
        description="the same as an otpauth:// URI (authenticator apps read it, e.g. as a QR code)"
    )


class TwoFactorCodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=16, description="the current 6-digit code from the app")


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: Role


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    unlock: bool | None = Field(default=None, description="true: lift a lock after failed logins")
    reset_two_factor: bool | None = Field(
        default=None, description="true: turn the authenticator code off (a lost phone); admins must set up a new one"
    )


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    two_factor: bool = False
    locked: bool = Field(default=False, description="locked after failed logins (its own browsers still log in)")


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str | None
    action: str
    target: str | None
    detail: str
    ip: str | None


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


class Problem(BaseModel):
    detail: str


Kind = Literal["handoff", "emergency", "clarify", "out_of_scope", "low_confidence", "answer", "booking"]


class ConversationOut(PatientRef):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    started_at: datetime
    last_at: datetime
    user_messages: int
    kinds: list[str]
    handoff: bool
    emergency: bool
    low_confidence: bool
    preview: str
    reviewed: bool
    tags: list[str]


class MessageOut(BaseModel):
    event_id: int
    at: datetime
    role: Literal["patient", "bot", "staff"]
    text: str
    buttons: list[str] = []
    meta: dict[str, object] | None = Field(
        default=None, description="the reply metadata of the bot's turn (CONTRACT.md)"
    )
    author: str | None = None


class TranscriptOut(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]


class TagIn(BaseModel):
    tag: str = Field(min_length=1, max_length=64, pattern=r"^[\w .:-]+$")


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    author: str
    text: str
    created_at: datetime


class TagCount(BaseModel):
    tag: str
    conversations: int


HandoffKind = Literal["emergency", "handoff"]
HandoffFilter = Literal["emergency", "waiting", "mine", "unassigned"]


class HandoffOut(PatientRef):
    channel: str
    display_name: str | None = Field(
        default=None,
        description="the patient's name as their messaging app gives it (Telegram first name, WhatsApp profile "
        "name); null on other channels or when none was given",
    )
    kind: HandoffKind = Field(description="emergency (a warning sign during this handoff) or handoff")
    emergency: bool = Field(description="kind is emergency")
    reason: str | None = Field(description="why the assistant handed over (emergency, medical, human...)")
    trigger: str = Field(
        description="the patient message that caused the handoff or emergency (identifiers redacted like transcripts)"
    )
    preview: str = Field(description="the patient's latest message (identifiers redacted like transcripts)")
    handed_off_at: datetime
    awaiting_reply: bool = Field(description="the patient's latest message has no staff reply yet")
    waiting_since: datetime = Field(
        description="when the patient started waiting (handoff, or their first message after the last staff reply); "
        "for answered conversations, the last staff reply"
    )
    waiting_seconds: int
    claimed_by: str | None = Field(description="the staff member replying (claimed or assigned), shown to everyone")
    claimed_at: datetime | None
    acknowledged_by: str | None = Field(description="who acknowledged the emergency (its alerts stopped)")
    acknowledged_at: datetime | None
    reply_due: datetime | None = Field(
        default=None, description="when the clinic promised a reply by (its business hours), where it says"
    )


class AssignIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="an active clinician or admin")


class AssigneeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: Role


class HandoffAlertOut(PatientRef):
    kind: HandoffKind
    seq: int = Field(description="the alert's number; higher is newer")


class HandoffCountsOut(BaseModel):
    waiting: int = Field(description="patients waiting for staff")
    emergencies: int = Field(description="waiting emergencies nobody has acknowledged")
    mine: int = Field(description="waiting patients claimed by or assigned to you")
    unassigned: int = Field(description="waiting patients nobody is replying to")
    cursor: int = Field(description="the newest alert's number: send it back as `after` to hear only of newer ones")
    new: list[HandoffAlertOut] = Field(description="handoffs and emergencies after `after`, newest first (at most 20)")
    unacknowledged: list[HandoffAlertOut] = Field(description="emergencies waiting for an acknowledgement (at most 20)")
    repeat_seconds: int = Field(description="how often the console repeats an unacknowledged emergency's alert")


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the reply is empty")
        return text.strip()


class ReplyOut(BaseModel):
    delivered: bool
    via: str = Field(description="webchat, telegram, whatsapp, or whatsapp_template (outside WhatsApp's 24 h window)")


class GapExample(PatientRef):
    text: str
    at: datetime
    kind: str
    confidence: float | None


class GapOut(BaseModel):
    question: str = Field(description="the most asked wording in this group")
    count: int
    kinds: list[str] = Field(description="clarify, out_of_scope or low_confidence")
    last_at: datetime
    examples: list[GapExample]


class PassageOut(BaseModel):
    id: str
    topic: str
    title: str
    answer: str
    questions: list[str]
    sources: list[str] = Field(description="the seed articles the passage is based on")
    reviewed_by: str
    reviewed_on: str


class ConsoleSettingsOut(BaseModel):
    redact: bool
    keep_raw_text: bool
    redact_stored_after_hours: int
    retention_days: int
    retention_interval_minutes: int
    session_minutes: int
    secure_cookies: bool
    rasa_url: str
    staff_replies_enabled: bool = Field(description="MESO_RASA_TOKEN is set, so replies and hand-backs can be sent")


class RemovedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    events: int = Field(description="rows deleted from the tracker store's events table")
    conversations: int = Field(description="rows deleted from the conversation index")
    reviews: int
    tags: int
    notes: int
    alerts: int = Field(description="lines removed from the staff alerts file")
    widget_sessions: int = Field(default=0, description="web widget sessions ended (the patient's devices)")
    feedback: int = Field(default=0, description="feedback rows deleted (ratings of answers and their notes)")


class ErasureOut(RemovedOut):
    sender_id: str


class RedactedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    conversations: int
    events: int = Field(description="stored messages rewritten with identifiers redacted")
    alerts: int


class PurgeOut(BaseModel):
    cutoff: datetime = Field(description="conversations whose last event is older than this were purged")
    expired: int = Field(description="conversations purged")
    removed: RemovedOut
    redacted: RedactedOut | None = Field(description="null when MESO_CONSOLE_KEEP_RAW_TEXT=true (nothing rewritten)")
