"""Login (limits, password, authenticator code: console/authentication.py), logout, who am I, and
setting up the authenticator code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import delete

from console import audit, login_limits, trusted_devices, two_factor
from console.authentication import LoginRefused, check_code, check_password, complete
from console.deps import COOKIE, DB, CurrentStaff, SettingsDep, Staff, client_ip
from console.models import LoginSession, User
from console.routers.users import UNPROCESSABLE
from console.schemas import (
    LoginIn,
    LoginProblem,
    Me,
    Problem,
    TwoFactorCodeIn,
    TwoFactorSetupIn,
    TwoFactorSetupOut,
)
from console.security import hash_password, needs_rehash, new_token, token_hash
from core.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])


def me_of(user: User, session: LoginSession, settings: Settings) -> Me:
    return Me(
        username=user.username,
        role=user.role,  # type: ignore[arg-type]
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
        two_factor=user.two_factor,
        two_factor_setup_required=two_factor.setup_required(user, settings),
    )


@router.post(
    "/login",
    response_model=Me,
    responses={
        401: {"model": LoginProblem, "description": "wrong username or password; or the authenticator code is needed"},
        429: {"model": Problem, "description": "locked after failed logins (Retry-After: seconds)"},
    },
)
def login(body: LoginIn, request: Request, response: Response, db: DB, settings: SettingsDep) -> Me | JSONResponse:
    now = datetime.now(UTC)
    ip = client_ip(request)
    device_token = request.cookies.get(trusted_devices.COOKIE)
    try:
        checked = check_password(db, settings, body.username, body.password, ip, device_token, now)
        check_code(db, checked, body.code, ip)
    except LoginRefused as refused:
        return refused.response()
    complete(db, checked)
    user = checked.user
    token = new_token()
    session = LoginSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=new_token(),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.console_session_minutes),
    )
    db.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    db.add(session)
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(body.password)
    db.commit()
    device = trusted_devices.remember(db, device_token, user.id, now)
    login_limits.forget_expired(db, now)
    audit.record(db, "login", user.username, ip=ip)
    secure = settings.secure_cookies
    max_age = settings.console_session_minutes * 60
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, secure=secure, samesite="strict", path="/")
    response.set_cookie(
        trusted_devices.COOKIE,
        device,
        max_age=int(trusted_devices.KEEP.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="strict",
        path=trusted_devices.COOKIE_PATH,
    )
    return me_of(user, session, settings)


@router.post("/logout", status_code=204, responses={401: {"model": Problem}})
def logout(staff: CurrentStaff, request: Request, response: Response, db: DB) -> Response:
    db.execute(delete(LoginSession).where(LoginSession.token_hash == staff.session.token_hash))
    db.commit()
    audit.record(db, "logout", staff.username, ip=client_ip(request))
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=Me, responses={401: {"model": Problem}})
def me(staff: CurrentStaff, settings: SettingsDep) -> Me:
    return me_of(staff.user, staff.session, settings)


@router.post(
    "/two-factor/setup",
    response_model=TwoFactorSetupOut,
    responses={401: {"model": Problem}, 403: {"model": Problem}, 409: {"model": Problem}, 429: {"model": Problem}},
)
def two_factor_setup(
    body: TwoFactorSetupIn, staff: CurrentStaff, request: Request, db: DB, settings: SettingsDep
) -> TwoFactorSetupOut:
    """Starts setting up the authenticator code: the password again (a session left open on a shared
    computer is not enough), then a new secret, shown this once. Confirm it with a code next."""
    _password_again(db, settings, staff, body.password, request)
    if staff.user.two_factor:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "an authenticator code is already set up: an administrator can reset it"
        )
    enrolment = two_factor.start(db, staff.user)
    audit.record(db, "two_factor_setup", staff.username, staff.username, client_ip(request))
    return TwoFactorSetupOut(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri)


@router.post(
    "/two-factor/confirm",
    response_model=Me,
    responses={401: {"model": Problem}, 403: {"model": Problem}, 409: {"model": Problem}, **UNPROCESSABLE},
)
def two_factor_confirm(
    body: TwoFactorCodeIn, staff: CurrentStaff, request: Request, db: DB, settings: SettingsDep
) -> Me:
    """Turns the authenticator code on with a first code from the app: from now on every login of the
    account needs one."""
    if staff.user.two_factor:
        raise HTTPException(status.HTTP_409_CONFLICT, "an authenticator code is already set up")
    if staff.user.totp_pending is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "start the set-up first (POST /api/auth/two-factor/setup)")
    if not two_factor.confirm(db, staff.user, body.code):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            "the code does not match: type the current code from the app (and check the phone's clock)",
        )
    audit.record(db, "two_factor_on", staff.username, staff.username, client_ip(request))
    return me_of(staff.user, staff.session, settings)


def _password_again(db: DB, settings: Settings, staff: Staff, password: str, request: Request) -> None:
    """The logged-in user's password, under the same limits as a login (403, not 401: the session
    itself is fine)."""
    now = datetime.now(UTC)
    try:
        checked = check_password(
            db, settings, staff.username, password, client_ip(request), request.cookies.get(trusted_devices.COOKIE), now
        )
    except LoginRefused as refused:
        if refused.status == status.HTTP_429_TOO_MANY_REQUESTS:
            raise HTTPException(refused.status, refused.detail, {"Retry-After": str(refused.retry_after)}) from None
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong password") from None
    complete(db, checked)
