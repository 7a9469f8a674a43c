"""A tracker store that fails closed: Rasa's SQL tracker store, except that a database it cannot read
or write is an error that is logged loudly and alerts staff, never a silent switch to memory.

Rasa 3.6 falls back to memory in three places, all closed here:

- `Agent` wraps every tracker store in `FailSafeTrackerStore`, whose `retrieve` answers None (so
  the conversation starts again from nothing: no consent, no handoff) and whose `save` writes to an
  `InMemoryTrackerStore` when the database fails. `fail_closed(agent)` gives that wrapper an error
  callback that raises the error again, so the turn fails and the channel's fallback answers
  (bot/channels/common.py); `collect_turn` calls it on every turn and `require_fail_closed` once
  at start-up (a listener on the REST channel, which is always on).
- A tracker store type that cannot be imported becomes an `InMemoryTrackerStore` with a warning:
  `require_fail_closed` stops Rasa at start-up unless the store in use is this one.
- `SQLTrackerStore.__init__` retries forever while the database is unreachable, and only logs a
  failure to create its table. Here start-up waits at most `start_timeout` seconds for a database
  that accepts a write (a probe row, rolled back), then refuses to start with a clear message.

endpoints.yml (written by bot/rasa_config.py) names it by module path:

    tracker_store:
      type: bot.tracker_store.FailClosedSQLTrackerStore
      dialect: sqlite
      db: var/rasa/tracker.db
      start_timeout: 60

Runs inside the Rasa server (Python 3.10 environment).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from rasa.shared.exceptions import RasaException

from bot.runtime import staff_alerts

log = logging.getLogger(__name__)
T = TypeVar("T")

PROBE_SENDER = "__meso_write_probe__"
ALERT_EVERY = 300.0
"""Seconds between two staff alerts about the same conversation's storage (each failure is logged)."""
PAST = {"read": "read", "store": "stored", "list": "listed"}


class TrackerStoreUnavailable(RasaException):
    """The tracker database cannot be read or written (at start-up: Rasa refuses to start)."""


