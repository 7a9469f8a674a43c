"""Staff alerts: emergencies, handoffs and booking requests. Every alert is appended to a JSON-lines
file (read by the staff console and by people tailing it) and, when configured, posted to a webhook
in the background so a slow endpoint never delays the patient's reply.

Any str is accepted: every field is cleaned (core/text_clean.py) before it is written or posted, so a
lone surrogate or a NUL in a patient's message never drops the alert. The console's rewrites of the
file (erasure, retention, redaction) take the same lock (`locked`)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal

from core.text_clean import clean_text

log = logging.getLogger(__name__)

AlertKind = Literal["emergency", "handoff", "booking"]


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    sender_id: str
    channel: str
    text: str
    reason: str
    at: float


@contextmanager
def locked(path: Path, mode: str = "a") -> Iterator[IO[Any]]:
    """The alerts file, open and exclusively locked (fcntl.flock) until the block ends. Appends and the
    console's rewrites (erasure, retention, redaction: write a copy, then rename it over the file) both take
    this lock, so no alert is lost; a file replaced while waiting for the lock is opened again."""
    while True:
        handle = path.open(mode, encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            current = os.stat(path)
            opened = os.fstat(handle.fileno())
            if (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino):
                break
        except FileNotFoundError:
            pass  # renamed away or removed meanwhile: open the path again
        except BaseException:
            handle.close()
            raise
        handle.close()
    try:
        yield handle
    finally:
        handle.close()  # flushes, then releases the lock


class StaffAlerts:
    def __init__(self, path: Path, webhook_url: str | None = None) -> None:
        self.path = path
        self.webhook_url = webhook_url
        self._lock = threading.Lock()

    def send(self, kind: AlertKind, sender_id: str, channel: str, text: str, reason: str) -> Alert:
        alert = Alert(
            kind=kind,
            sender_id=clean_text(str(sender_id)),
            channel=clean_text(str(channel)),
            text=clean_text(str(text)[:2000]),
            reason=clean_text(str(reason)),
            at=time.time(),
        )
        line = json.dumps(asdict(alert), ensure_ascii=False)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with locked(self.path) as fh:
                    fh.write(line + "\n")
        except OSError:
            log.exception("could not write staff alert to %s", self.path)
        log.warning("STAFF ALERT %s sender=%s reason=%s", kind, alert.sender_id, alert.reason)
        if self.webhook_url:
            threading.Thread(target=self._post, args=(line,), daemon=True).start()
        return alert

    def _post(self, line: str) -> None:
        assert self.webhook_url
        req = urllib.request.Request(
            self.webhook_url,
            data=line.encode("utf-8", errors="replace"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(req, timeout=5).close()
        except Exception:
            log.exception("staff alert webhook %s failed", self.webhook_url)
