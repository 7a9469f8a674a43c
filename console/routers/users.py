"""Staff accounts (admins only): add, change role, disable, set a password, lift a lock after failed
logins, reset a lost authenticator code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel
from sqlalchemy import delete, select

from console import audit, login_limits, two_factor
from console.accounts import AccountError, add_user, password_context, set_password
from console.deps import DB, Admin, SettingsDep, client_ip
from console.models import LoginSession, User
from console.schemas import Problem, UserIn, UserOut, UserPatch


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidRequest(BaseModel):
    detail: list[FieldError]


# 422 is either a rule these routes check (a message) or FastAPI's own request validation (a list):
# declaring the first alone would hide the second from the schema.
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {422: {"model": Problem | InvalidRequest}}

router = APIRouter(prefix="/api/users", tags=["users"], responses={401: {"model": Problem}, 403: {"model": Problem}})


def user_out(db: DB, user: User) -> UserOut:
    locked = login_limits.locked(db, login_limits.user_key(user.username), datetime.now(UTC))
    return UserOut.model_validate(user).model_copy(update={"locked": locked})


@router.get("", response_model=list[UserOut])
def list_users(staff: Admin, db: DB) -> list[UserOut]:
    return [user_out(db, u) for u in db.scalars(select(User).order_by(User.username))]


@router.post("", response_model=UserOut, status_code=201, responses={409: {"model": Problem}, **UNPROCESSABLE})
def create_user(body: UserIn, staff: Admin, request: Request, db: DB, settings: SettingsDep) -> UserOut:
    try:
        user = add_user(
            db,
            body.username,
            body.password,
            body.role,
            staff.username,
            client_ip(request),
            context=password_context(settings),
        )
    except AccountError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    return user_out(db, user)


@router.patch("/{user_id}", response_model=UserOut, responses={404: {"model": Problem}, **UNPROCESSABLE})
def update_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: UserPatch,
    staff: Admin,
    request: Request,
    db: DB,
    settings: SettingsDep,
) -> UserOut:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    if user.id == staff.user.id and (body.active is False or (body.role and body.role != "admin")):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "you cannot disable or demote your own account")
    changes: dict[str, object] = {}
    if body.password is not None:
        try:
            set_password(db, user, body.password, password_context(settings))
        except AccountError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        changes["password"] = "changed"
    if body.role is not None:
        user.role = changes["role"] = body.role
    if body.active is not None:
        user.active = changes["active"] = body.active
    if body.reset_two_factor:
        two_factor.reset(user)
        changes["two_factor"] = "reset"
    if body.active is False or body.role is not None or body.reset_two_factor:
        db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))  # log them out everywhere
    db.commit()
    if body.unlock and login_limits.clear(db, login_limits.user_key(user.username)):
        changes["unlocked"] = True
    audit.record(db, "user_update", staff.username, user.username, client_ip(request), **changes)
    return user_out(db, user)
