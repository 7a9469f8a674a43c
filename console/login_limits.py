"""Counting failed logins without a race: one row per key (a username, a client address, a trusted
browser) in console_login_limits, changed only by single UPDATE statements.

An attempt is *claimed* before its password is checked: one UPDATE adds it to the count and, when the
count reaches the limit, sets the lock in the same statement, and only when the key is not locked
already. The database serialises concurrent UPDATEs of a row (PostgreSQL re-checks the WHERE clause
on the newest row version; SQLite takes its write lock), so however many requests arrive at once at
most `limit` passwords are checked in a window before the lock; the rest get 429 without a check.
A successful login forgives the attempts counted up to its own (`settle`); attempts that are still
in flight stay counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, case, delete, literal, null, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from console.models import LoginLimit, UTCDateTime

LIMITS: Table = LoginLimit.__table__  # type: ignore[assignment]


def user_key(username: str) -> str:
    return f"user:{username}"


def address_key(address: str | None) -> str:
    return f"addr:{address or 'unknown'}"


def device_key(token_hash: str, user_id: int) -> str:
    return f"device:{token_hash}:{user_id}"


@dataclass(frozen=True)
class Rule:
    limit: int
    """Attempts a key may have checked within `window` before it is locked for `window`."""
    window: timedelta


@dataclass(frozen=True)
class Claim:
    key: str
    number: int
    """This attempt's place in the key's current window (1 = the first)."""
    rule: Rule


def _at(moment: datetime) -> ColumnElement[datetime]:
    return literal(moment, UTCDateTime())


def claim(db: Session, key: str, rule: Rule, now: datetime) -> Claim | None:
    """Counts one attempt for `key` and commits; None (nothing counted) while the key is locked."""
    _ensure_row(db, key)
    c = LIMITS.c
    # Every right-hand side below reads the row as it was before this UPDATE (SQL semantics). A row
    # that passes the WHERE clause with a lock has an expired one: its window starts again.
    fresh = or_(c.window_ends.is_(None), c.window_ends <= _at(now), c.locked_until.is_not(None))
    count = case((fresh, 1), else_=c.failures + 1)
    statement = (
        update(LIMITS)
        .where(c.key == key, or_(c.locked_until.is_(None), c.locked_until <= _at(now)))
        .values(
            failures=count,
            window_ends=case((fresh, _at(now + rule.window)), else_=c.window_ends),
            locked_until=case((count >= rule.limit, _at(now + rule.window)), else_=null()),
        )
        .returning(c.failures)
    )
    number = db.execute(statement).scalar_one_or_none()
    db.commit()
    return None if number is None else Claim(key, int(number), rule)


def settle(db: Session, done: Claim) -> None:
    """A successful login: forgets the attempts counted up to and including this one (typos before
    the right password), and lifts the lock if no attempt made since is still counted."""
    _give_back(db, done.key, done.number, unlock_below=1)


def refund(db: Session, unused: Claim) -> None:
    """An attempt counted but never checked (another limit refused it first) does not count."""
    _give_back(db, unused.key, 1, unlock_below=unused.rule.limit)


def _give_back(db: Session, key: str, attempts: int, unlock_below: int) -> None:
    c = LIMITS.c
    db.execute(
        update(LIMITS)
        .where(c.key == key)
        .values(
            failures=case((c.failures > attempts, c.failures - attempts), else_=0),
            locked_until=case((c.failures - attempts >= unlock_below, c.locked_until), else_=null()),
        )
    )
    db.commit()


def retry_after(db: Session, key: str, now: datetime) -> int:
    """Whole seconds until `key` is unlocked (at least 1)."""
    until = db.scalar(select(LIMITS.c.locked_until).where(LIMITS.c.key == key))
    return max(1, math.ceil((until - now).total_seconds())) if until is not None else 1


def locked(db: Session, key: str, now: datetime) -> bool:
    until = db.scalar(select(LIMITS.c.locked_until).where(LIMITS.c.key == key))
    return until is not None and until > now


def clear(db: Session, key: str) -> bool:
    """Forgets a key's count and lock (an admin unlocking an account); True if it was locked."""
    removed = db.execute(delete(LIMITS).where(LIMITS.c.key == key).returning(LIMITS.c.locked_until)).all()
    db.commit()
    return any(until is not None for (until,) in removed)


def forget_expired(db: Session, now: datetime) -> None:
    """Drops rows whose window and lock are over (unknown usernames and addresses leave rows behind)."""
    c = LIMITS.c
    db.execute(
        delete(LIMITS).where(
            and_(
                or_(c.window_ends.is_(None), c.window_ends <= _at(now)),
                or_(c.locked_until.is_(None), c.locked_until <= _at(now)),
            )
        )
    )
    db.commit()


def _ensure_row(db: Session, key: str) -> None:
    """Inserts the key's row unless it exists, without a race between two first attempts."""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(LIMITS).values(key=key, failures=0).on_conflict_do_nothing(index_elements=["key"]))
