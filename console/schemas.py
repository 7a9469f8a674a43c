"""Request and response bodies of the console API (separate input and output schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["clinician", "reviewer", "admin"]
T = TypeVar("T")


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="send it back in the X-CSRF-Token header of every POST, PATCH and DELETE")
    expires_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    password: str = Field(min_length=1, max_length=1024)
    role: Role


class UserPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None


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


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sender_id: str
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
