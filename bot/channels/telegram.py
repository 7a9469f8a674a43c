"""Telegram channel (`POST /webhooks/telegram/webhook`), replacing Rasa's stock connector, which
does not check who sent an update.

- Every update must carry `X-Telegram-Bot-Api-Secret-Token` equal to the configured secret (the
  `secret_token` given to setWebhook), compared in constant time; anything else gets a 403 and is
  not recorded. Refused secrets count per client address, and an address past its budget gets 429
  before its body is read.
- The body is read within BODY_LIMIT (413 before reading when the declared length is larger) and
  parsed strictly (bot/channels/bodies.py: 400 for NaN, 1e999, deep nesting...).
- Each `update_id` is processed once (bot/channels/deliveries.py), so Telegram's retries and
  replays produce one user event and one reply. The update is claimed with what the patient sent and
  marked done once the reply has gone out; an update whose process died (or whose handling failed) is
  run again by whichever process looks first once its lease is over (bot/channels/recovery.py), with
  the stored reply sent instead when the turn had run.
- The webhook answers at once and the turn runs in the background, so a slow action never makes
  Telegram retry. One chat's messages run one at a time in the order they arrived; beyond the chat's
  budget or line (bot/channels/limits.py) the update is still acknowledged (a 429 would only make
  Telegram deliver it again) and the patient gets one polite "try again" note a minute, with
  urgent-care wording when a refused message has warning signs. Refused messages never reach the
  dialogue, so a flood never fills the staff queue.
- Clarifying options become inline keyboard buttons; a tap comes back as a callback query with the
  button's payload. Photos, stickers, voice notes, edits... get a short text-only reply (a photo's
  caption is still read, so warning signs in it are not missed).
- After a curated answer the patient is sometimes asked "Was this answer helpful?" with 👍 / 👎
  buttons (bot/channels/feedback_prompts.py says when: sparingly, never near an emergency or a
  handoff); a tap on one (callback data `fb:...`) is stored by the channel with the answer's passage
  ids (bot/channels/feedback.py), acknowledged in the button's toast, and never reaches the dialogue.
- The reply metadata (`meta`) is never sent. Sender ids are `tg-<chat id>`.
- Every string read from an update (text, caption, button data, ids) is cleaned first
  (core/text_clean.py: lone surrogates, NUL and other control characters, noncharacters), before
  commands are recognised and before the dialogue sees it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from dataclasses import asdict, dataclass
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
    read_json,
    refuse_unread_bodies,
    run_turn,
    too_many,
    truncate,
    unreadable_text,
)
from bot.channels.deliveries import CLAIM_LEASE, Claim, DeliveryLog
from bot.channels.feedback import FeedbackStore
from bot.channels.feedback_prompts import QUESTION, FeedbackPrompts, is_feedback
from bot.channels.limits import Guard, Refusal, Ticket
from bot.channels.platform_api import PlatformApi
from bot.channels.recovery import RECOVERY_EVERY, Recovery, Undelivered, rebuild
from bot.channels.staff import DeliveryResult
from core.text_clean import clean_text

log = logging.getLogger(__name__)

PREFIX = "tg-"
TEXT_LIMIT = 4000  # Telegram allows 4096 characters per message
CALLBACK_LIMIT = 64  # bytes of callback_data
BODY_LIMIT = 1024 * 1024  # an update holds one message (4,096 characters) and what it replies to
UNREADABLE = {
    "photo": "photos",
    "sticker": "stickers",
    "voice": "voice notes",
    "audio": "audio files",
    "video": "videos",
    "video_note": "video messages",
    "animation": "GIFs",
    "document": "files",
    "location": "locations",
    "venue": "locations",
    "contact": "contact cards",
    "poll": "polls",
    "dice": "that",
}


@dataclass(frozen=True)
class Incoming:
    chat_id: str
    text: str | None = None
    unreadable: str | None = None  # what the patient sent that cannot be read ("photos", "edited messages")
    callback_id: str | None = None
    feedback: str | None = None  # a tap on a "Was this answer helpful?" button: handled here, not a message
    name: str | None = None  # the patient's Telegram first name (`from.first_name`), for the staff console's queue


def parse_update(update: dict[str, Any], callbacks: dict[str, str]) -> Incoming | None:
    """The patient's message in a Telegram update; None for updates the assistant ignores."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat = _dict(_dict(query.get("message")).get("chat")).get("id") or _dict(query.get("from")).get("id")
        if chat is None:
            return None
        data = clean_text(str(query.get("data") or ""))
        payload = clean_text(callbacks.get(data, data))
        if is_feedback(payload):
            return Incoming(clean_text(str(chat)), feedback=payload, callback_id=clean_text(str(query.get("id", ""))))
        return Incoming(
            clean_text(str(chat)),
            text=payload[:MAX_MESSAGE] or None,
            callback_id=clean_text(str(query.get("id", ""))),
            name=display_name(_dict(query.get("from")).get("first_name")),
        )
    edited = update.get("edited_message")
    if isinstance(edited, dict) and isinstance(edited.get("chat"), dict):
        return Incoming(clean_text(str(edited["chat"].get("id"))), unreadable="edited messages")
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None  # channel posts, membership changes, polls answers...
    if message["chat"].get("type", "private") != "private":
        return None  # the assistant talks to patients one to one, never in groups
    chat_id = clean_text(str(message["chat"].get("id")))
    name = display_name(_dict(message.get("from")).get("first_name"))
    text = message.get("text")
    if isinstance(text, str):
        return Incoming(chat_id, text=patient_text(text), name=name)
    kind = next((UNREADABLE[k] for k in UNREADABLE if k in message), "this kind of message")
    caption = message.get("caption")
    return Incoming(
        chat_id, text=patient_text(caption) if isinstance(caption, str) else None, unreadable=kind, name=name
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def patient_text(text: str) -> str:
    """Typed text, cleaned, is never read as a Rasa intent command: `/start` is a greeting, other
    `/words` lose the slash."""
    stripped = clean_text(text).strip()
    if stripped.split("@")[0] == "/start":
        return "Hello"
    return stripped.lstrip("/")[:MAX_MESSAGE]


class TelegramOutput(MessagingAppOutput):
    @classmethod
    def name(cls) -> str:
        return "telegram"


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        c = credentials or {}
        return cls(
            token=str(c.get("access_token") or ""),
            secret=str(c.get("secret_token") or ""),
            api_base=str(c.get("api_base") or "https://api.telegram.org"),
            deliveries_url=str(c.get("deliveries_db_url") or ""),
            guard=guard_from(c),
            claim_lease=float(c.get("claim_lease_seconds") or CLAIM_LEASE),
            recovery_every=float(c.get("recovery_seconds") or RECOVERY_EVERY),
        )

    def __init__(
        self,
        token: str,
        secret: str,
        api_base: str,
        deliveries_url: str,
        guard: Guard,
        claim_lease: float = CLAIM_LEASE,
        recovery_every: float = RECOVERY_EVERY,
    ) -> None:
        if not token or len(secret) < 16 or not deliveries_url:
            raise ValueError(
                "the Telegram channel needs access_token, a secret_token of at least 16 characters and deliveries_db_url"
            )
        self.secret = secret.encode()
        self.api = PlatformApi(f"{api_base.rstrip('/')}/bot{token}", name="Telegram")
        self.deliveries = DeliveryLog(deliveries_url, claim_lease)
        self.recovery = Recovery(self.deliveries, "telegram", recovery_every)
        self.background = BackgroundTurns()
        self.guard = guard
        self.callbacks: dict[str, str] = {}  # short key -> payload, for payloads over 64 bytes
        self.feedback = FeedbackPrompts(FeedbackStore(deliveries_url), self.name())

    def url_prefix(self) -> str:
        return "telegram"

    def get_output_channel(self) -> OutputChannel:
        return TelegramOutput(self)

    # -- outgoing ------------------------------------------------------------------------------

    def _callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_LIMIT:
            return payload
        key = "k:" + hashlib.sha256(payload.encode()).hexdigest()[:20]
        self.callbacks[key] = payload
        return key

    async def send(self, recipient: str, messages: list[Outgoing]) -> bool:
        chat_id = recipient.removeprefix(PREFIX)
        ok = True
        for message in messages:
            parts = chunks(message.text, TEXT_LIMIT) or [""]
            for i, part in enumerate(parts):
                payload: dict[str, Any] = {"chat_id": chat_id, "text": part or "Please choose:"}
                if message.buttons and i == len(parts) - 1:
                    payload["reply_markup"] = {
                        "inline_keyboard": [
                            [{"text": truncate(b.title, 60), "callback_data": self._callback_data(b.payload)}]
                            for b in message.buttons
                        ]
                    }
                ok = (await self.api.post("sendMessage", payload)).ok and ok
        return ok

    async def deliver_staff_reply(
        self, recipient: str, text: str, last_user_message_at: float | None
    ) -> DeliveryResult:
        ok = await self.send(recipient, [Outgoing(text)])
        return DeliveryResult(ok, "telegram", "" if ok else "the Telegram API refused the message")

    # -- incoming ------------------------------------------------------------------------------

    async def _handle(
        self, incoming: Incoming, update_id: int, ticket: Ticket, on_new_message: OnNewMessage, agent: Any
    ) -> None:
        """One update, in its place in the chat's line."""
        sender = PREFIX + incoming.chat_id
        async with ticket:
            if incoming.feedback is not None:
                await self._feedback_tap(sender, incoming)
                return
            if incoming.callback_id:
                await self.api.post("answerCallbackQuery", {"callback_query_id": incoming.callback_id})
            if incoming.unreadable:
                await self.send(sender, [Outgoing(unreadable_text(incoming.unreadable))])
            if not incoming.text:
                return
            await self.api.post("sendChatAction", {"chat_id": incoming.chat_id, "action": "typing"})
            answer_id = f"tg-{update_id}"
            reply = await run_turn(
                on_new_message,
                incoming.text,
                sender,
                self.name(),
                {"display_name": incoming.name} if incoming.name else None,
                message_id=answer_id,
                agent=agent,
            )
            await self.send(sender, for_messaging_app(reply))
            if reply.stored:
                thumbs = await self.feedback.after_answer(
                    sender, answer_id, reply.meta, [m.text for m in reply.messages], agent
                )
                if thumbs:
                    await self.send(sender, [Outgoing(QUESTION, tuple(Button(t, p) for t, p in thumbs))])

    async def _handle_once(
        self, incoming: Incoming, update_id: int, ticket: Ticket, on_new_message: OnNewMessage, agent: Any
    ) -> None:
        """`_handle`, then the delivery marked done (an update whose handling failed stays claimed, and
        any process runs it again once its lease is over)."""
        await self._handle(incoming, update_id, ticket, on_new_message, agent)
        await asyncio.to_thread(self.deliveries.done, "telegram", str(update_id))

    async def _run_again(self, claim: Claim, on_new_message: OnNewMessage, agent: Any) -> None:
        """An update another process claimed and never finished: its stored reply sent when the turn
        ran already, else handled as the webhook would have."""
        incoming = rebuild(Incoming, claim.payload.get("incoming"))
        update_id = claim.payload.get("update_id")
        if incoming is None or not isinstance(update_id, int):
            log.error("Telegram update %s: its claim holds no update to run again; dropped", claim.delivery_id)
            await asyncio.to_thread(self.deliveries.done, "telegram", claim.delivery_id)
            return
        await answer_again(
            claim,
            Resumed(PREFIX + incoming.chat_id, f"tg-{update_id}", bool(incoming.text)),
            self,
            self.deliveries,
            self.guard,
            agent,
            lambda ticket: self._handle_once(incoming, update_id, ticket, on_new_message, agent),
        )

    @staticmethod
    def _undelivered(claim: Claim) -> Undelivered:
        incoming = rebuild(Incoming, claim.payload.get("incoming"))
        return Undelivered(PREFIX + incoming.chat_id, incoming.text or "") if incoming else Undelivered("", "")

    async def _feedback_tap(self, sender: str, incoming: Incoming) -> None:
        """A 👍 / 👎 (or a reason after a 👎): stored, acknowledged in the button's toast, never a turn."""
        said = await self.feedback.tap(sender, incoming.feedback or "")
        if incoming.callback_id:
            await self.api.post("answerCallbackQuery", {"callback_query_id": incoming.callback_id, "text": said.ack})
        if said.follow_up:
            await self.send(sender, [Outgoing(said.follow_up, tuple(Button(t, p) for t, p in said.buttons))])

    async def _refused(self, incoming: Incoming, note: BusyNote | None) -> None:
        """A refused update: the button tap is still acknowledged (so its spinner stops), and the
        patient gets the note when one is due."""
        if incoming.callback_id:
            await self.api.post("answerCallbackQuery", {"callback_query_id": incoming.callback_id})
        if note is not None:
            async with note.ticket:
                await self.send(PREFIX + incoming.chat_id, [Outgoing(note.text)])

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("telegram_webhook", __name__)
        refuse_unread_bodies(hook)
        self.recovery.start_with(
            hook,
            lambda app: lambda claim: self._run_again(claim, on_new_message, app.ctx.agent),
            self._undelivered,
        )

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            address = client_of(request, self.guard)
            blocked = self.guard.auth_blocked(address)
            if blocked:
                return too_many(blocked)
            given = (request.headers.get("X-Telegram-Bot-Api-Secret-Token") or "").encode()
            if not hmac.compare_digest(given, self.secret):
                self.guard.auth_failed(address)
                log.warning("Telegram webhook: refused an update without the right secret token")
                return json_error(403, "forbidden")
            update = await read_json(request, BODY_LIMIT, "the body must be a JSON Telegram Update")
            if isinstance(update, HTTPResponse):
                return update
            if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
                return json_error(400, "not a Telegram Update (no update_id)")
            update_id = update["update_id"]
            incoming = parse_update(update, self.callbacks)
            if incoming is None:
                return response.json({"status": "ignored"})
            if not self.deliveries.claim(
                "telegram", str(update_id), {"update_id": update_id, "incoming": asdict(incoming)}
            ):
                log.info("Telegram update %s delivered again: ignored", update_id)
                return response.json({"status": "duplicate"})
            sender = PREFIX + incoming.chat_id
            admitted = self.guard.admit(sender)
            if isinstance(admitted, Refusal):
                # acknowledged all the same: Telegram would only deliver a refused update again
                self.deliveries.done("telegram", str(update_id))
                note = busy_note(self.guard, sender, [incoming.text or ""])
                self.background.start(self._refused(incoming, note), f"telegram update {update_id} refused")
                return response.json({"status": "refused", "limit": admitted.reason})
            self.background.start(
                self._handle_once(incoming, update_id, admitted, on_new_message, request.app.ctx.agent),
                f"telegram update {update_id}",
            )
            return response.json({"status": "accepted"})

        return hook
