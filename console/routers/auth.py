"""Login, logout, who am I."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import delete

from console import audit
from console.deps import COOKIE, DB, CurrentStaff, SettingsDep, client_ip, user_by_name
from console.models import LoginSession
from console.schemas import LoginIn, Me, Problem
from console.security import new_token, token_hash, verify_password

router = APIRouter(prefix="/api/auth", tags=["auth"])

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)


@router.post("/login", response_model=Me, responses={401: {"model": Problem}, 429: {"model": Problem}})
def login(body: LoginIn, request: Request, response: Response, db: DB, settings: SettingsDep) -> Me:
    now = datetime.now(UTC)
    user = user_by_name(db, body.username)
    ip = client_ip(request)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(db, "login_locked", body.username, ip=ip)
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed attempts: try again in 15 minutes")
    if user is None or not user.active or not verify_password(user.password_hash if user else None, body.password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until, user.failed_logins = now + LOCKOUT, 0
            db.commit()
        audit.record(db, "login_failed", body.username[:64], ip=ip)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    token, csrf = new_token(), new_token()
    expires = now + timedelta(minutes=settings.console_session_minutes)
    db.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    db.add(
        LoginSession(token_hash=token_hash(token), user_id=user.id, csrf_token=csrf, created_at=now, expires_at=expires)
    )
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    db.commit()
    audit.record(db, "login", user.username, ip=ip)
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.console_session_minutes * 60,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )
    return Me(username=user.username, role=user.role, csrf_token=csrf, expires_at=expires)  # type: ignore[arg-type]


@router.post("/logout", status_code=204, responses={401: {"model": Problem}})
def logout(staff: CurrentStaff, request: Request, response: Response, db: DB) -> Response:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == staff.session.token_hash))
    db.commit()
    audit.record(db, "logout", staff.username, ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses={401: {"model": Problem}})
def me(staff: CurrentStaff) -> Me:
    return Me(
        username=staff.username,
        role=staff.role,  # type: ignore[arg-type]
        csrf_token=staff.session.csrf_token,
        expires_at=staff.session.expires_at,
    )
