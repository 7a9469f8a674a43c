"""Web widget sessions, issued by the server: the patient's only key to their web chat.

A session is a random token (`secrets.token_urlsafe(32)`, 256 bits) given to the widget once, when the
patient has agreed to the privacy notice; the widget sends it back in the `Authorization: Bearer`
header, never in a URL. The server keeps only its SHA-256 (a leaked table row opens nothing; a slow
hash is not needed for a random 256-bit secret) and the conversation's sender id, `web-` and 16
random hex digits chosen by the server with the session. The sender id is therefore not a secret:
it shows up in logs, alerts and the console, and knowing it gives no way in, since every widget
request is looked up by the token's hash. A session unused for `idle_days` ends.

One small table (`webchat_sessions`) in the tracker database, or MESO_CHANNEL_DB_URL, like the
channels' delivery log: SQLite or PostgreSQL. Created on first use, so a database that is briefly
down at start-up does not stop Rasa; the widget then gets a 503 and retries.

Standard library and SQLAlchemy only (1.4 in the Rasa environment, 2.x in the app's).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

SENDER_PREFIX = "web-"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
"""What `secrets.token_urlsafe(32)` gives: anything else is refused before the database is asked."""
TOUCH_SECONDS = 300.0
"""A session's last use is written at most this often (the widget polls every few seconds)."""
SWEEP_EVERY = 200
"""Ended sessions are deleted every this many issued ones."""

metadata = sa.MetaData()
sessions = sa.Table(
    "webchat_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("sender_id", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False, index=True),
)


@dataclass(frozen=True)
class Issued:
    token: str
    """The secret: returned to the widget once, never stored or logged."""
    sender_id: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class WidgetSessions:
    """Issues, resolves and ends widget sessions. Blocking (SQLAlchemy): call from a worker thread."""

    def __init__(self, url: str, idle_days: float) -> None:
        self.url = url
        self.idle_seconds = idle_days * 24 * 3600
        self._engine: sa.engine.Engine | None = None
        self._lock = threading.Lock()
        self._issued = 0

    @property
    def engine(self) -> sa.engine.Engine:
        with self._lock:
            if self._engine is None:
                connect_args = {"timeout": 15} if self.url.startswith("sqlite") else {}
                engine = sa.create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
                metadata.create_all(engine, checkfirst=True)
                self._engine = engine
            return self._engine

    def issue(self) -> Issued:
        """A new session and its conversation's sender id."""
        now = time.time()
        for _ in range(3):  # a clash of 64 random bits is next to impossible; never reuse a conversation
            issued = Issued(secrets.token_urlsafe(32), SENDER_PREFIX + secrets.token_hex(8))
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        sessions.insert().values(
                            token_hash=token_hash(issued.token),
                            sender_id=issued.sender_id,
                            created_at=now,
                            last_seen_at=now,
                        )
                    )
            except IntegrityError:
                continue
            self._issued += 1
            if self._issued % SWEEP_EVERY == 0:
                self.forget_idle(now)
            return issued
        raise RuntimeError("could not issue a unique widget session")

    def resolve(self, token: str) -> str | None:
        """The sender id of a live session, or None (unknown, malformed or ended)."""
        if not TOKEN.fullmatch(token):
            return None
        now = time.time()
        key = token_hash(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(sessions.c.sender_id, sessions.c.last_seen_at).where(sessions.c.token_hash == key)
            ).first()
            if row is None:
                return None
            sender_id, last_seen = str(row[0]), float(row[1])
            if now - last_seen > self.idle_seconds:
                conn.execute(sessions.delete().where(sessions.c.token_hash == key))
                return None
            if now - last_seen > TOUCH_SECONDS:
                conn.execute(sessions.update().where(sessions.c.token_hash == key).values(last_seen_at=now))
        return sender_id

    def end(self, token: str) -> bool:
        """Ends a session (the patient's "Forget this chat on this device"). True if it existed."""
        if not TOKEN.fullmatch(token):
            return False
        with self.engine.begin() as conn:
            result = conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash(token)))
        return bool(result.rowcount)

    def forget_idle(self, now: float | None = None) -> int:
        """Deletes the sessions unused for longer than the idle limit; returns how many."""
        cutoff = (time.time() if now is None else now) - self.idle_seconds
        try:
            with self.engine.begin() as conn:
                result = conn.execute(sessions.delete().where(sessions.c.last_seen_at < cutoff))
        except sa.exc.SQLAlchemyError:
            log.exception("could not delete ended widget sessions (tried again later)")
            return 0
        return int(result.rowcount or 0)


def end_conversations(engine: sa.engine.Engine, sender_ids: list[str]) -> int:
    """Ends every widget session that opens one of these conversations (an erased or purged patient's):
    a device that kept the token opens nothing afterwards. Returns how many ended; no table yet -> 0."""
    senders = [s for s in sender_ids if s.startswith(SENDER_PREFIX)]
    if not senders or not sa.inspect(engine).has_table(sessions.name):
        return 0
    ended = 0
    with engine.begin() as conn:
        for start in range(0, len(senders), 500):
            result = conn.execute(sessions.delete().where(sessions.c.sender_id.in_(senders[start : start + 500])))
            ended += int(result.rowcount or 0)
    return ended
