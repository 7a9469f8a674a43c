"""A lock store that keeps patients answered while Redis is down: Rasa's Redis lock store, except that a
call that cannot reach Redis uses this process's own in-memory locks instead of failing the turn.

Rasa holds a conversation's lock (in Redis, shared by every Rasa process) while it runs one message, so
two processes never run the same conversation at once. With stock Rasa, while Redis is unreachable every
turn fails: each patient gets the channel's fallback ("couldn't process that just now"), and the
fallback cannot even be stored, because storing it takes the same lock. Here, while Redis is down, each
process keeps locks of its own: one process still runs a conversation's messages one at a time, and only
two messages of the same conversation arriving at two different processes within the same second could
run side by side (a patient's widget sends one message at a time). The outage is logged as an error when
it starts and when it ends; Redis is tried again every RETRY_SECONDS. A lock taken in memory during the
outage is released in memory.

endpoints.yml (written by bot/rasa_config.py) names it by module path:

    lock_store:
      type: bot.lock_store.DegradingRedisLockStore
      url: localhost
      port: 6379
      db: 1

Runs inside the Rasa server (Python 3.10 environment).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
"""While Redis is down, how long a process keeps to its own locks before trying Redis again."""
T = TypeVar("T")


def unreachable(exc: BaseException) -> bool:
    """Redis cannot be reached (refused, reset, timed out, still loading): not a lock held by someone."""
    import redis

    return isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError))


class DegradingRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Any = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.local = InMemoryLockStore()
        self.down_since: float | None = None
        self.next_try = 0.0
        self._state = threading.Lock()

    def _either(self, remote: Callable[[], T], local: Callable[[], T], conversation_id: str) -> T:
        now = time.monotonic()
        if self.down_since is not None and now < self.next_try:
            return local()
        try:
            result = remote()
        except Exception as exc:
            if not unreachable(exc):
                raise
            with self._state:
                if self.down_since is None:
                    self.down_since = now
                    log.error(
                        "the Redis lock store is unreachable (%s): conversations are locked in this process only "
                        "until it answers again (conversation %s)",
                        exc,
                        conversation_id,
                    )
                self.next_try = now + RETRY_SECONDS
            return local()
        if self.down_since is not None:
            with self._state:
                if self.down_since is not None:
                    log.error("the Redis lock store answers again after %.0f s", now - self.down_since)
                    self.down_since = None
        return result

    def _route(self, conversation_id: str, remote: Callable[[], T], local: Callable[[], T]) -> T:
        """A lock taken in memory during an outage is finished in memory; any other goes to Redis while it
        answers (`_either`)."""
        if self.local.get_lock(conversation_id) is not None:
            return local()
        return self._either(remote, local, conversation_id)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._route(
            conversation_id,
            lambda: super(DegradingRedisLockStore, self).get_lock(conversation_id),
            lambda: self.local.get_lock(conversation_id),
        )

    def delete_lock(self, conversation_id: str) -> None:
        self._route(
            conversation_id,
            lambda: super(DegradingRedisLockStore, self).delete_lock(conversation_id),
            lambda: self.local.delete_lock(conversation_id),
        )

    def save_lock(self, lock: TicketLock) -> None:
        self._route(
            lock.conversation_id,
            lambda: super(DegradingRedisLockStore, self).save_lock(lock),
            lambda: self.local.save_lock(lock),
        )
