"""Request and response bodies of the console API (separate input and output schemas)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from console.canned_replies import check_text, shortcut_of
from core.patient_ref import patient_reference
from core.text_clean import clean_text

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


class ContactOut(BaseModel):
    """A call-back contact the patient left (console/contacts.py): redacted unless revealed."""

    name: str = Field(description='the name to ask for; "[name]" unless revealed')
    phone: str = Field(description='the number to call; "[phone]" unless revealed')
    tel: str | None = Field(default=None, description="a tel: link to the number, when revealed")
    revealed: bool
    source: str = Field(description="where the patient left it (webchat)")
    consent_at: datetime = Field(description="when the patient agreed to be called on this number")
    may_reveal: bool = Field(
        default=False, description="whether you may reveal it (the treating clinician: claimed by you or by nobody)"
    )


class TranscriptOut(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]
    view: int = Field(
        default=0,
        description="this opening's number in the audit log: pass it to `/updates` to follow the transcript live",
    )
    cursor: int = Field(default=0, description="the newest event's number: `/updates?after=` it")
    claimed_by: str | None = Field(default=None, description="who is replying to this patient (the handoff queue)")
    claimed_at: datetime | None = None
    contact: ContactOut | None = Field(default=None, description="a call-back number the patient left, if any")


class TranscriptUpdateOut(BaseModel):
    """What changed since `after`, for a transcript already open (its opening was audited)."""

    conversation: ConversationOut
    messages: list[MessageOut] = Field(description="messages after `after`, oldest first")
    cursor: int
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    contact: ContactOut | None = None


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
    passage_ids: list[str] = Field(default=[], description="thumbs_down: the passages the rated answer was built from")
    comment: str | None = Field(default=None, description="thumbs_down: the patient's 'what was missing?' note")


class GapOut(BaseModel):
    question: str = Field(description="the most asked wording in this group")
    count: int
    kinds: list[str] = Field(description="clarify, out_of_scope, low_confidence or thumbs_down")
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


class PassageSummaryOut(BaseModel):
    id: str
    topic: str
    title: str
    questions: int = Field(description="how many question variants the passage has in its YAML file")


ProposalKind = Literal["variant", "flag"]
ProposalOrigin = Literal["gap", "thumbs_down"]
ProposalStatus = Literal["pending", "approved", "rejected"]


class VariantProposalIn(BaseModel):
    passage_id: str = Field(min_length=1, max_length=64, description="the passage the question belongs to")
    text: str = Field(
        min_length=1,
        max_length=2000,
        description="the new question variant as a patient would type it: cleaned to one line of 3-300 characters, "
        "not already a question of any passage, no phone numbers, email addresses or links",
    )
    origin: ProposalOrigin = Field(description="where it came from: a knowledge gap or a patient's thumbs-down")
    sender_id: str | None = Field(
        default=None, max_length=255, description="the conversation it came from (kept as its patient reference only)"
    )


class FlagIn(BaseModel):
    passage_id: str = Field(min_length=1, max_length=64)
    note: str = Field(min_length=1, max_length=2000, description="what is wrong or missing (3-1000 characters)")
    origin: ProposalOrigin
    sender_id: str | None = Field(default=None, max_length=255)


class DecisionIn(BaseModel):
    note: str = Field(default="", max_length=1000, description="optional: why (shown with the decision)")


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ProposalKind
    passage_id: str
    passage_title: str | None = Field(default=None, description="null when the passage is no longer in the YAML")
    text: str = Field(description="the question variant (empty for a flag)")
    note: str = Field(description="the reviewer's note (flags)")
    origin: ProposalOrigin
    origin_ref: str | None = Field(description="patient reference of the conversation it came from, e.g. P-3F9K2A")
    status: ProposalStatus
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    live: bool = Field(default=False, description="an approved variant the assistant answers with now (the overlay)")
    in_yaml: bool = Field(default=False, description="an approved variant that is in the passage's YAML file now")


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
    contacts: int = Field(default=0, description="call-back contacts deleted (the patient's name and number)")


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


class CannedReplyIn(BaseModel):
    title: str = Field(min_length=1, max_length=80, description="what staff pick it by, e.g. Prices")
    text: str = Field(
        min_length=1,
        max_length=4000,
        description="the reply; may hold {clinic_name}, {phone}, {address}, {booking_url}, {emergency_number}, "
        "{privacy_url}, {opening_hours}, {reply_within_hours} (from clinic.yml)",
    )
    shortcut: str | None = Field(
        default=None, max_length=32, description='optional: typed after "/" in the reply box, e.g. /price'
    )

    @field_validator("title")
    @classmethod
    def _title(cls, title: str) -> str:
        title = " ".join(clean_text(title).split())
        if not title:
            raise ValueError("the title is empty")
        return title

    @field_validator("text")
    @classmethod
    def _text(cls, text: str) -> str:
        return check_text(clean_text(text))

    @field_validator("shortcut")
    @classmethod
    def _shortcut(cls, shortcut: str | None) -> str | None:
        return shortcut_of(shortcut)


class CannedReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    text: str = Field(description="as written, with its placeholders")
    filled: str = Field(description="with the placeholders filled in from clinic.yml: what a reply inserts")
    shortcut: str | None = Field(description='without the "/"')
    updated_by: str
    updated_at: datetime


class OutcomesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    answered: int = Field(description="a curated answer or the clinic's information, and nothing weightier")
    clarify: int
    handoff: int
    emergency: int
    out_of_scope: int
    other: int = Field(description="greetings, consent or a booking link only")
    total: int
    answered_share: float | None = Field(
        description="answered / (total - other); null when no conversation asked anything"
    )


class RepliesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    handoffs: int = Field(description="handoffs to staff that started then (staff take-overs not counted)")
    replied: int = Field(description="of those, the ones with a staff reply (however late)")
    p50_seconds: float | None = Field(description="time to the first staff reply, median (nearest rank)")
    p90_seconds: float | None = Field(description="time to the first staff reply, 90th percentile (nearest rank)")


class GapCountsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    clarify: int
    out_of_scope: int
    low_confidence: int
    thumbs_down: int = Field(description="answers patients rated thumbs down")
    total: int


class DashboardDayOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date = Field(description="a day in the clinic's time zone")
    conversations: OutcomesOut = Field(description="conversations that started that day, by outcome")
    replies: RepliesOut
    emergencies: int = Field(description="conversations with an emergency reply that day")
    gaps: GapCountsOut


class TopicCountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    topic: str
    title: str | None
    answers: int = Field(description="curated answers with this as their best topic")
    conversations: int


class PassageFeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    passage_id: str
    title: str | None
    up: int
    down: int
    comments: int = Field(description="ratings with a 'what was missing?' note")


class DashboardOut(BaseModel):
    """Figures only: no patient's words, no sender ids."""

    first_day: date
    last_day: date
    timezone: str = Field(description="the clinic's time zone (clinic.yml), in which the days are counted")
    conversations: OutcomesOut
    replies: RepliesOut
    emergencies: int
    gaps: GapCountsOut
    days: list[DashboardDayOut]
    topics: list[TopicCountOut] = Field(description="the curated answers' best topics, most answered first")
    passages: list[PassageFeedbackOut] = Field(description="patients' thumbs per passage, most thumbs down first")
