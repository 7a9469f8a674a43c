"""The optional second factor: a 6-digit code from an authenticator app (TOTP, RFC 6238, via pyotp).

Set-up: the console makes a random secret, shows it once (as an otpauth:// URI for the app, and as
text), keeps it as *pending*, and turns it on when the first code from the app matches. After that
every login of the account needs a current code. The secret stays in the console database: no API
answer carries it again. A code is accepted once (the step of the last accepted code is kept, and
only a later step passes, in one UPDATE), and codes of the neighbouring 30-second steps are accepted
for clocks that drift. Admins must use it where `Settings.admin_two_factor` (on in production)."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from console.models import User
from core.settings import Settings

ISSUER = "Mesotherapy assistant staff console"
DRIFT_STEPS = 1
"""Codes of one 30-second step before or after now are accepted too."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def setup_required(user: User, settings: Settings) -> bool:
    """An admin who must use a code (Settings.admin_two_factor) but has not set one up yet."""
    return user.role == "admin" and settings.admin_two_factor and not user.two_factor


def start(db: Session, user: User) -> Enrolment:
    """A new pending secret for the account (replacing any earlier pending one), shown this once."""
    secret = pyotp.random_base32()
    user.totp_pending = secret
    db.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return Enrolment(secret=secret, otpauth_uri=uri)


def confirm(db: Session, user: User, code: str, now: float | None = None) -> bool:
    """Turns the pending secret on when `code` is a current code of it."""
    if user.totp_pending is None:
        return False
    step = _matching_step(user.totp_pending, code, now)
    if step is None:
        return False
    user.totp_secret, user.totp_pending, user.totp_last_step = user.totp_pending, None, step
    db.commit()
    return True


def check(db: Session, user: User, code: str, now: float | None = None) -> bool:
    """True, once, for a current code of the account's secret."""
    if user.totp_secret is None:
        return False
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        return False
    used = db.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
    )
    db.commit()
    return bool(getattr(used, "rowcount", 0))


def reset(user: User) -> None:
    """Turns the second factor off (an admin helping someone who lost their phone); the caller commits."""
    user.totp_secret = user.totp_pending = user.totp_last_step = None


def _matching_step(secret: str, code: str, now: float | None) -> int | None:
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step  # every candidate is compared: the time taken does not tell which matched
    return found
