"""The console's background jobs, each on a daemon thread (`Periodic`):

- the retention purge and at-rest redaction every `retention_interval_minutes` (0 = never: run
  `python -m console purge` from cron instead);
- patients' own erasure requests every `patient_request_interval_seconds` (console/patient_requests.py).

A failed run is logged and retried at the next interval; it never stops the console."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from console import patient_requests, retention
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


def patient_requests_once(settings: Settings) -> patient_requests.Handled | None:
    """One run of the patients' erasure requests; None when it failed (logged)."""
    try:
        with session_factory(settings.console_db_url)() as db:
            return patient_requests.run_once(db, settings)
    except Exception:
        log.exception("patient erasure requests: run failed; trying again shortly")
        return None


class Periodic:
    """A daemon thread calling `job` every `interval_seconds` (never when 0), the first time after
    `first_run_after`; stop() wakes it up and waits for it."""

    def __init__(self, name: str, job: Callable[[], object], interval_seconds: float, first_run_after: float) -> None:
        self.name = name
        self.job = job
        self.interval_seconds = interval_seconds
        self.first_run_after = first_run_after
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.interval_seconds <= 0 or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        wait = self.first_run_after
        while not self._stop.wait(wait):
            self.job()
            wait = self.interval_seconds


def schedulers(settings: Settings, first_run_after: float = FIRST_RUN_AFTER_SECONDS) -> list[Periodic]:
    """The console's background jobs for these settings."""
    return [
        Periodic(
            "console-retention",
            lambda: run_once(settings),
            settings.retention_interval_minutes * 60.0,
            first_run_after,
        ),
        Periodic(
            "console-patient-requests",
            lambda: patient_requests_once(settings),
            settings.patient_request_interval_seconds,
            min(first_run_after, settings.patient_request_interval_seconds),
        ),
    ]
