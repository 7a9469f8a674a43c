"""Staff alerts keep no patient text, in the file or on the webhook, and the file is owner-only."""

from __future__ import annotations

import json
import os
import stat
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from core.alerts import StaffAlerts
from core.patient_ref import patient_reference
from tests.loopback import LoopbackServer

SAID = "my lips are swelling after the filler, I'm Ann Smith, 07700 900123"


def test_an_alert_keeps_ids_kind_rules_and_time_but_not_what_the_patient_wrote(tmp_path: Path):
    received: list[bytes] = []
    posted = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(204)
            self.end_headers()
            posted.set()

    server = LoopbackServer(Hook)
    try:
        path = tmp_path / "alerts.jsonl"
        StaffAlerts(path, server.url + "/hook").send(
            "emergency", "wa-447700900123", "whatsapp", SAID, "warning_sign:airway"
        )
        assert posted.wait(10)
    finally:
        server.close()
    (line,) = path.read_text(encoding="utf-8").splitlines()
    alert = json.loads(line)
    assert set(alert) == {"kind", "sender_id", "channel", "reason", "at", "patient_ref"}
    assert (alert["kind"], alert["sender_id"], alert["reason"]) == (
        "emergency",
        "wa-447700900123",
        "warning_sign:airway",
    )
    assert alert["patient_ref"] == patient_reference("wa-447700900123")
    for word in ("swelling", "Ann", "Smith", "07700"):
        assert word not in line and word.encode() not in received[0]
    assert json.loads(received[0]) == alert  # the webhook gets the same record


def test_the_alerts_file_and_its_new_folder_are_owner_only_whatever_the_umask(tmp_path: Path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "var" / "alerts.jsonl"
        StaffAlerts(path).send("handoff", "web-x", "webchat", "call me", "handoff:human")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
