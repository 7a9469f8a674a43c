"""WhatsApp Cloud API channel (`/webhooks/whatsapp/webhook`); Rasa 3.6 has none.

- GET: Meta's verification handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
- POST: `X-Hub-Signature-256` must be `sha256=` + HMAC-SHA256 of the raw body with the app
  secret (constant-time compare), else 401 and nothing is recorded. The body is read within
  BODY_LIMIT first (Meta's payloads are at most 3 MB): a larger declared length gets 413 before a
  byte is read or hashed. Refused signatures and verify tokens count per client address, and an
  address past its budget gets 429 before its body is read. The body is parsed strictly
  (bot/channels/bodies.py: 400 for NaN, 1e999, deep nesting...).
- Each message id (`wamid`) is processed once; status callbacks (sent, delivered, read, failed)
  are acknowledged and never treated as patient messages; the webhook answers at once and the turn
  runs in the background. A message is claimed with what it holds and marked done once its reply has
  gone out; one whose process died (or whose handling failed) is run again by whichever process looks
  first once its lease is over (bot/channels/recovery.py), with the stored reply sent instead when the
  turn had run.
- A message whose `timestamp` is older than the configured window (MESO_WHATSAPP_MAX_MESSAGE_AGE_HOURS,
  24 hours by default, always shorter than the two weeks message ids are remembered) or more than
  FUTURE_SKEW seconds ahead is acknowledged and not processed: a captured signed body cannot be
  replayed once its id has been forgotten.
- One patient's messages run one at a time in the order they arrived. At most `messages_per_body`
  messages from one patient are taken from a single body, and each must fit the patient's budget and
  line (bot/channels/limits.py); the others are acknowledged (a 429 would only make Meta deliver
  them again, for days) and answered by one polite "try again" note a minute, with urgent-care
  wording when one of them has warning signs. Refused messages never reach the dialogue, so a flood
  never fills the staff queue.
- Clarifying options become interactive reply buttons (up to 3) or a list (up to 10); a tap comes
  back as an interactive reply carrying the option's payload. Media get a short text reply (an
  image's caption is still read).
- After a curated answer the patient is sometimes asked "Was this answer helpful?" with 👍 / 👎 reply
  buttons (bot/channels/feedback_prompts.py says when: sparingly, never near an emergency or a
  handoff); a tap on one (an interactive reply whose id starts `fb:`) is stored by the channel with
  the answer's passage ids (bot/channels/feedback.py), acknowledged in a short message, and never
  reaches the dialogue.
- A staff reply more than 24 hours after the patient's last message is sent as the configured
  template, as WhatsApp requires. The reply metadata (`meta`) is never sent. Sender ids are
  `wa-<WhatsApp id>`.
- Every string read from a message (text, caption, button ids and titles, ids) is cleaned first
  (core/text_clean.py: lone surrogates, NUL and other control characters, noncharacters), before
  commands are stripped and before the dialogue sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, replace
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.answer_again import Resumed, answer_again
from bot.channels.common import (
    MAX_MESSAGE,
    BackgroundTurns,
    BusyNote,
    Button,
    MessagingAppOutput,
    OnNewMessage,
    Outgoing,
    busy_note,
    chunks,
    client_of,
    display_name,
    for_messaging_app,
    guard_from,
    json_error,
    parse_body,
    read_raw,
    refuse_unread_bodies,
    run_turn,
    too_many,
    truncate,
    unreadable_text,
)
from bot.channels.deliveries import CLAIM_LEASE, KEEP_SECONDS, Claim, DeliveryLog
from bot.channels.feedback import FeedbackStore
from bot.channels.feedback_prompts import QUESTION, FeedbackPrompts, is_feedback
from bot.channels.limits import Guard, Refusal, Ticket
from bot.channels.platform_api import PlatformApi
from bot.channels.recovery import RECOVERY_EVERY, Recovery, Undelivered, rebuild
from bot.channels.staff import DeliveryResult
from core.text_clean import clean_text

log = logging.getLogger(__name__)

PREFIX = "wa-"
TEXT_LIMIT = 4000  # WhatsApp allows 4096 characters per text message
BODY_LIMIT = 1024  # body of an interactive message
SERVICE_WINDOW = 24 * 3600
BODY_LIMIT = 3 * 1024 * 1024
"""Meta's webhook payloads are at most 3 MB (up to 1,000 notifications batched)."""
DEFAULT_MAX_AGE = 24 * 3600.0
FUTURE_SKEW = 300.0
"""Seconds a message's timestamp may be ahead of this server's clock."""
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
    timestamp: float | None = None
    """When the patient sent it (Unix seconds, Meta's `timestamp`); None if missing or unreadable."""
    feedback: str | None = None
    """A tap on a "Was this answer helpful?" button (its id): handled by the channel, not a message."""
    name: str | None = None
    """The patient's WhatsApp profile name (`contacts[].profile.name`), for the staff console's queue."""

    def age_problem(self, now: float, max_age: float) -> str | None:
        """Why this message is too old or too far ahead to process (None: it is not)."""
        if self.timestamp is None:
            return "no timestamp"
        if now - self.timestamp > max_age:
            return f"{(now - self.timestamp) / 3600:.1f} hours old"
        if self.timestamp - now > FUTURE_SKEW:
            return f"{self.timestamp - now:.0f} s in the future"
        return None


