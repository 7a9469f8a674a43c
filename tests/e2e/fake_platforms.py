"""A loopback fake of the Telegram Bot API and the WhatsApp Cloud API (Graph API): it answers the
way the platforms document and records every request the assistant makes, so tests can assert
exactly what a patient would receive.

    /telegram/bot<token>/<method>          -> {"ok": true, "result": {...}}
    /graph/<version>/<phone id>/messages   -> {"messaging_product": "whatsapp", "messages": [{"id": "wamid..."}]}
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackServer


@dataclass(frozen=True)
class Recorded:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def method(self) -> str:
        return self.path.rsplit("/", 1)[-1]


class FakePlatforms:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # cleared: sendMessage waits (a slow platform)
        self.release.set()
        self.fail_paths: set[str] = set()  # methods that answer 500 (e.g. "sendMessage")
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                record = Recorded(self.path, body, dict(self.headers.items()), time.time())
                if record.method == "sendMessage":
                    fake.release.wait(timeout=60)
                with fake.lock:
                    fake.requests.append(record)
                if record.method in fake.fail_paths:
                    self._reply(500, {"ok": False, "error_code": 500, "description": "fake failure"})
                elif record.method == "getWebhookInfo":
                    hooks = [r.body for r in fake.requests if r.method == "setWebhook"]
                    info = {"url": hooks[-1]["url"] if hooks else "", "pending_update_count": 0}
                    self._reply(200, {"ok": True, "result": info})
                elif self.path.startswith("/telegram/"):
                    self._reply(
                        200, {"ok": True, "result": {"message_id": len(fake.requests), "date": int(time.time())}}
                    )
                else:
                    to = body.get("to", "")
                    self._reply(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}],
                            "messages": [{"id": f"wamid.FAKE{len(fake.requests):08d}"}],
                        },
                    )

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = LoopbackServer(Handler)
        self.port = self.server.port

    @property
    def telegram_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram"

    @property
    def graph_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/graph/v21.0"

    def close(self) -> None:
        self.release.set()
        self.server.close()

    def matching(self, predicate: Callable[[Recorded], bool]) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if predicate(r)]

    def wait_for(
        self, predicate: Callable[[Recorded], bool], count: int = 1, timeout: float = 30, settle: float = 0.0
    ) -> list[Recorded]:
        """Waits until at least `count` recorded requests match, then `settle` seconds more (to catch extras)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.matching(predicate)) >= count:
                break
            time.sleep(0.05)
        if settle:
            time.sleep(settle)
        return self.matching(predicate)

    # -- per platform ------------------------------------------------------------------------------

    def telegram(self, chat_id: int | str, method: str = "sendMessage") -> Callable[[Recorded], bool]:
        return lambda r: (
            r.path.startswith("/telegram/") and r.method == method and str(r.body.get("chat_id")) == str(chat_id)
        )

    def whatsapp(self, to: str) -> Callable[[Recorded], bool]:
        return lambda r: r.path.startswith("/graph/") and r.body.get("to") == to
