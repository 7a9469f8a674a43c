"""The console database: engine, sessions, and Alembic migrations run at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            # A record written with invalid UTF-8 by something other than Rasa reads with U+FFFD
            # instead of failing every screen that touches it (PostgreSQL refuses such bytes on write).
            dbapi_connection.text_factory = lambda raw: raw.decode("utf-8", "replace")

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(url: str) -> None:
    """Brings the console's tables up to the latest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


@lru_cache(maxsize=4)
def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(make_engine(url), expire_on_commit=False)


def session_scope(url: str) -> Iterator[Session]:
    with session_factory(url)() as session:
        yield session
