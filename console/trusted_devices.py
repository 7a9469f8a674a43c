"""Browsers trusted for an account: where it has logged in before. A stranger who types wrong
passwords for a username locks that username everywhere else, but not in its owner's own browser,
whose attempts are counted on their own (console/login_limits.py, `device:` keys). So nobody can keep
a staff member out by guessing, and a guesser gets no more tries from the trust (they have no such
browser). The cookie holds a random token for the browser (one token, trusted for each account that
logged in there: a shared clinic computer works for all of them); only its SHA-256 is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.models import TrustedDevice
from console.security import new_token, token_hash

COOKIE = "meso_console_device"
COOKIE_PATH = "/api/auth"
KEEP = timedelta(days=90)
"""Trust ends after this long without a login from the browser."""


def find(db: Session, token: str | None, user_id: int, now: datetime) -> TrustedDevice | None:
    """The browser's trust for this account, if its cookie holds a token trusted for it, unexpired."""
    if not token or len(token) > 128:
        return None
    device = db.get(TrustedDevice, (token_hash(token), user_id))
    return device if device is not None and device.last_used_at > now - KEEP else None


def remember(db: Session, token: str | None, user_id: int, now: datetime) -> str:
    """After a successful login: trusts this browser for the account (a new token unless its cookie
    holds one the console issued) and returns the token for the cookie."""
    if not token or not _issued(db, token):
        token = new_token()
    device = db.get(TrustedDevice, (token_hash(token), user_id))
    if device is None:
        db.add(TrustedDevice(token_hash=token_hash(token), user_id=user_id, created_at=now, last_used_at=now))
    else:
        device.last_used_at = now
    db.execute(delete(TrustedDevice).where(TrustedDevice.last_used_at <= now - KEEP))
    db.commit()
    return token


def _issued(db: Session, token: str) -> bool:
    """A token the console gave some browser (one it never issued is not adopted)."""
    if len(token) > 128:
        return False
    found = db.scalar(select(TrustedDevice.user_id).where(TrustedDevice.token_hash == token_hash(token)).limit(1))
    return found is not None


def forget_user(db: Session, user_id: int) -> None:
    """Ends the trust of every browser for an account (its password was changed or reset)."""
    db.execute(delete(TrustedDevice).where(TrustedDevice.user_id == user_id))
