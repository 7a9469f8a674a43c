"""Creating staff accounts and setting passwords: one set of rules for the API (admins) and the
command line (the first admin: there is no default password)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console import audit, login_limits, trusted_devices
from console.db import migrate, session_factory
from console.models import ROLES, LoginSession, User
from console.security import hash_password, password_problem
from core.settings import Settings, get_settings


class AccountError(ValueError):
    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def password_context(settings: Settings) -> tuple[str, ...]:
    """Words an attacker would try against this clinic's console: its name (clinic.yml)."""
    from core.clinic import load_clinic

    try:
        return (load_clinic(settings.clinic_file).name,)
    except (OSError, ValueError, TypeError, AttributeError):
        return ()  # a broken clinic file is reported by the services that need it


def checked_password(password: str, username: str, context: Sequence[str]) -> str:
    """The argon2 hash of an acceptable new password; AccountError (422) saying why otherwise."""
    problem = password_problem(password, username, context)
    if problem:
        raise AccountError(problem)
    return hash_password(password)


def add_user(
    db: Session,
    username: str,
    password: str,
    role: str,
    actor: str | None,
    ip: str | None = None,
    via: str = "api",
    context: Sequence[str] = (),
) -> User:
    """Adds an active account (audited); AccountError (409 taken, 422 invalid) otherwise."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise AccountError("the username must be 1-64 characters")
    password_hash = checked_password(password, username, context)
    if db.scalars(select(User).where(User.username == username)).first():
        raise AccountError(f"the username {username!r} is taken", status=409)
    user = User(username=username, password_hash=password_hash, role=role, active=True, created_at=datetime.now(UTC))
    db.add(user)
    db.commit()
    audit.record(db, "user_create", actor, username, ip, role=role, via=via)
    return user


def set_password(db: Session, user: User, password: str, context: Sequence[str]) -> None:
    """A new password (checked like a new account's): the account is logged out everywhere, its
    browsers are no longer trusted and a lock after failed logins is lifted. Commits."""
    user.password_hash = checked_password(password, user.username, context)
    db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    trusted_devices.forget_user(db, user.id)
    login_limits.clear(db, login_limits.user_key(user.username))  # commits the lot


def create_user(
    db_url: str, username: str, password: str, role: str = "admin", settings: Settings | None = None
) -> User:
    """From the command line: migrates the database first."""
    migrate(db_url)
    context = password_context(settings or get_settings())
    with session_factory(db_url)() as db:
        return add_user(db, username, password, role, actor=None, via="cli", context=context)
