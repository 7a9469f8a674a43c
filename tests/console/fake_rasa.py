"""A loopback stand-in for the Rasa server's staff endpoints (POST /webhooks/staff/reply and the
tracker events API), recording what the console sends and writing what Rasa would store."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tests.loopback import LoopbackServer


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeRasa:
    on_reply: Callable[[dict[str, Any]], None] = lambda body: None
    on_events: Callable[[str, list[dict[str, Any]]], None] = lambda sender, events: None
    answer: tuple[int, dict[str, Any]] = (200, {"delivered": True, "via": "webchat"})
    received: list[Received] = field(default_factory=list)

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                url = urlparse(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                fake.received.append(Received(url.path, parse_qs(url.query), dict(self.headers), body))
                status, answer = 200, dict[str, Any]()
                if url.path == "/webhooks/staff/reply":
                    status, answer = fake.answer
                    if status == 200:
                        fake.on_reply(body)
                elif url.path.startswith("/conversations/") and url.path.endswith("/tracker/events"):
                    fake.on_events(unquote(url.path.split("/")[2]), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = LoopbackServer(Handler)
        return self.server.url

    def stop(self) -> None:
        self.server.close()