class FailClosedSQLTrackerStore(SQLTrackerStore):
    def __init__(
        self,
        domain: Any = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: Any = None,
        login_db: str | None = None,
        query: dict[str, Any] | None = None,
        start_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        deadline = time.monotonic() + float(start_timeout)
        url = self.get_db_url(dialect, host, port, db, username, password, login_db, query)
        where = _safe_url(url)
        # SQLTrackerStore.__init__ retries forever while the database is unreachable: wait here, bounded.
        _wait_until(deadline, where, lambda: _can_connect(url))
        super().__init__(domain, dialect, host, port, db, username, password, event_broker, login_db, query, **kwargs)
        self.where = where
        _wait_until(deadline, where, self._probe_write)
        self._alerted: dict[str, float] = {}
        self._alert_lock = threading.Lock()
        log.info("tracker store ready: %s (fails closed, never falls back to memory)", where)

    def _probe_write(self) -> None:
        """A row written and rolled back: proves the database accepts writes (not read-only, not locked)."""
        table = self.SQLEvent.__table__
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.execute(
                    table.insert().values(
                        sender_id=PROBE_SENDER, type_name="write_probe", timestamp=time.time(), data="{}"
                    )
                )
            finally:
                transaction.rollback()

    # -- the operations Rasa calls: any failure is reported, then raised --------------------------

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        try:
            return await once_more_if_reconnected(
                lambda: super(FailClosedSQLTrackerStore, self)._retrieve(sender_id, fetch_events_from_all_sessions),
                f"reading {sender_id!r}",
            )
        except Exception as error:
            raise self._failed("read", sender_id, error) from error

    async def save(self, tracker: Any) -> None:
        try:
            # a failed transaction was rolled back; Rasa stores only the events the database lacks
            await once_more_if_reconnected(
                lambda: super(FailClosedSQLTrackerStore, self).save(tracker), f"storing {tracker.sender_id!r}"
            )
        except Exception as error:
            raise self._failed("store", tracker.sender_id, error) from error

    async def keys(self) -> Any:
        try:
            return await super().keys()
        except Exception as error:
            raise self._failed("list", "", error) from error

    def count_events(self, sender_id: str) -> int:
        """How many events the conversation holds in the database, every session included: the length of
        `retrieve_full_tracker(sender_id).events`, read with one indexed count instead of every event
        (the widget's poll asks whether anything is new, bot/channels/webchat.py). Blocking: run it in a
        thread. A failure raises (the caller then reads the whole conversation, which fails closed)."""
        event = self.SQLEvent
        with self.session_scope() as session:
            found = session.query(sa.func.count(event.id)).filter(event.sender_id == sender_id).scalar()
        return int(found or 0)

    def _failed(self, operation: str, sender_id: str, error: Exception) -> TrackerStoreUnavailable:
        if isinstance(error, TrackerStoreUnavailable):
            return error
        what = describe(error)
        message = (
            f"TRACKER STORE FAILURE: could not {operation} conversation {sender_id!r} in {self.where}: {what}. "
            "Nothing is kept in memory instead: the turn fails, the channel answers by itself and staff are alerted."
        )
        log.error(message)
        now = time.monotonic()
        with self._alert_lock:
            due = now - self._alerted.get(sender_id, -ALERT_EVERY) >= ALERT_EVERY
            if due:
                if len(self._alerted) > 10_000:
                    self._alerted.clear()
                self._alerted[sender_id] = now
        if due:
            try:
                staff_alerts().send(
                    "handoff",
                    sender_id or "(all conversations)",
                    "tracker_store",
                    f"The conversation could not be {PAST[operation]} ({what}): its messages may be missing "
                    "from the console. Check the tracker database.",
                    f"tracker_store_error:{operation}",
                )
            except Exception:
                log.exception("could not write the staff alert about the tracker store failure")
        return TrackerStoreUnavailable(message)


async def once_more_if_reconnected(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """`operation`, run a second time when the first failed on a connection the database dropped."""
    try:
        return await operation()
    except Exception as error:
        if not reconnected(error):
            raise
        log.warning("the tracker database was reconnected (it restarted): %s again", what)
        return await operation()


def reconnected(error: BaseException) -> bool:
    """The database dropped a pooled connection (a restart, a failover): SQLAlchemy has renewed the pool, so
    trying once more reaches the database if it is back."""
    return isinstance(error, sa.exc.DBAPIError) and bool(error.connection_invalidated)


def describe(error: BaseException) -> str:
    """A short description: the database driver's own message (SQLAlchemy's adds the whole statement)."""
    cause = getattr(error, "orig", None) or error
    return f"{type(cause).__name__}: {str(cause)[:300]}"


def _safe_url(url: Any) -> str:
    """The database URL without its password, for messages."""
    try:
        return str(sa.engine.make_url(url).render_as_string(hide_password=True))
    except Exception:
        return "the tracker database"


def _can_connect(url: Any) -> None:
    engine = sa.create_engine(url, **create_engine_kwargs(url))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()


def _wait_until(deadline: float, where: str, attempt: Any) -> None:
    """Runs `attempt` until it succeeds; once the deadline has passed, refuses to start."""
    while True:
        try:
            attempt()
            return
        except Exception as error:
            if time.monotonic() >= deadline:
                raise TrackerStoreUnavailable(
                    f"the tracker database {where} does not accept reads and writes ({describe(error)}). Rasa refuses to start rather than keep conversations in memory: fix the "
                    "database (is it running, reachable, writable, not locked?) or MESO_TRACKER_DB_URL, "
                    "or wait longer with MESO_TRACKER_START_TIMEOUT_SECONDS."
                ) from error
            log.warning("tracker database %s not ready (%s): retrying", where, describe(error))
            time.sleep(1.0)


def _reraise(error: Exception) -> None:
    raise error


def fail_closed(agent: Any) -> bool:
    """Makes the agent's tracker store raise instead of falling back to memory (idempotent). True when
    the store underneath is a `FailClosedSQLTrackerStore`."""
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore):
        if getattr(store, "_on_tracker_store_error", None) is not _reraise:
            store._on_tracker_store_error = _reraise
        store = getattr(store, "_tracker_store", None)
    return isinstance(store, FailClosedSQLTrackerStore)


def underlying(store: Any) -> Any:
    """The tracker store under Rasa's `FailSafeTrackerStore` wrapper (the store itself when unwrapped)."""
    return getattr(store, "_tracker_store", store) if isinstance(store, FailSafeTrackerStore) else store


async def require_fail_closed(app: Any, _loop: Any) -> None:
    """Sanic listener (after_server_start): stops Rasa unless conversations go to this store."""
    agent = getattr(app.ctx, "agent", None)
    if agent is not None and fail_closed(agent):
        log.info("conversations go to %s only: a database failure fails the turn", FailClosedSQLTrackerStore.__name__)
        return
    store = getattr(getattr(agent, "tracker_store", None), "_tracker_store", None)
    raise TrackerStoreUnavailable(
        f"the tracker store in use is {type(store).__name__}, not {FailClosedSQLTrackerStore.__name__}: "
        "conversations would be kept in memory and lost. Check the tracker_store type in endpoints.yml "
        "(written by bot/rasa_config.py) and that the bot package is importable (PYTHONPATH)."
    )
