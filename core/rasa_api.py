"""A small client for Rasa's HTTP API (enabled with MESO_RASA_TOKEN): what the staff side needs
to reply to a handed-off patient and to hand a conversation back to the assistant.

    python -m core.rasa_api handback SENDER_ID

Rasa's API takes no URL token (a `?token=` ends up in proxy logs, browser history and `ps`): every call
carries a JWT in the Authorization header, signed here with MESO_RASA_TOKEN (HS256; Rasa verifies it
with `--jwt-secret`, passed on by bot/rasa_run.py) and valid for `JWT_SECONDS`.

Any str is accepted: the reply's text and author are cleaned (core/text_clean.py) before they are
sent; a sender id no conversation can have (lone surrogates, control characters) is a 404 without a
request, and an answer that is not JSON is a RasaApiError, never a crash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from core.settings import Settings, get_settings
from core.text_clean import clean_text, is_clean


class RasaApiError(RuntimeError):
    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status Rasa answered (404 unknown patient, 409 cannot deliver...), 502 when unreachable."""


@dataclass(frozen=True)
class Delivery:
    via: str
    """How the reply reached the patient: webchat, telegram, whatsapp or whatsapp_template."""


JWT_SECONDS = 60
"""Lifetime of a signed API token: one request, with room for a slow one (Rasa adds 3 minutes' leeway)."""
JWT_USER = {"username": "meso-staff", "role": "admin"}
"""Rasa 3.6 (`rasa.server.requires_auth`) reads `user.role`: "admin" may call every route; "user" only the
conversation named `user.username`."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def api_jwt(secret: str, now: float | None = None, seconds: int = JWT_SECONDS) -> str:
    """A short-lived HS256 JWT for Rasa's HTTP API, signed with `secret` (standard library: the app
    environment has no JWT package, and HS256 signing is one HMAC)."""
    issued = int(time.time() if now is None else now)
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"user": JWT_USER, "iat": issued, "exp": issued + seconds}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode("utf-8"), f"{header}.{payload}".encode("ascii"), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def api_headers(settings: Settings) -> dict[str, str]:
    """The Authorization header for one call to Rasa's HTTP API."""
    if not settings.rasa_token:
        raise RasaApiError("MESO_RASA_TOKEN is not set, so Rasa's HTTP API is not enabled", 503)
    return {"Authorization": f"Bearer {api_jwt(settings.rasa_token)}"}


def staff_reply(sender_id: str, text: str, author: str, settings: Settings | None = None) -> Delivery:
    """Sends a staff member's reply to the patient on the channel they last used (Rasa's
    /webhooks/staff/reply, bot/channels/staff.py), which also stores it in the conversation."""
    settings = settings or get_settings()
    if not settings.rasa_token:
        raise RasaApiError("MESO_RASA_TOKEN is not set, so replies cannot be sent through Rasa", 503)
    _check_sender(sender_id)
    body = {"sender_id": sender_id, "text": clean_text(text), "author": clean_text(author)}
    req = urllib.request.Request(
        f"{settings.rasa_url.rstrip('/')}/webhooks/staff/reply",
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.rasa_token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            detail = str(json.loads(exc.read() or b"{}").get("error") or exc.reason)
        except (ValueError, AttributeError, RecursionError):
            detail = str(exc.reason)
        raise RasaApiError(clean_text(detail), exc.code) from exc
    except OSError as exc:
        raise RasaApiError(f"the assistant at {settings.rasa_url} is unreachable: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise RasaApiError("the assistant's answer was not JSON") from exc
    via = answer.get("via") if isinstance(answer, dict) else None
    return Delivery(via=clean_text(str(via or "")))


def _check_sender(sender_id: str) -> None:
    if not sender_id or not is_clean(sender_id):
        raise RasaApiError("no such conversation", 404)


def _post_events(settings: Settings, sender_id: str, events: list[dict[str, Any]]) -> None:
    headers = {"Content-Type": "application/json", **api_headers(settings)}
    _check_sender(sender_id)
    sender = urllib.parse.quote(sender_id, safe="")
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{sender}/tracker/events?include_events=NONE"
    req = urllib.request.Request(url, data=json.dumps(events).encode(), headers=headers, method="POST")
    try:
        urllib.request.urlopen(req, timeout=10).close()
    except OSError as exc:
        raise RasaApiError(f"Rasa at {settings.rasa_url} refused the events: {exc}") from exc


def hand_back(sender_id: str, settings: Settings | None = None) -> None:
    """Ends a handoff: the assistant answers this patient again."""
    _post_events(
        settings or get_settings(),
        sender_id,
        [
            {"event": "slot", "name": "handoff", "value": False},
            {"event": "slot", "name": "handoff_reason", "value": None},
            {"event": "slot", "name": "hold_notices", "value": 0.0},
        ],
    )


TAKE_OVER_REASON = "staff_took_over"


def take_over(sender_id: str, settings: Settings | None = None) -> None:
    """Starts a handoff from the staff side (a clinician who wants to write to the patient): the
    assistant then only tells the patient that a person will reply, until `hand_back`."""
    _post_events(
        settings or get_settings(),
        sender_id,
        [
            {"event": "slot", "name": "handoff", "value": True},
            {"event": "slot", "name": "handoff_reason", "value": TAKE_OVER_REASON},
            {"event": "slot", "name": "hold_notices", "value": 0.0},
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "handback":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        hand_back(sys.argv[2])
    except RasaApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"{sys.argv[2]}: handed back to the assistant")
