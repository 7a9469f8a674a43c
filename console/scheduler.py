"""Runs the retention purge and at-rest redaction in the background every `retention_interval_minutes`
(0 = never: run `python -m console purge` from cron instead). A failed run is logged and retried at the
next interval; it never stops the console."""

from __future__ import annotations

import logging
import threading

from console import retention
from console.db import session_factory
from core.settings import Settings

log = logging.getLogger(__name__)

FIRST_RUN_AFTER_SECONDS = 60.0
"""Let the console come up (and migrations finish everywhere) before the first run."""


def run_once(settings: Settings) -> retention.RetentionReport | None:
    """One scheduled run (actor `system`); None when it failed (logged)."""
    try:
        with session_factory(settings.console_db_url)() as db:
            report = retention.run(db, settings, actor=retention.SYSTEM)
    except Exception:
        log.exception("retention run failed; trying again in %s minutes", settings.retention_interval_minutes)
        return None
    if report.anything:
        log.info(
            "retention: %d conversations purged, %d events removed, %s events redacted",
            report.purged.expired,
            report.purged.removed.events,
            report.redacted.events if report.redacted else "no",
        )
    return report


class RetentionScheduler:
    """A daemon thread calling run_once; stop() wakes it up and waits for it."""

    def __init__(self, settings: Settings, first_run_after: float = FIRST_RUN_AFTER_SECONDS) -> None:
        self.settings = settings
        self.first_run_after = first_run_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval_seconds(self) -> float:
        return self.settings.retention_interval_minutes * 60.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.interval_seconds <= 0 or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="console-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        wait = self.first_run_after
        while not self._stop.wait(wait):
            run_once(self.settings)
            wait = self.interval_seconds
