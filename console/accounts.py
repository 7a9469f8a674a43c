"""Creating staff accounts: one set of rules for the API (admins) and the command line (the first
admin: there is no default password)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from console import audit
from console.db import migrate, session_factory
from console.models import ROLES, User
from console.security import hash_password, password_problem


class AccountError(ValueError):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def add_user(
    db: Session, username: str, password: str, role: str, actor: str | None, ip: str | None = None, via: str = "api"
) -> User:
    """Adds an active account (audited); AccountError (409 taken, 422 invalid) otherwise."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise AccountError("the username must be 1-64 characters")
    problem = password_problem(password, username)
    if problem:
        raise AccountError(problem)
    if db.scalars(select(User).where(User.username == username)).first():
        raise AccountError(f"the username {username!r} is taken", status=409)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        failed_logins=0,
        created_at=datetime.now(UTC),
    )
    db.add(user)
    db.commit()
    audit.record(db, "user_create", actor, username, ip, role=role, via=via)
    return user


def create_user(db_url: str, username: str, password: str, role: str = "admin") -> User:
    """From the command line: migrates the database first."""
    migrate(db_url)
    with session_factory(db_url)() as db:
        return add_user(db, username, password, role, actor=None, via="cli")
