"""Delivers staff alerts by email and to Slack-compatible webhooks, per role, in background threads, so
the patient's reply never waits for a mail server or a chat service.

`AlertDelivery.submit` only queues the alert and returns (it never raises). One thread routes alerts to
the roles that get their kind and applies each role's rate limit (limiter.py), one sends emails and one
posts to webhooks; a failed attempt is logged and tried again later (`DeliveryConfig.retry_delays`), and
one that cannot succeed (a refused login or recipient, a 4xx answer) or runs out of attempts is logged as
an error naming the kind and the reference. The alerts file, written before anything is queued here
(core/alerts.py), stays the record whatever happens to a message.

The rate limit is counted per process: the action server raises nearly every alert, and Rasa's own
alerts (its fail-closed answers, a tracker store failure) are counted in Rasa's process.

Standard library only (the Rasa environment imports it).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from core.alert_channels import messages, transports
from core.alert_channels.config import DeliveryConfig, RoleRoute, from_settings
from core.alert_channels.limiter import RoleLimiter

if TYPE_CHECKING:
    from core.alerts import Alert

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "MESO_ALERT_DELIVERY"
"""The delivery configuration as JSON, for the Rasa process (scripts/run.sh sets it from the settings)."""


class _Lane:
    """One daemon thread running jobs at their due time (time.monotonic), in order of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._cv = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, job: Callable[[], None]) -> None:
        with self._cv:
            if self._closed:
                return
            heapq.heappush(self._jobs, (time.monotonic() + max(delay, 0.0), next(self._order), job))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"alert-{self.name}", daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def idle(self) -> bool:
        with self._cv:
            return not self._jobs and not self._busy

    def close(self, timeout: float) -> None:
        with self._cv:
            self._closed = True
            self._jobs.clear()
            self._cv.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (not self._jobs or self._jobs[0][0] > time.monotonic()):
                    self._cv.wait(self._jobs[0][0] - time.monotonic() if self._jobs else None)
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._jobs)
                self._busy = True
            try:
                job()
            except Exception:
                log.exception("staff alert %s job failed", self.name)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()


class AlertDelivery:
    def __init__(self, config: DeliveryConfig) -> None:
        self.config = config
        self._limiters = {
            route.role: RoleLimiter(config.rate_limit, config.rate_window, config.emergency_wait)
            for route in config.routes
        }
        self._armed: dict[str, float] = {}
        self._router = _Lane("router")
        self._email = _Lane("email")
        self._webhook = _Lane("webhook")

    def submit(self, alert: Alert) -> None:
        """Queues `alert` for every role that gets its kind; returns at once and never raises."""
        try:
            if self.config.routes_for(alert.kind):
                self._router.schedule(0, lambda: self._route(alert))
        except Exception:
            log.exception("could not queue staff alert %s %s for email/chat", alert.kind, alert.patient_ref)

    def drain(self, timeout: float) -> bool:
        """Waits until nothing is queued, held or being retried (tests, shutdown); False if `timeout` passed."""
        deadline = time.monotonic() + timeout
        lanes = (self._router, self._email, self._webhook)
        while time.monotonic() < deadline:
            if all(lane.idle() for lane in lanes):  # in this order: a router job queues sends while busy
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 5.0) -> None:
        """Stops the threads; whatever is still queued or held is not sent (the alerts file has it)."""
        for lane in (self._router, self._email, self._webhook):
            lane.close(timeout)

    # Runs on the router thread: the limiters and `_armed` are touched only there.

    def _route(self, alert: Alert) -> None:
        for route in self.config.routes_for(alert.kind):
            batch = self._limiters[route.role].offer(alert, time.monotonic())
            if batch:
                self._dispatch(route, batch)
            else:
                log.info("staff alert %s %s held for %s by the rate limit", alert.kind, alert.patient_ref, route.role)
            self._arm(route)

    def _flush(self, route: RoleRoute, at: float) -> None:
        if self._armed.get(route.role) == at:
            del self._armed[route.role]
        batch = self._limiters[route.role].due(time.monotonic())
        if batch:
            self._dispatch(route, batch)
        self._arm(route)

    def _arm(self, route: RoleRoute) -> None:
        """Makes sure a flush is scheduled for when the role's held alerts may go."""
        due = self._limiters[route.role].next_due()
        armed = self._armed.get(route.role)
        if due is None or (armed is not None and armed <= due):
            return
        self._armed[route.role] = due
        self._router.schedule(due - time.monotonic(), lambda: self._flush(route, due))

    def _dispatch(self, route: RoleRoute, batch: list[Alert]) -> None:
        notice = messages.build(self.config, route.role, batch)
        what = f"{notice.subject!r} to {route.role}"
        if route.emails and self.config.smtp is not None:
            send = partial(transports.send_email, self.config.smtp, route.emails, notice)
            self._attempt(self._email, f"email {what}", send)
        for url in route.webhooks:
            self._attempt(self._webhook, f"webhook post {what}", partial(transports.post_webhook, url, notice.slack))

    def _attempt(self, lane: _Lane, what: str, send: Callable[[], None], attempt: int = 1) -> None:
        def run() -> None:
            try:
                send()
            except Exception as exc:
                permanent = isinstance(exc, transports.DeliveryFailed) and exc.permanent
                delays = self.config.retry_delays
                if permanent or attempt > len(delays):
                    log.error(
                        "staff alert %s NOT delivered after %d attempt(s): %s (the alerts file has the alert)",
                        what,
                        attempt,
                        exc,
                    )
                    return
                log.warning(
                    "staff alert %s failed (attempt %d): %s; trying again in %g s",
                    what,
                    attempt,
                    exc,
                    delays[attempt - 1],
                )
                self._attempt(lane, what, send, attempt + 1)
                return
            log.info("staff alert %s delivered", what)

        lane.schedule(0 if attempt == 1 else self.config.retry_delays[attempt - 2], run)


def configured_delivery() -> DeliveryConfig | None:
    """The delivery configuration of this process: MESO_ALERT_DELIVERY (JSON, the Rasa process), else the
    typed settings (the action server); None when no recipient is configured or it cannot be read."""
    raw = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if raw:
        try:
            return DeliveryConfig.from_json(raw)
        except ValueError:
            log.error(
                "%s is not a delivery configuration: staff alerts go to the alerts file only", ENVIRONMENT_VARIABLE
            )
            return None
    try:
        from core.settings import get_settings
    except ImportError:  # the Rasa environment: no pydantic-settings
        if any(name.startswith(("MESO_SMTP_", "MESO_ALERT_EMAIL_", "MESO_ALERT_SLACK_")) for name in os.environ):
            log.error(
                "staff alert email/chat settings are set but %s is not (start the servers with scripts/run.sh): "
                "this process writes its alerts to the alerts file only",
                ENVIRONMENT_VARIABLE,
            )
        return None
    try:
        return from_settings(get_settings())
    except Exception:
        log.exception("cannot read the staff alert email/chat settings: alerts go to the alerts file only")
        return None


@lru_cache(maxsize=1)
def default_delivery() -> AlertDelivery | None:
    """One delivery (its threads and rate limits) per process, from `configured_delivery()`."""
    config = configured_delivery()
    return AlertDelivery(config) if config else None
