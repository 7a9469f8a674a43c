"""FastAPI dependencies, declared once: the database session, the logged-in user, roles, CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import two_factor
from console.conversations_query import Filters
from console.db import session_factory
from console.models import LoginSession, User
from console.schemas import Kind
from console.security import token_hash
from core.settings import Settings, get_settings

COOKIE = "meso_console"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def settings_dep() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dep)]


def db_session(settings: SettingsDep) -> Iterator[Session]:
    with session_factory(settings.console_db_url)() as session:
        yield session


DB = Annotated[Session, Depends(db_session)]


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member of this request."""

    user: User
    session: LoginSession

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_staff(request: Request, db: DB, settings: SettingsDep) -> Staff:
    token = request.cookies.get(COOKIE)
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in first")
    login = db.get(LoginSession, token_hash(token))
    now = datetime.now(UTC)
    if login is None or login.expires_at <= now:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "your session has expired: log in again")
    user = db.get(User, login.user_id)
    if user is None or not user.active:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this account is disabled")
    if request.method in UNSAFE_METHODS:
        given = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(given.encode(), login.csrf_token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token header")
    if two_factor.setup_required(user, settings) and not request.url.path.startswith("/api/auth/"):
        # an admin who must use an authenticator code reaches nothing but its set-up until it is on
        raise HTTPException(status.HTTP_403_FORBIDDEN, "set up your authenticator code first (log in again to start)")
    return Staff(user, login)


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require(*roles: str) -> Callable[[Staff], Staff]:
    """Dependency: the logged-in staff member must have one of these roles (admins may do everything)."""

    def check(staff: CurrentStaff) -> Staff:
        if staff.role != "admin" and staff.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {' or '.join(roles)} role")
        return staff

    return check


Admin = Annotated[Staff, Depends(require("admin"))]
Reader = Annotated[Staff, Depends(require("reviewer", "clinician"))]  # read conversations
Reviewer = Annotated[Staff, Depends(require("reviewer"))]  # mark reviewed, tag, notes
Clinician = Annotated[Staff, Depends(require("clinician"))]  # handoff queue, replies


def user_by_name(db: Session, username: str) -> User | None:
    return db.scalars(select(User).where(User.username == username)).first()


def list_filters(
    channel: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: Kind | None = None,
    reviewed: bool | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="text the patient wrote, or a sender id")] = None,
) -> Filters:
    """The conversation filters, shared by the list and the export."""
    return Filters(channel, since, until, kind, reviewed, tag, q)


ListFilters = Annotated[Filters, Depends(list_filters)]
