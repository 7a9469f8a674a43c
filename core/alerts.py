"""Staff alerts: emergencies, handoffs and booking requests. Every alert is appended to a JSON-lines
file (read by the staff console and by people tailing it) and, when configured, posted to a webhook
in the background so a slow endpoint never delays the patient's reply.

An alert holds no patient text: which conversation (sender id), what kind, why (the rule ids in
`reason`, e.g. `warning_sign:airway`), when, on which channel, and the short patient reference the
console shows (`patient_ref`, core/patient_ref.py), which staff can quote in a team chat. What the
patient wrote is read in the staff console, which applies its roles, redaction, erasure and retention;
the file and the webhook (often a third party's chat) keep no copy of it. The file is created
owner-only (0600, its folder 0700).

After the file, each alert goes by email and to Slack-compatible chat webhooks, per role, when configured
(core/alert_channels/: only the reference, kind, channel, rule ids and time; rate-limited; sent in the
background and retried, never raising here). The file is written first and stays the record.

Any str is accepted: every field is cleaned (core/text_clean.py) before it is written or posted. The
console's rewrites of the file (erasure, retention, redaction) take the same lock (`locked`)."""

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

from core.alert_channels import AlertDelivery, default_delivery
from core.patient_ref import patient_reference
from core.text_clean import clean_text

log = logging.getLogger(__name__)

AlertKind = Literal["emergency", "handoff", "booking"]


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    sender_id: str
    channel: str
    reason: str
    """Why: rule ids (`warning_sign:...`, `handoff:...`, `booking_request`), never the patient's words."""
    at: float
    patient_ref: str
    """The console's short reference for the conversation (`P-3F9K2A`): no secret, opens nothing."""


def _open_private(path: Path, mode: str) -> IO[Any]:
    """Opens the alerts file; a new one is created owner-only (0600) in an owner-only folder (0700)."""
    if "r" not in mode:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    return path.open(mode, encoding="utf-8")


@contextmanager
def locked(path: Path, mode: str = "a") -> Iterator[IO[Any]]:
    """The alerts file, open and exclusively locked (fcntl.flock) until the block ends. Appends and the
    console's rewrites (erasure, retention, redaction: write a copy, then rename it over the file) both take
    this lock, so no alert is lost; a file replaced while waiting for the lock is opened again."""
    while True:
        handle = _open_private(path, mode)
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
    def __init__(
        self,
        path: Path,
        webhook_url: str | None = None,
        delivery: AlertDelivery | Literal["configured"] | None = "configured",
    ) -> None:
        """`delivery`: where alerts go by email and chat; "configured" = this process's settings
        (core/alert_channels/delivery.py: `default_delivery`), None = the file (and `webhook_url`) only."""
        self.path = path
        self.webhook_url = webhook_url
        if isinstance(delivery, str):
            delivery = default_delivery()
        self.delivery: AlertDelivery | None = delivery
        self._lock = threading.Lock()

    def send(self, kind: AlertKind, sender_id: str, channel: str, text: str, reason: str) -> Alert:
        """Writes (and posts) an alert. `text`, what the patient wrote, is neither written nor posted: it is
        in the conversation (and, when it could not be stored, only the `:not_stored` reason says so)."""
        del text  # deliberately not kept: see the module's docstring
        alert = Alert(
            kind=kind,
            sender_id=clean_text(str(sender_id)),
            channel=clean_text(str(channel)),
            reason=clean_text(str(reason)),
            at=time.time(),
            patient_ref=patient_reference(clean_text(str(sender_id))),
        )
        line = json.dumps(asdict(alert), ensure_ascii=False)
        try:
            with self._lock, locked(self.path) as fh:
                fh.write(line + "\n")
        except OSError:
            log.exception("could not write staff alert to %s", self.path)
        log.warning("STAFF ALERT %s %s sender=%s reason=%s", kind, alert.patient_ref, alert.sender_id, alert.reason)
        if self.webhook_url:
            threading.Thread(target=self._post, args=(line,), daemon=True).start()
        if self.delivery is not None:
            try:
                self.delivery.submit(alert)
            except Exception:  # never into the caller: the alert is in the file
                log.exception("staff alert %s %s: email/chat delivery failed", kind, alert.patient_ref)
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
