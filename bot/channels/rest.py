"""REST channel (`POST /webhooks/rest/webhook`), Rasa's stock one made strict and failure-proof.

- The body must be a JSON object with a non-empty string `sender` (at most 128 characters) and a
  string `message` (at most 10,000 characters); `metadata`, when present, must be an object.
  Anything else gets a 400 (413 for a too-long message) with a JSON error, never a stack trace.
- Only known metadata keys are passed on (`consent`), so a client cannot smuggle in other flags;
  the input channel is always "rest" (the stock channel lets the client choose it).
- If the dialogue fails (for example the action server is down), the patient still gets a polite
  reply with the reply metadata, and warning signs still get urgent-care instructions: the
  rule-based detector runs here too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.safety.warning_signs import detect_warning_signs

log = logging.getLogger(__name__)

MAX_SENDER = 128
MAX_MESSAGE = 10_000
ALLOWED_METADATA = ("consent",)
DISCLAIMER = "General information only, not medical advice: a clinician decides what is right for you."


def _clinic() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("MESO_CLINIC_FILE", root / "clinic.yml"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, yaml.YAMLError):
        return {}


def fallback_reply(sender: str, text: str) -> list[dict[str, Any]]:
    """What the patient gets when the dialogue could not produce a reply."""
    clinic = _clinic()
    emergency = clinic.get("emergency_number", "your local emergency number")
    phone = clinic.get("phone", "the clinic")
    if detect_warning_signs(text):
        log.error("EMERGENCY from %s answered by the channel fallback (dialogue failed)", sender)
        body = (
            f"What you describe can be a sign of a serious reaction. Please call {emergency} or go to the "
            f"nearest emergency department now. Do not wait for a reply here. Clinic phone: {phone}.\n\n{DISCLAIMER}"
        )
        meta = {"kind": "emergency", "handoff": False, "reason": "channel_fallback"}
    else:
        body = (
            "Sorry, I couldn't process that just now. Please try again in a moment, or call us on "
            f"{phone}. If you feel unwell after a treatment, call {emergency}.\n\n{DISCLAIMER}"
        )
        meta = {"kind": "clarify", "handoff": False, "reason": "channel_fallback"}
    meta.update({"topics": [], "passage_ids": [], "confidence": 0.0, "disclaimer": True})
    return [{"recipient_id": sender, "text": body}, {"recipient_id": sender, "custom": {"meta": meta}}]


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class ValidatedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("validated_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return _error(400, 'the body must be JSON: {"sender": "...", "message": "..."}')
            if not isinstance(body, dict):
                return _error(400, "the body must be a JSON object")
            sender = body.get("sender")
            if not isinstance(sender, str) or not sender.strip():
                return _error(400, "`sender` must be a non-empty string")
            if len(sender) > MAX_SENDER or any(ord(ch) < 32 for ch in sender):
                return _error(400, f"`sender` must be at most {MAX_SENDER} printable characters")
            text = body.get("message", "")
            if text is None:
                text = ""
            if not isinstance(text, str):
                return _error(400, "`message` must be a string")
            if len(text) > MAX_MESSAGE:
                return _error(413, f"`message` is longer than {MAX_MESSAGE} characters")
            raw_meta = body.get("metadata") or {}
            if not isinstance(raw_meta, dict):
                return _error(400, "`metadata` must be an object")
            metadata = {k: raw_meta[k] for k in ALLOWED_METADATA if k in raw_meta}

            collector = CollectingOutputChannel()
            failed = False
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:
                log.exception("dialogue failed for sender %s", sender)
                failed = True
            messages = collector.messages
            has_meta = any(isinstance(m.get("custom"), dict) and "meta" in m["custom"] for m in messages)
            if failed or not has_meta:
                messages = messages + fallback_reply(sender, text)
            return response.json(messages)

        return webhook
