"""REST channel (`POST /webhooks/rest/webhook`), Rasa's stock one made strict and failure-proof.

- The body must be a JSON object with a non-empty string `sender` (at most 128 characters) and a
  string `message` (at most 10,000 characters); `metadata`, when present, must be an object.
  Anything else gets a 400 (413 for a too-long message) with a JSON error, never a stack trace.
- Only known metadata keys are passed on (`consent`), so a client cannot smuggle in other flags;
  the input channel is always "rest" (the stock channel lets the client choose it).
- The message and the metadata are cleaned (core/text_clean.py: lone surrogates, NUL and other
  control characters, noncharacters) before the dialogue sees them; a `sender` holding such
  characters is refused, never repaired, so two senders never become one conversation.
- If the dialogue fails (for example the action server is down), the patient still gets a polite
  reply with the reply metadata, and warning signs still get urgent-care instructions: the
  rule-based detector runs here too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import MAX_MESSAGE, collect_turn, json_error
from bot.tracker_store import require_fail_closed
from core.text_clean import clean_text, clean_value, is_clean

log = logging.getLogger(__name__)

MAX_SENDER = 128
ALLOWED_METADATA = ("consent",)
RESERVED_PREFIXES = ("tg-", "wa-", "web-")  # other channels' conversations: REST may not write into them


class ValidatedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("validated_rest_webhook", __name__)
        # Conversations are never kept in memory instead of the tracker database (bot/tracker_store.py).
        webhook.listener("after_server_start")(require_fail_closed)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):
                return json_error(400, 'the body must be JSON: {"sender": "...", "message": "..."}')
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender.strip():
                return json_error(400, "`sender` must be a non-empty string")
            if len(sender) > MAX_SENDER or not is_clean(sender) or any(ord(ch) < 32 for ch in sender):
                return json_error(400, f"`sender` must be at most {MAX_SENDER} printable characters")
            if sender.startswith(RESERVED_PREFIXES):
                return json_error(400, f"`sender` may not start with {', '.join(RESERVED_PREFIXES)} (other channels)")
            text = body.get("message", "")
            if text is None:
                text = ""
            if not isinstance(text, str):
                return json_error(400, "`message` must be a string")
            if len(text) > MAX_MESSAGE:
                return json_error(413, f"`message` is longer than {MAX_MESSAGE} characters")
            raw_meta = body.get("metadata") or {}
            if not isinstance(raw_meta, dict):
                return json_error(400, "`metadata` must be an object")
            metadata = {k: clean_value(raw_meta[k]) for k in ALLOWED_METADATA if k in raw_meta}

            messages = await collect_turn(
                on_new_message, clean_text(text), sender, self.name(), metadata, agent=request.app.ctx.agent
            )
            return response.json(messages)

        return webhook
