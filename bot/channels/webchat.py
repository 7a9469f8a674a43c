"""Web chat channel (`/webhooks/webchat/`): the embeddable widget and the small JSON API it uses.

    GET  widget.js            the widget (one <script> tag on the clinic's site, see widget/README.md)
    GET  demo                 a sample clinic page with the widget on it
    GET  config               clinic name, privacy link, emergency number, phone, and the widget's fixed
                              safety wording (`texts`, from actions/safety/texts.yml)
    POST webhook              {"session_id", "message", "consent": true, "after": <cursor>} -> the turn
    GET  history?session_id=&after=<cursor>   messages since the cursor (reload, staff replies)

The session id is a random secret the widget keeps in the browser; the conversation's sender id is
`web-<session id>`. Nothing is processed without `consent: true` (the widget collects it first).
Replies carry text, buttons and, for styling only, the kinds `emergency` and `handoff`; the reply
metadata itself never leaves the server. History is read from the tracker store, so it survives a
reload, works across Rasa replicas, and includes staff replies.

The patient's message is cleaned (core/text_clean.py: lone surrogates, which the widget can produce
when it cuts text by UTF-16 units, NUL and other control characters) before the dialogue sees it,
and history is cleaned on the way out, so a record stored before that still reads.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.safety.texts import widget_texts
from bot.channels.common import MAX_MESSAGE, OnNewMessage, clinic, json_error, run_turn
from bot.channels.staff import DeliveryResult
from core.text_clean import clean_text

log = logging.getLogger(__name__)

PREFIX = "web-"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
STYLED_KINDS = ("emergency", "handoff")


def _cursor(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def transcript(events: list[Any], after: int) -> list[dict[str, Any]]:
    """Patient-visible messages among tracker events[after:], each with its event index as id.
    A turn's `kind` (emergency, handoff) comes from its reply metadata and is kept for styling."""
    out: list[dict[str, Any]] = []
    turn: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            turn = []
            if index >= after and event.text and not event.text.startswith("/"):
                out.append({"id": index, "role": "user", "text": clean_text(event.text)})
            elif index >= after and event.text:
                out.append({"id": index, "role": "user", "text": clean_text(_button_title(events[:index], event.text))})
        elif isinstance(event, BotUttered):
            custom = (event.data or {}).get("custom")
            if isinstance(custom, dict) and "meta" in custom:
                meta = custom.get("meta")
                kind = meta.get("kind") if isinstance(meta, dict) else None
                if kind in STYLED_KINDS:
                    for message in turn:
                        message["kind"] = kind
                continue
            if not event.text and not (event.data or {}).get("buttons"):
                continue
            staff = bool((event.metadata or {}).get("staff_reply"))
            message = {
                "id": index,
                "role": "staff" if staff else "bot",
                "text": clean_text(event.text or ""),
                "buttons": [
                    {"title": clean_text(str(b.get("title", ""))), "payload": clean_text(str(b.get("payload", "")))}
                    for b in (event.data or {}).get("buttons") or []
                    if isinstance(b, dict)
                ],
            }
            if not staff:
                turn.append(message)
            if index >= after:
                out.append(message)
    return out


def _button_title(before: list[Any], payload: str) -> str:
    """A button tap is stored as its payload; the patient saw (and clicked) its title."""
    for event in reversed(before):
        if isinstance(event, BotUttered):
            for button in (event.data or {}).get("buttons") or []:
                if isinstance(button, dict) and button.get("payload") == payload:
                    return str(button.get("title") or payload)
    return payload


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    async def deliver_staff_reply(
        self, recipient: str, text: str, last_user_message_at: float | None
    ) -> DeliveryResult:
        # The widget reads new messages from the conversation (history), so storing the reply delivers it.
        return DeliveryResult(True, "webchat")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("webchat", __name__)

        async def conversation(request: Request, session_id: str, after: int) -> dict[str, Any]:
            store = request.app.ctx.agent.tracker_store
            sender = PREFIX + session_id
            retrieve = getattr(store, "retrieve_full_tracker", store.retrieve)
            tracker = await retrieve(sender)
            if tracker is None:
                return {"messages": [], "cursor": 0, "handoff": False}
            events = list(tracker.events)
            if any(isinstance(e, UserUttered) and e.input_channel not in (None, self.name()) for e in events):
                return {"messages": [], "cursor": 0, "handoff": False}  # never another channel's conversation
            handoff = bool(tracker.get_slot("handoff"))
            return {
                "messages": transcript(events, after),
                "cursor": len(events),
                "handoff": handoff,
                # handed off because of warning signs: the widget says to call now, not "close this page"
                "emergency": handoff and tracker.get_slot("handoff_reason") == "emergency",
            }

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/widget.js", methods=["GET"])
        async def widget(request: Request) -> HTTPResponse:
            return await response.file(
                WIDGET_DIR / "widget.js",
                mime_type="application/javascript; charset=utf-8",
                headers={"Cache-Control": "public, max-age=300"},
            )

        @hook.route("/demo", methods=["GET"])
        async def demo(request: Request) -> HTTPResponse:
            return await response.file(WIDGET_DIR / "demo.html", mime_type="text/html; charset=utf-8")

        @hook.route("/config", methods=["GET"])
        async def config(request: Request) -> HTTPResponse:
            info = clinic()
            return response.json(
                {
                    "clinic_name": info.get("name", "our clinic"),
                    "privacy_url": info.get("privacy_url", ""),
                    "emergency_number": info.get("emergency_number", ""),
                    "phone": info.get("phone", ""),
                    "texts": widget_texts(),
                }
            )

        @hook.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            session_id = request.args.get("session_id") or ""
            if not SESSION_ID.fullmatch(session_id):
                return json_error(400, "`session_id` must be 16-64 characters of A-Z a-z 0-9 _ -")
            return response.json(await conversation(request, session_id, _cursor(request.args.get("after"))))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):
                return json_error(
                    400, 'the body must be JSON: {"session_id": "...", "message": "...", "consent": true}'
                )
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            session_id = body.get("session_id")
            if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
                return json_error(400, "`session_id` must be 16-64 characters of A-Z a-z 0-9 _ -")
            if body.get("consent") is not True:
                return json_error(403, "the patient has not agreed to the privacy notice yet (`consent: true`)")
            text = body.get("message")
            if not isinstance(text, str):
                return json_error(400, "`message` must be a string")
            if len(text) > MAX_MESSAGE:
                return json_error(413, f"`message` is longer than {MAX_MESSAGE} characters")
            after = _cursor(body.get("after"))
            reply = await run_turn(
                on_new_message,
                clean_text(text),
                PREFIX + session_id,
                self.name(),
                {"consent": True},
                agent=request.app.ctx.agent,
            )
            try:
                result = await conversation(request, session_id, after)
            except Exception:  # the tracker store failed (logged and alerted there): the reply still goes out
                log.exception("webchat: could not read the conversation of %s after its turn", PREFIX + session_id)
                result = {
                    "messages": [],
                    "cursor": after,
                    "handoff": reply.handoff,
                    "emergency": reply.kind == "emergency",
                }
            if not reply.stored:
                # the channel answered and could not store its reply: send it as it is
                result["messages"] += [
                    {
                        "id": f"fallback-{result['cursor']}-{i}",
                        "role": "bot",
                        "text": m.text,
                        "buttons": [],
                        "kind": reply.kind,
                    }
                    for i, m in enumerate(reply.messages)
                ]
            result["kind"] = reply.kind if reply.kind in STYLED_KINDS else None
            return response.json(result)

        return hook
