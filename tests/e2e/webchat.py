"""A web chat patient for the end-to-end tests, as the widget is one: a session issued by the server
(`POST /webhooks/webchat/session`), sent back in the Authorization header, never in a URL
(bot/channels/webchat.py). Also how a test finds the session and the sender id of a widget in the
browser."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import httpx
from playwright.sync_api import Page

TIMEOUT = 60.0

SESSION_JS = """() => {
  const key = Object.keys(localStorage).find((k) => k.startsWith("meso-webchat:") && !k.endsWith(":open"));
  return key ? (JSON.parse(localStorage.getItem(key)) || {}).session || null : null;
}"""
"""The widget's session token as it keeps it in the browser (null before the first message)."""


def call(
    server: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    """One request to the widget API (`path` under /webhooks/webchat/), with the session if given."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return httpx.request(
        method,
        f"{server}/webhooks/webchat/{path}",
        json=body if content is None and body is not None else None,
        content=content,
        headers=sent,
        timeout=TIMEOUT,
    )


@dataclass
class WebChat:
    """One patient's web chat: the server's base URL and the session it issued."""

    server: str
    token: str

    @classmethod
    def start(cls, server: str) -> WebChat:
        response = call(server, "POST", "session", {"consent": True})
        assert response.status_code == 201, response.text
        return cls(server, response.json()["session"])

    @cached_property
    def sender_id(self) -> str:
        return sender_of(self.server, self.token)

    def send(self, text: str, after: int = 0) -> httpx.Response:
        return call(self.server, "POST", "webhook", {"message": text, "consent": True, "after": after}, self.token)

    def say(self, text: str, after: int = 0) -> dict[str, Any]:
        """The turn's result (messages since `after`, cursor, handoff, kind); fails unless it is a 200."""
        response = self.send(text, after)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    def history(self, after: int = 0) -> dict[str, Any]:
        response = call(self.server, "GET", f"history?after={after}", token=self.token)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def sender_of(server: str, token: str) -> str:
    """The sender id of a session (what the server tells its holder; not a secret)."""
    response = call(server, "GET", "session", token=token)
    assert response.status_code == 200, response.text
    return str(response.json()["sender_id"])


def page_session(page: Page) -> str | None:
    """The session of the widget on this page, if it has one."""
    token = page.evaluate(SESSION_JS)
    return str(token) if token else None


def page_sender(server: str, page: Page) -> str:
    """The sender id of the widget's conversation on this page (it has sent a message)."""
    token = page_session(page)
    assert token, "the widget has no session yet"
    return sender_of(server, token)
