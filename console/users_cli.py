"""Creating staff accounts from the command line (the first admin: there is no default password)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from console.db import migrate, session_factory
from console.models import ROLES, User
from console.security import hash_password, password_problem


class UserError(ValueError):
    pass


def create_user(db_url: str, username: str, password: str, role: str = "admin") -> User:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise UserError("the username must be 1-64 characters")
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)
    migrate(db_url)
    with session_factory(db_url)() as db:
        if db.scalars(select(User).where(User.username == username)).first():
            raise UserError(f"the username {username!r} is taken")
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
        from console import audit

        audit.record(db, "user_create", None, username, None, role=role, via="cli")
        return user
