"""WhatsApp Cloud API channel (`/webhooks/whatsapp/webhook`); Rasa 3.6 has none.

- GET: Meta's verification handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
- POST: `X-Hub-Signature-256` must be `sha256=` + HMAC-SHA256 of the raw body with the app
  secret (constant-time compare), else 401 and nothing is recorded.
- Each message id (`wamid`) is processed once; status callbacks (sent, delivered, read, failed)
  are acknowledged and never treated as patient messages; the webhook answers at once and the turn
  runs in the background.
- Clarifying options become interactive reply buttons (up to 3) or a list (up to 10); a tap comes
  back as an interactive reply carrying the option's payload. Media get a short text reply (an
  image's caption is still read).
- A staff reply more than 24 hours after the patient's last message is sent as the configured
  template, as WhatsApp requires. The reply metadata (`meta`) is never sent. Sender ids are
  `wa-<WhatsApp id>`.
- Every string read from a message (text, caption, button ids and titles, ids) is cleaned first
  (core/text_clean.py: lone surrogates, NUL and other control characters, noncharacters), before
  commands are stripped and before the dialogue sees it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import (
    MAX_MESSAGE,
    BackgroundTurns,
    MessagingAppOutput,
    OnNewMessage,
    Outgoing,
    chunks,
    for_messaging_app,
    json_error,
    run_turn,
    truncate,
    unreadable_text,
)
from bot.channels.deliveries import DeliveryLog
from bot.channels.platform_api import PlatformApi
from bot.channels.staff import DeliveryResult
from core.text_clean import clean_text

log = logging.getLogger(__name__)

PREFIX = "wa-"
TEXT_LIMIT = 4000  # WhatsApp allows 4096 characters per text message
BODY_LIMIT = 1024  # body of an interactive message
SERVICE_WINDOW = 24 * 3600
UNREADABLE = {
    "image": "images",
    "audio": "voice notes or audio",
    "video": "videos",
    "document": "documents",
    "sticker": "stickers",
    "location": "locations",
    "contacts": "contact cards",
    "order": "orders",
}


@dataclass(frozen=True)
class Incoming:
    wa_id: str
    message_id: str
    text: str | None = None
    unreadable: str | None = None


def parse_messages(body: dict[str, Any]) -> list[Incoming]:
    """The patient messages in a webhook body. Status callbacks and reactions are not messages."""
    found: list[Incoming] = []
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            for message in _list(value.get("messages") if isinstance(value, dict) else None):
                incoming = parse_message(message)
                if incoming:
                    found.append(incoming)
    return found


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_message(message: dict[str, Any]) -> Incoming | None:
    if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
        return None
    wa_id, wamid, kind = clean_text(str(message["from"])), clean_text(str(message["id"])), message.get("type")
    if kind == "text":
        body = clean_text(str(_dict(message.get("text")).get("body") or ""))
        return Incoming(wa_id, wamid, text=body.strip().lstrip("/")[:MAX_MESSAGE] or None)
    if kind == "interactive":
        reply = _dict(message.get("interactive"))
        chosen = _dict(reply.get("button_reply") or reply.get("list_reply"))
        choice = clean_text(str(chosen.get("id") or chosen.get("title") or ""))
        return Incoming(wa_id, wamid, text=choice[:MAX_MESSAGE] or None)
    if kind == "button":  # quick-reply button of a template
        button = _dict(message.get("button"))
        pressed = clean_text(str(button.get("text") or button.get("payload") or ""))
        return Incoming(wa_id, wamid, text=pressed.strip().lstrip("/")[:MAX_MESSAGE] or None)
    if kind == "reaction":
        return None
    media = message.get(kind) if isinstance(kind, str) else None
    caption = media.get("caption") if isinstance(media, dict) else None
    what = UNREADABLE.get(str(kind), "this kind of message")
    return Incoming(
        wa_id,
        wamid,
        text=clean_text(caption).strip()[:MAX_MESSAGE] or None if isinstance(caption, str) else None,
        unreadable=what,
    )


def signature_ok(raw_body: bytes, header: str | None, app_secret: bytes) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret, raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), expected)


def interactive(to: str, message: Outgoing) -> dict[str, Any]:
    """Reply buttons for up to 3 options, a list for more (WhatsApp's limits: 3 buttons, 10 rows)."""
    body = {"text": truncate(message.text or "Please choose:", BODY_LIMIT)}
    options = message.buttons[:10]
    if len(options) <= 3:
        action: dict[str, Any] = {
            "buttons": [
                {"type": "reply", "reply": {"id": b.payload[:256], "title": truncate(b.title, 20)}} for b in options
            ]
        }
        kind = "button"
    else:
        action = {
            "button": "Choose",
            "sections": [
                {
                    "title": "Options",
                    "rows": [{"id": b.payload[:200], "title": truncate(b.title, 24)} for b in options],
                }
            ],
        }
        kind = "list"
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {"type": kind, "body": body, "action": action},
    }


def text_message(to: str, text: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }


