"""The stores every Rasa process shares are there before anything starts: the PostgreSQL database (created
when it is missing, as `make run-cluster` on a new machine needs) and the Redis lock store (it answers PING in
the configured database). Each failure says where it looked and which variable points elsewhere; no message
holds a password."""

from __future__ import annotations

import re
import socket
from urllib.parse import unquote, urlparse, urlunparse

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
MAINTENANCE_DB = "postgres"
REDIS_TIMEOUT = 3.0


class StoreUnavailable(RuntimeError):
    """A shared store cannot be used; the message says what to do."""


def where(url: str) -> str:
    """A store's URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = f"{parsed.username}:***@{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "")
    return urlunparse(parsed._replace(netloc=netloc))


def ensure_database(url: str) -> bool:
    """Connects to the PostgreSQL database of `url`, creating it (through the `postgres` database, with the same
    account) when it does not exist. True when it was created."""
    name = (urlparse(url).path or "/").lstrip("/")
    if not DATABASE_NAME.fullmatch(name):
        raise StoreUnavailable(f"MESO_TRACKER_DB_URL ({where(url)}) must name a database (letters, digits, _)")
    try:
        _connect(url)
        return False
    except SQLAlchemyError as exc:
        if "does not exist" not in str(exc):
            raise StoreUnavailable(
                f"PostgreSQL at {where(url)} is not reachable ({_first_line(exc)}): start it, or point "
                "MESO_TRACKER_DB_URL at another server (docs/deploy.md)"
            ) from None
    maintenance = urlunparse(urlparse(url)._replace(path="/" + MAINTENANCE_DB))
    try:
        engine = sa.create_engine(maintenance, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except SQLAlchemyError as exc:
        if "already exists" in str(exc):  # another process created it meanwhile
            return False
        raise StoreUnavailable(
            f"database {name!r} does not exist and could not be created ({_first_line(exc)}): create it "
            f"(createdb {name}) or point MESO_TRACKER_DB_URL at an existing one"
        ) from None
    return True


def _connect(url: str) -> None:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]


def check_redis(url: str) -> None:
    """PING in the lock store's database (AUTH first when the URL has a password)."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "localhost", parsed.port or 6379
    db = (parsed.path or "/1").lstrip("/") or "1"
    commands: list[list[str]] = []
    if parsed.password:
        commands.append(["AUTH", *([unquote(parsed.username)] if parsed.username else []), unquote(parsed.password)])
    commands += [["SELECT", db], ["PING"]]
    try:
        with socket.create_connection((host, port), timeout=REDIS_TIMEOUT) as conn:
            reader = conn.makefile("rb")
            for command in commands:
                conn.sendall(_resp(command))
                answer = reader.readline().decode("utf-8", "replace").strip()
                if answer.startswith("-"):
                    raise StoreUnavailable(
                        f"Redis at {where(url)} refused {command[0]}: {answer[1:][:200]} (check MESO_LOCK_STORE_URL)"
                    )
    except OSError as exc:
        raise StoreUnavailable(
            f"Redis at {where(url)} is not reachable ({exc}): start it, or point MESO_LOCK_STORE_URL at another "
            "server (docs/deploy.md)"
        ) from None


def _resp(command: list[str]) -> bytes:
    """One command in Redis's protocol (RESP)."""
    out = [f"*{len(command)}\r\n".encode()]
    for part in command:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)
