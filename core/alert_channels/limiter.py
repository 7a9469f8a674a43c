"""The rate limit on one role's alert messages, and what happens to alerts over it.

Policy: a role gets at most `limit` messages within any `window` seconds (email and its webhooks count as
one message). An alert over the limit is held, never dropped; everything held goes out together as one
message ("3 more emergencies") as soon as the limit allows, and no later than `emergency_wait` seconds
after the first held emergency, limit or not. So a burst of alerts costs a role a few messages, and an
emergency reaches it late by at most `emergency_wait`, never silently not at all.

Pure logic with the clock passed in; standard library only.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.alerts import Alert


class RoleLimiter:
    def __init__(self, limit: int, window: float, emergency_wait: float) -> None:
        self.limit = limit
        self.window = window
        self.emergency_wait = emergency_wait
        self._sent: deque[float] = deque()
        self._held: list[Alert] = []
        self._emergency_since: float | None = None

    @property
    def held(self) -> int:
        return len(self._held)

    def offer(self, alert: Alert, now: float) -> list[Alert] | None:
        """What to send now for this new alert: itself, everything held with it, or nothing (held)."""
        if not self._held and self._slot_free(now):
            self._sent.append(now)
            return [alert]
        self._held.append(alert)
        if alert.kind == "emergency" and self._emergency_since is None:
            self._emergency_since = now
        return self.due(now)

    def due(self, now: float) -> list[Alert] | None:
        """Everything held, if it may go now (a free slot, or an emergency held long enough)."""
        if not self._held:
            return None
        overdue = self._emergency_since is not None and now >= self._emergency_since + self.emergency_wait
        if not (self._slot_free(now) or overdue):
            return None
        self._sent.append(now)
        batch, self._held, self._emergency_since = self._held, [], None
        return batch

    def next_due(self) -> float | None:
        """When `due` may next return something (None: nothing is held)."""
        if not self._held:
            return None
        # the slot that frees first once only limit - 1 of the messages sent are still within the window
        excess = len(self._sent) - self.limit
        when = self._sent[excess] + self.window if excess >= 0 else 0.0
        if self._emergency_since is not None:
            when = min(when, self._emergency_since + self.emergency_wait)
        return when

    def _slot_free(self, now: float) -> bool:
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        return len(self._sent) < self.limit