def parse_messages(body: dict[str, Any]) -> list[Incoming]:
    """The patient messages in a webhook body. Status callbacks and reactions are not messages."""
    found: list[Incoming] = []
    for entry in _list(body.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            names = profile_names(_list(value.get("contacts") if isinstance(value, dict) else None))
            for message in _list(value.get("messages") if isinstance(value, dict) else None):
                incoming = parse_message(message)
                if incoming:
                    found.append(replace(incoming, name=names.get(incoming.wa_id)))
    return found


def profile_names(contacts: list[Any]) -> dict[str, str]:
    """wa_id -> the profile name WhatsApp sends beside the messages (cleaned, at most NAME_LIMIT characters)."""
    names: dict[str, str] = {}
    for contact in contacts:
        contact = _dict(contact)
        name = display_name(_dict(contact.get("profile")).get("name"))
        if name and contact.get("wa_id") is not None:
            names[clean_text(str(contact["wa_id"]))] = name
    return names


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _timestamp(value: Any) -> float | None:
    """Meta sends the Unix time as a string of digits."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    return float(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def parse_message(message: dict[str, Any]) -> Incoming | None:
    if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
        return None
    wa_id, wamid, kind = clean_text(str(message["from"])), clean_text(str(message["id"])), message.get("type")
    sent = _timestamp(message.get("timestamp"))
    if kind == "text":
        body = clean_text(str(_dict(message.get("text")).get("body") or ""))
        return Incoming(wa_id, wamid, text=body.strip().lstrip("/")[:MAX_MESSAGE] or None, timestamp=sent)
    if kind == "interactive":
        reply = _dict(message.get("interactive"))
        chosen = _dict(reply.get("button_reply") or reply.get("list_reply"))
        choice = clean_text(str(chosen.get("id") or chosen.get("title") or ""))
        if is_feedback(choice):
            return Incoming(wa_id, wamid, feedback=choice[:MAX_MESSAGE], timestamp=sent)
        return Incoming(wa_id, wamid, text=choice[:MAX_MESSAGE] or None, timestamp=sent)
    if kind == "button":  # quick-reply button of a template
        button = _dict(message.get("button"))
        pressed = clean_text(str(button.get("text") or button.get("payload") or ""))
        return Incoming(wa_id, wamid, text=pressed.strip().lstrip("/")[:MAX_MESSAGE] or None, timestamp=sent)
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
        timestamp=sent,
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
            guard=guard_from(c),
            max_age=float(c.get("max_message_age_seconds") or DEFAULT_MAX_AGE),
            claim_lease=float(c.get("claim_lease_seconds") or CLAIM_LEASE),
            recovery_every=float(c.get("recovery_seconds") or RECOVERY_EVERY),
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
        guard: Guard,
        max_age: float = DEFAULT_MAX_AGE,
        claim_lease: float = CLAIM_LEASE,
        recovery_every: float = RECOVERY_EVERY,
    ) -> None:
        if not (access_token and phone_number_id and app_secret and verify_token and deliveries_url):
            raise ValueError(
                "the WhatsApp channel needs access_token, phone_number_id, app_secret, verify_token, deliveries_db_url"
            )
        if not 0 < max_age < KEEP_SECONDS:
            # an older message could be a replay whose id has been forgotten already
            raise ValueError(f"the WhatsApp max_message_age_seconds must be in (0, {KEEP_SECONDS})")
        self.guard = guard
        self.max_age = max_age
        self.app_secret = app_secret.encode()
        self.verify_token = verify_token.encode()
        self.api = PlatformApi(
            f"{api_base.rstrip('/')}/{phone_number_id}",
            headers={"Authorization": f"Bearer {access_token}"},
            name="WhatsApp",
        )
        self.template_name = template_name
        self.template_language = template_language
        self.deliveries = DeliveryLog(deliveries_url, claim_lease)
        self.recovery = Recovery(self.deliveries, "whatsapp", recovery_every)
        self.background = BackgroundTurns()
        self.feedback = FeedbackPrompts(FeedbackStore(deliveries_url), self.name())

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

    async def _handle(self, incoming: Incoming, ticket: Ticket, on_new_message: OnNewMessage, agent: Any) -> None:
        """One message, in its place in the patient's line."""
        sender = PREFIX + incoming.wa_id
        async with ticket:
            if incoming.feedback is not None:
                # a 👍 / 👎 (or a reason after a 👎): stored and acknowledged, never a turn
                said = await self.feedback.tap(sender, incoming.feedback)
                buttons = tuple(Button(t, p) for t, p in said.buttons)
                await self.send(sender, [Outgoing(said.follow_up or said.ack, buttons)])
                return
            if incoming.unreadable:
                await self.send(sender, [Outgoing(unreadable_text(incoming.unreadable))])
            if not incoming.text:
                return
            reply = await run_turn(
                on_new_message,
                incoming.text,
                sender,
                self.name(),
                {"display_name": incoming.name} if incoming.name else None,
                message_id=incoming.message_id,
                agent=agent,
            )
            await self.send(sender, for_messaging_app(reply))
            if reply.stored:
                thumbs = await self.feedback.after_answer(
                    sender, incoming.message_id, reply.meta, [m.text for m in reply.messages], agent
                )
                if thumbs:
                    await self.send(sender, [Outgoing(QUESTION, tuple(Button(t, p) for t, p in thumbs))])

    async def _tell(self, sender: str, note: BusyNote) -> None:
        async with note.ticket:
            await self.send(sender, [Outgoing(note.text)])

    async def _handle_once(self, incoming: Incoming, ticket: Ticket, on_new_message: OnNewMessage, agent: Any) -> None:
        """`_handle`, then the delivery marked done (a message whose handling failed stays claimed, and
        any process runs it again once its lease is over)."""
        await self._handle(incoming, ticket, on_new_message, agent)
        await asyncio.to_thread(self.deliveries.done, "whatsapp", incoming.message_id)

    async def _run_again(self, claim: Claim, on_new_message: OnNewMessage, agent: Any) -> None:
        """A message another process claimed and never finished: its stored reply sent when the turn ran
        already, else handled as the webhook would have."""
        incoming = rebuild(Incoming, claim.payload.get("incoming"))
        if incoming is None:
            log.error("WhatsApp message %s: its claim holds no message to run again; dropped", claim.delivery_id)
            await asyncio.to_thread(self.deliveries.done, "whatsapp", claim.delivery_id)
            return
        await answer_again(
            claim,
            Resumed(PREFIX + incoming.wa_id, incoming.message_id, bool(incoming.text)),
            self,
            self.deliveries,
            self.guard,
            agent,
            lambda ticket: self._handle_once(incoming, ticket, on_new_message, agent),
        )

    @staticmethod
    def _undelivered(claim: Claim) -> Undelivered:
        incoming = rebuild(Incoming, claim.payload.get("incoming"))
        return Undelivered(PREFIX + incoming.wa_id, incoming.text or "") if incoming else Undelivered("", "")

    def _fresh(self, messages: list[Incoming]) -> tuple[list[Incoming], int]:
        """The messages young enough to process, and how many were not."""
        now, fresh = time.time(), []
        for incoming in messages:
            problem = incoming.age_problem(now, self.max_age)
            if problem:
                log.warning("WhatsApp message %s not processed: %s (acknowledged)", incoming.message_id, problem)
            else:
                fresh.append(incoming)
        return fresh, len(messages) - len(fresh)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("whatsapp_webhook", __name__)
        refuse_unread_bodies(hook)
        self.recovery.start_with(
            hook,
            lambda app: lambda claim: self._run_again(claim, on_new_message, app.ctx.agent),
            self._undelivered,
        )

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            address = client_of(request, self.guard)
            blocked = self.guard.auth_blocked(address)
            if blocked:
                return too_many(blocked)
            mode = request.args.get("hub.mode")
            token = (request.args.get("hub.verify_token") or "").encode()
            challenge = request.args.get("hub.challenge") or ""
            if mode == "subscribe" and challenge and hmac.compare_digest(token, self.verify_token):
                return response.text(challenge)
            self.guard.auth_failed(address)
            return json_error(403, "verification failed")

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            address = client_of(request, self.guard)
            blocked = self.guard.auth_blocked(address)
            if blocked:
                return too_many(blocked)
            raw = await read_raw(request, BODY_LIMIT)
            if isinstance(raw, HTTPResponse):
                return raw
            if not signature_ok(raw, request.headers.get("X-Hub-Signature-256"), self.app_secret):
                self.guard.auth_failed(address)
                log.warning("WhatsApp webhook: refused a POST without a valid X-Hub-Signature-256")
                return json_error(401, "invalid signature")
            body = parse_body(raw, "the body must be JSON")
            if isinstance(body, HTTPResponse):
                return body
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            fresh, stale = self._fresh(parse_messages(body))
            taken: dict[str, int] = defaultdict(int)
            refused: dict[str, list[str]] = defaultdict(list)
            accepted = 0
            for incoming in fresh:
                sender = PREFIX + incoming.wa_id
                taken[sender] += 1
                if taken[sender] > self.guard.limits.messages_per_body:
                    # not recorded as delivered either (one write less each): Meta does not send an
                    # acknowledged body again, and a replay would meet the same limits
                    refused[sender].append(incoming.text or "")
                    continue
                if not self.deliveries.claim("whatsapp", incoming.message_id, {"incoming": asdict(incoming)}):
                    log.info("WhatsApp message %s delivered again: ignored", incoming.message_id)
                    continue
                admitted = self.guard.admit(sender)
                if isinstance(admitted, Refusal):
                    self.deliveries.done("whatsapp", incoming.message_id)  # acknowledged with the busy note
                    refused[sender].append(incoming.text or "")
                    continue
                self.background.start(
                    self._handle_once(incoming, admitted, on_new_message, request.app.ctx.agent),
                    f"whatsapp {incoming.message_id}",
                )
                accepted += 1
            for sender, texts in refused.items():
                note = busy_note(self.guard, sender, texts)
                if note is not None:
                    self.background.start(self._tell(sender, note), f"whatsapp note to {sender}")
            return response.json(
                {"status": "ok", "accepted": accepted, "refused": sum(map(len, refused.values())), "stale": stale}
            )

        return hook
