"""Staff replies (`POST /webhooks/staff/reply`): a clinician's answer to a handed-off conversation
reaches the patient on the channel they last used (web widget, Telegram, WhatsApp) and is stored
in the conversation as a bot event marked `staff_reply`.

    POST /webhooks/staff/reply
    Authorization: Bearer <MESO_RASA_TOKEN>
    {"sender_id": "tg-123", "text": "Hello, this is Dr Rao...", "author": "dr.rao"}

200 {"delivered": true, "via": "telegram"}; 401 bad token; 404 unknown conversation; 409 the
channel cannot take it (e.g. WhatsApp's 24-hour window without a template); 502 the platform
refused it (nothing is stored, so staff can retry).

The text and the author are cleaned (core/text_clean.py) before they are sent or stored; a
`sender_id` holding characters no conversation id can hold is refused (400).
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import json_error
from core.text_clean import clean_text, is_clean

log = logging.getLogger(__name__)

MAX_REPLY = 4000


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    via: str
    error: str = ""
    status: int = 502


class TakesStaffReplies(Protocol):
    async def deliver_staff_reply(
        self, recipient: str, text: str, last_user_message_at: float | None
    ) -> DeliveryResult: ...


class StaffReplyInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(str((credentials or {}).get("token") or ""))

    def __init__(self, token: str) -> None:
        self.token = token.encode()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        hook = Blueprint("staff_reply", __name__)

        @hook.route("/reply", methods=["POST"])
        async def reply(request: Request) -> HTTPResponse:
            given = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip().encode()
            if not self.token or not hmac.compare_digest(given, self.token):
                return json_error(401, "a valid staff token is required (Authorization: Bearer <MESO_RASA_TOKEN>)")
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):
                return json_error(400, "the body must be JSON")
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            sender, text, author = body.get("sender_id"), body.get("text"), body.get("author") or "staff"
            if not isinstance(sender, str) or not sender or len(sender) > 255 or not is_clean(sender):
                return json_error(400, "`sender_id` must be a non-empty string of at most 255 printable characters")
            if not isinstance(text, str) or not clean_text(text).strip():
                return json_error(400, "`text` must be a non-empty string")
            if len(text) > MAX_REPLY:
                return json_error(413, f"`text` is longer than {MAX_REPLY} characters")
            if not isinstance(author, str) or len(author) > 128:
                return json_error(400, "`author` must be a string of at most 128 characters")
            text, author = clean_text(text).strip(), clean_text(author)

            agent = request.app.ctx.agent
            store = agent.tracker_store
            async with agent.lock_store.lock(sender):
                full = await store.retrieve_full_tracker(sender)
                users = [e for e in full.events if isinstance(e, UserUttered)] if full else []
                if not full or not users:
                    return json_error(404, f"no conversation with {sender!r}")
                channel_name = full.get_latest_input_channel()
                channel = next(
                    (
                        c
                        for c in getattr(request.app.ctx, "input_channels", []) or []
                        if c.name() == channel_name and hasattr(c, "deliver_staff_reply")
                    ),
                    None,
                )
                if channel is None:
                    return json_error(
                        409, f"the patient wrote on the {channel_name!r} channel, which cannot receive replies"
                    )
                result: DeliveryResult = await channel.deliver_staff_reply(sender, text, users[-1].timestamp)
                if not result.delivered:
                    log.error("staff reply to %s not delivered: %s", sender, result.error)
                    return json_error(result.status, result.error or "the reply could not be delivered")
                # saved through the current session's tracker: the store appends only its new events
                tracker = await store.retrieve(sender) or full
                tracker.update(BotUttered(text, metadata={"staff_reply": True, "author": author, "via": result.via}))
                await store.save(tracker)
            log.info("staff reply by %s delivered to %s via %s", author, sender, result.via)
            return response.json({"delivered": True, "via": result.via})

        return hook
