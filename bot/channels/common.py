"""What every patient-facing channel shares: running one turn through the dialogue, splitting the
bot's messages into what the patient sees and the internal reply metadata (which never leaves),
the polite fallback when the dialogue fails, and the wording for things a channel cannot read.

Runs inside the Rasa server (Python 3.10 environment): standard library, Rasa and Sanic only.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import response
from sanic.response import HTTPResponse

from actions.safety.warning_signs import detect_warning_signs

log = logging.getLogger(__name__)

MAX_MESSAGE = 10_000
DISCLAIMER = "General information only, not medical advice: a clinician decides what is right for you."
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def clinic() -> dict[str, Any]:
    """The clinic's configuration (clinic.yml, or MESO_CLINIC_FILE); {} if unreadable."""
    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("MESO_CLINIC_FILE", root / "clinic.yml"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, yaml.YAMLError):
        return {}


def fallback_reply(sender: str, text: str) -> list[dict[str, Any]]:
    """What the patient gets when the dialogue could not produce a reply (as Rasa messages)."""
    info = clinic()
    emergency = info.get("emergency_number", "your local emergency number")
    phone = info.get("phone", "the clinic")
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


def unreadable_text(what: str) -> str:
    """Reply to a photo, voice note, sticker, edit... that the assistant cannot read."""
    info = clinic()
    emergency = info.get("emergency_number", "your local emergency number")
    return (
        f"I'm an automated assistant and can only read text messages, so I can't open {what}. "
        "Please type your question instead. If you feel unwell after a treatment, call "
        f"{emergency} or go to the nearest emergency department."
    )


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Outgoing:
    """One message as the patient sees it: text and optional buttons, no metadata."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass
class Reply:
    """The bot's reply to one patient message, split into what is sent and what stays inside."""

    messages: list[Outgoing] = field(default_factory=list)
    meta: dict[str, Any] | None = None

    @property
    def kind(self) -> str | None:
        return (self.meta or {}).get("kind")

    @property
    def handoff(self) -> bool:
        return bool((self.meta or {}).get("handoff"))


def split_reply(collected: list[dict[str, Any]]) -> Reply:
    """Rasa's collected messages -> patient-visible messages + the reply metadata (dropped from output)."""
    reply = Reply()
    for message in collected:
        custom = message.get("custom")
        if isinstance(custom, dict) and "meta" in custom:
            reply.meta = custom["meta"] if isinstance(custom["meta"], dict) else None
            continue  # internal: never delivered
        text = message.get("text") or ""
        buttons = tuple(
            Button(str(b.get("title", "")), str(b.get("payload", "")))
            for b in message.get("buttons") or []
            if isinstance(b, dict) and b.get("payload")
        )
        if text or buttons:
            reply.messages.append(Outgoing(text, buttons))
    return reply


async def collect_turn(
    on_new_message: OnNewMessage,
    text: str,
    sender: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> list[dict[str, Any]]:
    """One patient message through the dialogue, as Rasa's messages (reply metadata included).
    Never raises: if the dialogue fails or produces no reply metadata, the polite fallback
    (urgent-care text for warning signs) is added."""
    collector = CollectingOutputChannel()
    failed = False
    try:
        await on_new_message(
            UserMessage(text, collector, sender, input_channel=channel, metadata=metadata or {}, message_id=message_id)
        )
    except Exception:
        log.exception("dialogue failed for %s sender %s", channel, sender)
        failed = True
    messages = collector.messages
    has_meta = any(isinstance(m.get("custom"), dict) and "meta" in m["custom"] for m in messages)
    if failed or not has_meta:
        messages = messages + fallback_reply(sender, text)
    return messages


async def run_turn(
    on_new_message: OnNewMessage,
    text: str,
    sender: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> Reply:
    """One patient message through the dialogue, split into what the patient sees and the metadata."""
    return split_reply(await collect_turn(on_new_message, text, sender, channel, metadata, message_id))


def json_error(status: int, message: str) -> HTTPResponse:
    """A JSON error body for a refused request (never a stack trace)."""
    return response.json({"error": message}, status=status)


class BackgroundTurns:
    """Runs webhook work after the HTTP answer, so a platform never waits for (and never retries
    because of) a slow action. Keeps a reference to each task until it finishes."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], label: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("background work failed: %s", label)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chunks(text: str, limit: int) -> list[str]:
    """Splits a long text at paragraph or line breaks so each part fits a platform's limit."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def for_messaging_app(reply: Reply) -> list[Outgoing]:
    """Messages as a messaging app shows them: an emergency reply is marked so it cannot be missed."""
    messages = list(reply.messages)
    if reply.kind == "emergency" and messages:
        first = messages[0]
        messages[0] = Outgoing("🚨 URGENT 🚨\n" + first.text, first.buttons)
    return messages


class SendsMessages(Protocol):
    async def send(self, recipient: str, messages: list[Outgoing]) -> bool: ...


class MessagingAppOutput(OutputChannel):
    """Rasa's output channel for a messaging app (used by Rasa's API, e.g. `output_channel=latest`):
    text and buttons go through the channel's own sender; the reply metadata is dropped."""

    def __init__(self, channel: SendsMessages) -> None:
        self.channel = channel

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.send(recipient_id, [Outgoing(text)])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        options = tuple(Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in buttons)
        await self.channel.send(recipient_id, [Outgoing(text, options)])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        return None  # the reply metadata never leaves
