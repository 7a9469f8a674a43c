"""Staff accounts (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel
from sqlalchemy import delete, select

from console import audit
from console.accounts import AccountError, add_user
from console.deps import DB, Admin, client_ip
from console.models import LoginSession, User
from console.schemas import Problem, UserIn, UserOut, UserPatch
from console.security import hash_password, password_problem


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


@router.get("", response_model=list[UserOut])
def list_users(staff: Admin, db: DB) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))


@router.post("", response_model=UserOut, status_code=201, responses={409: {"model": Problem}, **UNPROCESSABLE})
def create_user(body: UserIn, staff: Admin, request: Request, db: DB) -> User:
    try:
        return add_user(db, body.username, body.password, body.role, staff.username, client_ip(request))
    except AccountError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.patch("/{user_id}", response_model=UserOut, responses={404: {"model": Problem}, **UNPROCESSABLE})
def update_user(
    user_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: UserPatch, staff: Admin, request: Request, db: DB
) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    if user.id == staff.user.id and (body.active is False or (body.role and body.role != "admin")):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "you cannot disable or demote your own account")
    changes: dict[str, object] = {}
    if body.role is not None:
        user.role = changes["role"] = body.role
    if body.active is not None:
        user.active = changes["active"] = body.active
    if body.password is not None:
        problem = password_problem(body.password, user.username)
        if problem:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, problem)
        user.password_hash = hash_password(body.password)
        changes["password"] = "changed"
    if body.active is False or body.password is not None or body.role is not None:
        db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))  # log them out everywhere
    db.commit()
    audit.record(db, "user_update", staff.username, user.username, client_ip(request), **changes)
    return user
