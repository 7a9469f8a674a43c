"""Staff alerts: emergencies, handoffs and booking requests. Every alert is appended to a JSON-lines
file (read by the staff console and by people tailing it) and, when configured, posted to a webhook
in the background so a slow endpoint never delays the patient's reply."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

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


class StaffAlerts:
    def __init__(self, path: Path, webhook_url: str | None = None) -> None:
        self.path = path
        self.webhook_url = webhook_url
        self._lock = threading.Lock()

    def send(self, kind: AlertKind, sender_id: str, channel: str, text: str, reason: str) -> Alert:
        alert = Alert(kind=kind, sender_id=sender_id, channel=channel, text=text[:2000], reason=reason, at=time.time())
        line = json.dumps(asdict(alert), ensure_ascii=False)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        except OSError:
            log.exception("could not write staff alert to %s", self.path)
        log.warning("STAFF ALERT %s sender=%s reason=%s", kind, sender_id, reason)
        if self.webhook_url:
            threading.Thread(target=self._post, args=(line,), daemon=True).start()
        return alert

    def _post(self, line: str) -> None:
        assert self.webhook_url
        req = urllib.request.Request(
            self.webhook_url, data=line.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            urllib.request.urlopen(req, timeout=5).close()
        except Exception:
            log.exception("staff alert webhook %s failed", self.webhook_url)