class WhatsAppOutput(MessagingAppOutput):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        c = credentials or {}
        return cls(
            access_token=str(c.get("access_token") or ""),
            phone_number_id=str(c.get("phone_number_id") or ""),
            app_secret=str(c.get("app_secret") or ""),
            verify_token=str(c.get("verify_token") or ""),
            api_base=str(c.get("api_base") or "https://graph.facebook.com/v21.0"),
            template_name=str(c.get("template_name") or ""),
            template_language=str(c.get("template_language") or "en"),
            deliveries_url=str(c.get("deliveries_db_url") or ""),
        )

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        app_secret: str,
        verify_token: str,
        api_base: str,
        template_name: str,
        template_language: str,
        deliveries_url: str,
    ) -> None:
        if not (access_token and phone_number_id and app_secret and verify_token and deliveries_url):
            raise ValueError(
                "the WhatsApp channel needs access_token, phone_number_id, app_secret, verify_token, deliveries_db_url"
            )
        self.app_secret = app_secret.encode()
        self.verify_token = verify_token.encode()
        self.api = PlatformApi(
            f"{api_base.rstrip('/')}/{phone_number_id}",
            headers={"Authorization": f"Bearer {access_token}"},
            name="WhatsApp",
        )
        self.template_name = template_name
        self.template_language = template_language
        self.deliveries = DeliveryLog(deliveries_url)
        self.background = BackgroundTurns()

    def url_prefix(self) -> str:
        return "whatsapp"

    def get_output_channel(self) -> OutputChannel:
        return WhatsAppOutput(self)

    # -- outgoing ------------------------------------------------------------------------------

    async def send(self, recipient: str, messages: list[Outgoing]) -> bool:
        to = recipient.removeprefix(PREFIX)
        ok = True
        for message in messages:
            parts = chunks(message.text, TEXT_LIMIT) or [""]
            if message.buttons:
                # the last part carries the options (an interactive body holds at most 1,024 characters)
                last = parts.pop() if len(parts[-1]) <= BODY_LIMIT else "Please choose:"
                for part in parts:
                    ok = (await self.api.post("messages", text_message(to, part))).ok and ok
                ok = (await self.api.post("messages", interactive(to, Outgoing(last, message.buttons)))).ok and ok
            else:
                for part in parts:
                    if part:
                        ok = (await self.api.post("messages", text_message(to, part))).ok and ok
        return ok

    async def deliver_staff_reply(
        self, recipient: str, text: str, last_user_message_at: float | None
    ) -> DeliveryResult:
        outside_window = last_user_message_at is None or time.time() - last_user_message_at > SERVICE_WINDOW
        if not outside_window:
            ok = await self.send(recipient, [Outgoing(text)])
            return DeliveryResult(ok, "whatsapp", "" if ok else "the WhatsApp API refused the message")
        if not self.template_name:
            return DeliveryResult(
                False,
                "whatsapp",
                "the patient's last message is more than 24 hours old, so WhatsApp only accepts a template "
                "message: set MESO_WHATSAPP_TEMPLATE_NAME to an approved template",
                status=409,
            )
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": recipient.removeprefix(PREFIX),
            "type": "template",
            "template": {
                "name": self.template_name,
                "language": {"code": self.template_language},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": truncate(text, 1024)}]}],
            },
        }
        ok = (await self.api.post("messages", payload)).ok
        return DeliveryResult(ok, "whatsapp_template", "" if ok else "the WhatsApp API refused the template message")

    # -- incoming ------------------------------------------------------------------------------

    async def _handle(self, incoming: Incoming, on_new_message: OnNewMessage, agent: Any) -> None:
        sender = PREFIX + incoming.wa_id
        if incoming.unreadable:
            await self.send(sender, [Outgoing(unreadable_text(incoming.unreadable))])
        if not incoming.text:
            return
        reply = await run_turn(
            on_new_message, incoming.text, sender, self.name(), message_id=incoming.message_id, agent=agent
        )
        await self.send(sender, for_messaging_app(reply))

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("whatsapp_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = (request.args.get("hub.verify_token") or "").encode()
            challenge = request.args.get("hub.challenge") or ""
            if mode == "subscribe" and challenge and hmac.compare_digest(token, self.verify_token):
                return response.text(challenge)
            return json_error(403, "verification failed")

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if not signature_ok(raw, request.headers.get("X-Hub-Signature-256"), self.app_secret):
                log.warning("WhatsApp webhook: refused a POST without a valid X-Hub-Signature-256")
                return json_error(401, "invalid signature")
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return json_error(400, "the body must be JSON")
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            accepted = 0
            for incoming in parse_messages(body):
                if not self.deliveries.claim("whatsapp", incoming.message_id):
                    log.info("WhatsApp message %s delivered again: ignored", incoming.message_id)
                    continue
                self.background.start(
                    self._handle(incoming, on_new_message, request.app.ctx.agent), f"whatsapp {incoming.message_id}"
                )
                accepted += 1
            return response.json({"status": "ok", "accepted": accepted})

        return hook
