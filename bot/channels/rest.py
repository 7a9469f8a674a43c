"""REST channel (`POST /webhooks/rest/webhook`), Rasa's stock one made strict, failure-proof and, for
integrations, keyed.

Who may call it (credentials.yml, written by bot/rasa_config.py from the settings):

- With API keys configured (MESO_REST_API_KEYS / MESO_REST_API_KEYS_FILE, bot/channels/api_keys.py),
  every request needs one in the `X-API-Key` header (401 otherwise), and the conversation is
  `rest-<integration>-<sender>`: one integration can neither read nor write another's conversations
  or any other channel's. Replies name the caller's own `sender` as `recipient_id`. Each key has its
  own budget of requests a minute (an integration serves many patients from one address).
- Without keys, in development and test only (`open_without_key`), anyone on the port may post and
  the sender is used as given, except the other channels' prefixes (`tg-`, `wa-`, `web-`, `rest-`),
  which are refused; each client address has its budget of requests a minute. This keeps the
  evaluation scorer (../shared/eval/score.py) and `curl` working with no configuration.
- Without keys in production, the channel is off (403): REST is for integrations only.

Refused authentications count per address, and an address past its budget gets 429 before its body is
read. The body is read within REST_BODY_LIMIT (413 before reading when the declared length is larger)
and parsed strictly (bot/channels/bodies.py: 400 for NaN, 1e999, deep nesting...).

The body must be a JSON object with a non-empty string `sender` (at most 128 characters) and a
string `message` (at most 10,000 characters); `metadata`, when present, must be an object. Anything
else gets a 400 (413 for a too-long message) with a JSON error, never a stack trace. Only known
metadata keys are passed on (`consent`), so a client cannot smuggle in other flags; the input
channel is always "rest" (the stock channel lets the client choose it).

A message may carry `client_message_id` (8-64 letters, digits or `._:-`, e.g. a UUID), the integration's
own id for it. Sent again with the same id and `resend: true` (a retry after a 502, 503, 504 or a lost
connection), it gets the reply stored the first time and is neither run nor stored twice (the same id
with another text is a 409); only a resend costs a read of the conversation. Without an id, a retried
message is a new message.

One conversation's messages run one at a time in the order they arrived (bot/channels/limits.py);
beyond the conversation's budget or line the request gets a polite 429 with Retry-After, and the
text in `error` is the reviewed "try again" message, with urgent-care wording when the refused
message has warning signs.

The message and the metadata are cleaned (core/text_clean.py: lone surrogates, NUL and other
control characters, noncharacters) before the dialogue sees them; a `sender` holding such characters
is refused, never repaired, so two senders never become one conversation. If the dialogue fails
(for example the action server is down), the patient still gets a polite reply with the reply
metadata, and warning signs still get urgent-care instructions: the rule-based detector runs here too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.api_keys import HEADER, ApiKeys
from bot.channels.common import (
    MAX_MESSAGE,
    client_message_id,
    client_of,
    collect_turn,
    guard_from,
    json_error,
    read_json,
    refuse_unread_bodies,
    resent_turn,
    too_many,
)
from bot.channels.limits import Guard, Refusal
from bot.tracker_store import require_fail_closed
from core.text_clean import clean_text, clean_value, is_clean

log = logging.getLogger(__name__)

MAX_SENDER = 128
REST_BODY_LIMIT = 256 * 1024
"""A 10,000-character message written as JSON escapes (12 bytes per emoji) fits, with room for metadata."""
ALLOWED_METADATA = ("consent",)
NAMESPACE = "rest-"
RESERVED_PREFIXES = ("tg-", "wa-", "web-", NAMESPACE)  # other channels' and keyed integrations' conversations
BODY_HINT = 'the body must be JSON: {"sender": "...", "message": "..."}'


class ValidatedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        c = credentials or {}
        return cls(
            keys=ApiKeys.from_entries(c.get("api_keys") or []),
            open_without_key=c.get("open_without_key") is True,
            guard=guard_from(c),
        )

    def __init__(self, keys: ApiKeys, open_without_key: bool, guard: Guard) -> None:
        self.keys = keys
        self.open_without_key = open_without_key and not keys
        self.guard = guard

    def _caller(self, request: Request) -> str | HTTPResponse | None:
        """The integration calling (None: the keyless development mode), or the refusal to return."""
        address = client_of(request, self.guard)
        if self.keys:
            blocked = self.guard.auth_blocked(address)
            if blocked:
                return too_many(blocked)
            integration = self.keys.match(request.headers.get(HEADER))
            if integration is None:
                self.guard.auth_failed(address)
                log.warning("REST channel: refused a request without a valid %s", HEADER)
                return json_error(401, f"a valid API key is required in the {HEADER} header")
            refused: Refusal | None = self.guard.request_with_key(integration)
            return too_many(refused) if refused else integration
        if not self.open_without_key:
            return json_error(
                403, "the REST channel is for integrations: it needs API keys (MESO_REST_API_KEYS) in production"
            )
        refused = self.guard.request_from(address)
        return too_many(refused) if refused else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("validated_rest_webhook", __name__)
        refuse_unread_bodies(webhook)
        # Conversations are never kept in memory instead of the tracker database (bot/tracker_store.py).
        webhook.listener("after_server_start")(require_fail_closed)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            caller = self._caller(request)
            if isinstance(caller, HTTPResponse):
                return caller
            body = await read_json(request, REST_BODY_LIMIT, BODY_HINT)
            if isinstance(body, HTTPResponse):
                return body
            if not isinstance(body, dict):
                return json_error(400, "the body must be a JSON object")
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender.strip():
                return json_error(400, "`sender` must be a non-empty string")
            if len(sender) > MAX_SENDER or not is_clean(sender) or any(ord(ch) < 32 for ch in sender):
                return json_error(400, f"`sender` must be at most {MAX_SENDER} printable characters")
            if caller is None and sender.startswith(RESERVED_PREFIXES):
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

            message_id = client_message_id(body)
            if isinstance(message_id, HTTPResponse):
                return message_id

            conversation = f"{NAMESPACE}{caller}-{sender}" if caller else sender
            text = clean_text(text)
            admitted = self.guard.admit(conversation)
            if isinstance(admitted, Refusal):
                log.warning("REST channel: a message to %s refused (%s limit)", conversation, admitted.reason)
                return too_many(admitted, [text])
            agent = request.app.ctx.agent
            async with admitted:
                earlier = await resent_turn(agent, conversation, message_id, text, body.get("resend"))
                if isinstance(earlier, HTTPResponse):
                    return earlier
                messages = (
                    earlier.messages
                    if earlier is not None
                    else await collect_turn(
                        on_new_message, text, conversation, self.name(), metadata, message_id, agent=agent
                    )
                )
            if caller:  # the integration knows its own sender id, not the namespaced one
                messages = [{**m, "recipient_id": sender} if "recipient_id" in m else m for m in messages]
            return response.json(messages)

        return webhook
