"""Checking a staff login, in an order that leaks nothing and cannot be raced:

1. limits (console/login_limits.py), counted before anything is checked: per client address and per
   username, or, from a browser where the account has logged in before, per that browser alone
   (console/trusted_devices.py);
2. the password: always one argon2 verification, against a dummy hash for an unknown username, and an
   unknown username has a limit row of its own, so known and unknown usernames take the same work,
   the same answer, and lock the same way;
3. the authenticator code, for accounts that set one up (console/two_factor.py).

A refusal is a LoginRefused (401 wrong credentials, 429 with Retry-After for a lock)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from console import audit, login_limits, trusted_devices, two_factor
from console.login_limits import Claim, Rule
from console.models import User
from console.security import verify_password
from core.settings import Settings

WRONG = "wrong username or password"


class LoginRefused(Exception):
    def __init__(self, status: int, detail: str, retry_after: int | None = None, need: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after, self.need = status, detail, retry_after, need

    def response(self) -> JSONResponse:
        body: dict[str, str] = {"detail": self.detail}
        if self.need:
            body["need"] = self.need
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after else None
        return JSONResponse(body, status_code=self.status, headers=headers)


@dataclass(frozen=True)
class Checked:
    """A password that was right: the account, and the attempts to forgive once the login completes."""

    user: User
    claims: tuple[Claim, ...]


def check_password(
    db: Session,
    settings: Settings,
    username: str,
    password: str,
    address: str | None,
    device_token: str | None,
    now: datetime,
) -> Checked:
    user = db.scalars(select(User).where(User.username == username)).first()
    window = timedelta(minutes=settings.console_login_lock_minutes)
    account = Rule(settings.console_login_max_failures, window)
    device = trusted_devices.find(db, device_token, user.id, now) if user is not None else None
    if device is not None:
        limits = [(login_limits.device_key(device.token_hash, device.user_id), account, "account")]
    else:
        limits = [
            (login_limits.address_key(address), Rule(settings.console_login_address_max_failures, window), "address"),
            (login_limits.user_key(username), account, "account"),
        ]
    claims: list[Claim] = []
    for key, rule, what in limits:
        claimed = login_limits.claim(db, key, rule, now)
        if claimed is None:
            for earlier in claims:
                login_limits.refund(db, earlier)
            wait = login_limits.retry_after(db, key, now)
            audit.record(db, "login_throttled" if what == "address" else "login_locked", username[:64], ip=address)
            raise LoginRefused(429, _locked_message(what, wait), retry_after=wait)
        claims.append(claimed)
    right = verify_password(user.password_hash if user is not None else None, password)
    if not right or user is None or not user.active:
        audit.record(db, "login_failed", username[:64], ip=address)
        raise LoginRefused(401, WRONG)
    return Checked(user, tuple(claims))


def check_code(db: Session, checked: Checked, code: str | None, address: str | None) -> None:
    """The second factor, for accounts that have one: a missing code asks for it (the password was
    right; the attempt stays counted until the login completes), a wrong or reused one is a failure."""
    user = checked.user
    if not user.two_factor:
        return
    if not code or not code.strip():
        raise LoginRefused(401, "enter the 6-digit code from your authenticator app", need="code")
    if not two_factor.check(db, user, code):
        audit.record(db, "login_failed", user.username, ip=address, factor="code")
        raise LoginRefused(
            401, "that code is wrong or was used already: enter the current code from your app", need="code"
        )


def complete(db: Session, checked: Checked) -> None:
    """The login succeeded: the attempts counted up to it are forgiven."""
    for claim in checked.claims:
        login_limits.settle(db, claim)


def _locked_message(what: str, seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if what == "address":
        return f"too many failed logins from your network: try again in {wait}"
    return (
        f"too many failed attempts for this username: try again in {wait} or ask an administrator to unlock it "
        "(a browser where you have logged in before is not locked)"
    )
