"""What every patient-facing channel shares: running one turn through the dialogue, splitting the
bot's messages into what the patient sees and the internal reply metadata (which never leaves),
the polite fallback when the dialogue fails, and the wording for things a channel cannot read.

Robust input and abuse limits (one way for every channel, the web chat included):

- `read_json(request, limit)` / `read_raw` + `parse_body`: the body within a size limit (413 before it
  is read, bot/channels/bodies.py; the route must be declared `stream=True`, and the blueprint given to
  `refuse_unread_bodies`) and strict JSON (400 for NaN, 1e999, huge integers, deep nesting), never a 500.
- `guard_from(credentials)`, `client_of(request, guard)`: the process's limits (bot/channels/limits.py)
  and the client's address; `guard.request_from(address)` for an anonymous request,
  `guard.admit(sender)` for a patient message (a `Ticket`: `async with ticket:` runs the turn in the
  conversation's order), `too_many(refusal, text)` for the polite 429 with Retry-After.
- `busy_note(guard, sender, texts)`: for messaging apps (which retry a 429), one polite note per
  minute instead, urgent-care wording when a refused message has warning signs.

Runs inside the Rasa server (Python 3.10 environment): standard library, Rasa and Sanic only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.safety import texts as safety_texts
from actions.safety.personal_medical import detect_personal_medical
from actions.safety.warning_signs import detect_warning_signs
from bot.channels.bodies import BadJson, TooLarge, close_unread_body, parse_json, read_body
from bot.channels.fallback import (
    REASON,
    Failure,
    Fallback,
    StaffAlert,
    build_fallback,
    caused_by,
    has_meta,
    run_dialogue,
)
from bot.channels.limits import Guard, Limits, Refusal, Ticket, guard_for
from bot.runtime import runtime, staff_alerts
from bot.tracker_store import TrackerStoreUnavailable, fail_closed
from core.text_clean import clean_text

log = logging.getLogger(__name__)

MAX_MESSAGE = 10_000
DISCLAIMER = safety_texts.disclaimer()  # the reviewed safety texts load at import: Rasa does not start without them
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


def _reads_personal(sender: str, text: str) -> bool:
    """The rule-based personal-medical detector; a detector that raises counts as a personal question (a
    handoff, never an answer)."""
    try:
        return detect_personal_medical(text) is not None
    except Exception:
        log.exception("the personal-medical detector raised on a message from %s: handing it to staff", sender)
        return True


def fallback_reply(sender: str, text: str) -> list[dict[str, Any]]:
    """What the patient gets when the dialogue could not produce a reply (as Rasa messages)."""
    warning_signs = bool(detect_warning_signs(text))
    personal = not warning_signs and _reads_personal(sender, text)
    facts = safety_texts.ClinicFacts.from_mapping(clinic())
    body = safety_texts.channel_fallback(facts, warning_signs, personal=personal)
    if warning_signs:
        log.error("EMERGENCY from %s answered by the channel fallback (dialogue failed)", sender)
        meta = {"kind": "emergency", "handoff": False, "reason": "channel_fallback"}
    elif personal:
        log.error("personal medical question from %s handed to staff by the channel fallback (dialogue failed)", sender)
        meta = {"kind": "handoff", "handoff": False, "reason": "channel_fallback"}
    else:
        meta = {"kind": "clarify", "handoff": False, "reason": "channel_fallback"}
    meta.update({"topics": [], "passage_ids": [], "confidence": 0.0, "disclaimer": True})
    return [{"recipient_id": sender, "text": body}, {"recipient_id": sender, "custom": {"meta": meta}}]


def unreadable_text(what: str) -> str:
    """Reply to a photo, voice note, sticker, edit... that the assistant cannot read."""
    return safety_texts.unreadable_media(safety_texts.ClinicFacts.from_mapping(clinic()), what)


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
    stored: bool = True
    """False when the channel answered by itself and its reply is not in the conversation (see `Turn`)."""

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


class DialogueAgent(Protocol):
    """What a turn needs from Rasa's `Agent` (`request.app.ctx.agent`): its stores."""

    tracker_store: Any
    lock_store: Any


@dataclass(frozen=True)
class Turn:
    messages: list[dict[str, Any]]
    """Rasa's messages for the patient, reply metadata included."""
    stored: bool
    """Whether the reply is in the conversation (tracker store). False only when the channel answered
    by itself and could not store that: the staff alert file and the log then hold the message."""


STORE_WAIT = 3.0
"""Seconds the channel waits for the conversation lock and the tracker store to record its own reply."""


async def take_turn(
    on_new_message: OnNewMessage,
    text: str,
    sender: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
    *,
    agent: DialogueAgent,
) -> Turn:
    """One patient message through the dialogue. Never raises, and never leaves the patient without a
    reply: if the dialogue fails, takes longer than MESO_DIALOGUE_TIMEOUT_SECONDS or produces no reply
    metadata, the channel answers by itself (bot/channels/fallback.py: urgent-care text and an
    emergency handoff for warning signs, the polite fallback otherwise), records the patient's message,
    that reply and its metadata in the conversation, and alerts staff when it must."""
    fail_closed(agent)
    collector = CollectingOutputChannel()
    message = UserMessage(
        text, collector, sender, input_channel=channel, metadata=metadata or {}, message_id=message_id
    )
    outcome = await run_dialogue(on_new_message(message), runtime().dialogue_timeout, f"{channel} sender {sender}")
    messages = collector.messages
    if outcome.failure is None and any(has_meta(m) for m in messages):
        return Turn(messages, stored=True)
    failure: Failure = outcome.failure or "no_reply"
    fallback = build_fallback(sender, text, failure, fallback_reply, detect_warning_signs)
    store_failed = caused_by(outcome.error, TrackerStoreUnavailable)
    stored = False if store_failed else await _store_fallback(agent, message, fallback)
    alert = fallback.alert
    if not stored:
        log.error(
            "the channel's reply to %s sender %s (%s) is NOT in the conversation yet (tried again for %.0f s): "
            "the staff alert and this log are its record",
            channel,
            sender,
            failure,
            STORE_LATER_SECONDS,
        )
        _store_later(agent, message, fallback)
        alert = (
            StaffAlert(alert.kind, f"{alert.reason}:not_stored")
            if alert
            else StaffAlert("handoff", f"{REASON}:{failure}:not_stored")
        )
    if alert is not None:
        try:
            staff_alerts().send(alert.kind, sender, channel, text, alert.reason)
        except Exception:
            log.critical("STAFF ALERT NOT SENT: %s for %s sender %s (%s)", alert.kind, channel, sender, alert.reason)
    # A turn that failed stored nothing, so only the fallback is sent; a turn that finished without
    # metadata keeps what it said (it is in the conversation already).
    kept = messages if failure == "no_reply" else []
    return Turn(kept + fallback.messages(sender), stored)


@dataclass(frozen=True)
class Earlier:
    """A patient message already in the conversation under its id, and the reply stored after it."""

    text: str
    messages: list[dict[str, Any]]
    """The stored reply as Rasa's collected messages (reply metadata included); empty when none was stored."""


async def earlier_turn(agent: DialogueAgent, sender: str, message_id: str) -> Earlier | None:
    """The turn of the patient message `message_id` when it is in the conversation already: a message
    sent again (a REST integration's or the widget's retry after a lost answer, or a messaging app's
    delivery run again after its process died) gets that reply, and is not run, or stored, twice."""
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return None
    events = list(tracker.events)
    starts = [i for i, e in enumerate(events) if isinstance(e, UserUttered) and e.message_id == message_id]
    if not starts:
        return None
    # Each stored utterance sent again through the output channel `run_turn` collects with, as Rasa's
    # processor sends it (`BotUttered.message()`): the messages are those of the first sending (a plain
    # text paragraph by paragraph, the reply metadata as a message of its own).
    replayed = CollectingOutputChannel()
    for event in events[starts[-1] + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            await replayed.send_response(sender, event.message())
    return Earlier(events[starts[-1]].text or "", replayed.messages)


async def stored_reply(agent: DialogueAgent, sender: str, message_id: str) -> Reply | None:
    """The reply already stored to the patient message `message_id`, split as `run_turn` splits it; None
    when that message, or a reply to it, is not in the conversation."""
    earlier = await earlier_turn(agent, sender, message_id)
    return split_reply(earlier.messages) if earlier and earlier.messages else None


CLIENT_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
"""A client's id for one message (`client_message_id`, e.g. a UUID): the same id again is a retry."""


def client_message_id(body: dict[str, Any]) -> str | HTTPResponse | None:
    """The optional `client_message_id` of a REST or widget message (namespaced so it never equals a
    messaging app's id), or a 400."""
    value = body.get("client_message_id")
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_MESSAGE_ID.fullmatch(value):
        return json_error(400, "`client_message_id` must be 8-64 letters, digits or . _ : -")
    return "client:" + value


async def resent_turn(
    agent: DialogueAgent, sender: str, message_id: str | None, text: str, resend: Any
) -> Earlier | HTTPResponse | None:
    """For a message marked `resend: true` with its `client_message_id`: its earlier turn when it is in the
    conversation with a reply (a 409 when that id holds another text); None otherwise, and for every first
    sending (so a first sending costs no extra read of the conversation)."""
    if resend is not True or not message_id:
        return None
    earlier = await earlier_turn(agent, sender, message_id)
    if earlier is None:
        return None
    conflict = reused_id(earlier, text)
    if conflict is not None:
        return conflict
    if not earlier.messages:
        return None
    log.info("%s sent message %s again: its stored reply", sender, message_id)
    return earlier


def reused_id(earlier: Earlier, text: str) -> HTTPResponse | None:
    """A 409 when a client sends a different message under an id it used already (never its old reply)."""
    if earlier.text != text:
        return json_error(409, "`client_message_id` was used for another message in this conversation")
    return None


STORE_LATER_SECONDS = 120.0
"""How long the channel keeps trying to store a turn it answered by itself while the database was down."""
STORE_LATER_EVERY = 2.0
_later: set[asyncio.Task[None]] = set()


def _store_later(agent: DialogueAgent, message: UserMessage, fallback: Fallback) -> None:
    """Keeps trying, in the background, to record a turn the channel could not store (the tracker database
    was restarting, say), so the conversation, the console and the handoff queue get it once it is back."""

    async def keep_trying() -> None:
        deadline = asyncio.get_running_loop().time() + STORE_LATER_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(STORE_LATER_EVERY)
            if await _store_fallback(agent, message, fallback, quiet=True):
                log.warning("the channel's reply to %s is stored now, after the database came back", message.sender_id)
                return
        log.critical(
            "the channel's reply to %s could not be stored in %.0f s: the staff alert and the log are its only record",
            message.sender_id,
            STORE_LATER_SECONDS,
        )

    task = asyncio.get_running_loop().create_task(keep_trying())
    _later.add(task)
    task.add_done_callback(_later.discard)


async def _store_fallback(agent: DialogueAgent, message: UserMessage, fallback: Fallback, quiet: bool = False) -> bool:
    try:
        await asyncio.wait_for(_append_fallback(agent, message, fallback), STORE_WAIT)
        return True
    except Exception as exc:
        if quiet:
            log.info("still cannot store the channel's reply to %s: %s", message.sender_id, exc)
        else:
            log.exception("could not store the channel's reply to %s", message.sender_id)
        return False


async def _append_fallback(agent: DialogueAgent, message: UserMessage, fallback: Fallback) -> None:
    """Records the turn as Rasa would have: the patient's message (unless the dialogue stored it
    already), the reply, its metadata and slots, then listening again; under the conversation lock."""
    sender, message_id = message.sender_id, message.message_id
    async with agent.lock_store.lock(sender, wait_time_in_seconds=0.1):
        store = agent.tracker_store
        tracker = await store.retrieve(sender)
        if tracker is None:
            tracker = store.init_tracker(sender)
            for event in (
                ActionExecuted(ACTION_SESSION_START_NAME),
                SessionStarted(),
                ActionExecuted(ACTION_LISTEN_NAME),
            ):
                tracker.update(event)
        users = [i for i, e in enumerate(tracker.events) if isinstance(e, UserUttered) and e.message_id == message_id]
        if not users:
            tracker.update(
                UserUttered(
                    message.text,
                    input_channel=message.input_channel,
                    message_id=message_id,
                    metadata=message.metadata,
                )
            )
        elif any(_is_meta(e) for e in list(tracker.events)[users[-1] :]):
            log.warning("the dialogue's own reply to %s is stored already: the channel's is not added", sender)
            return
        marker = {"channel_fallback": True}
        for reply_text in fallback.texts:
            tracker.update(BotUttered(reply_text, metadata=marker))
        tracker.update(BotUttered(data={"custom": {"meta": fallback.meta}}, metadata=marker))
        for name, value in fallback.slots.items():
            tracker.update(SlotSet(name, value))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await store.save(tracker)


def _is_meta(event: Any) -> bool:
    return isinstance(event, BotUttered) and has_meta(event.data or {})


async def collect_turn(
    on_new_message: OnNewMessage,
    text: str,
    sender: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
    *,
    agent: DialogueAgent,
) -> list[dict[str, Any]]:
    """One patient message through the dialogue, as Rasa's messages (reply metadata included).
    Never raises (see `take_turn`)."""
    return (await take_turn(on_new_message, text, sender, channel, metadata, message_id, agent=agent)).messages


async def run_turn(
    on_new_message: OnNewMessage,
    text: str,
    sender: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
    *,
    agent: DialogueAgent,
) -> Reply:
    """One patient message through the dialogue, split into what the patient sees and the metadata."""
    turn = await take_turn(on_new_message, text, sender, channel, metadata, message_id, agent=agent)
    reply = split_reply(turn.messages)
    reply.stored = turn.stored
    return reply


NAME_LIMIT = 64


def display_name(value: Any) -> str | None:
    """A patient's name as a messaging app gives it (Telegram first name, WhatsApp profile name), cleaned
    and cut to NAME_LIMIT characters; None when there is none. Passed to the dialogue as message metadata
    (`display_name`) for the staff console's queue; never a credential, never shown to other patients."""
    if not isinstance(value, str):
        return None
    name = " ".join(clean_text(value[: NAME_LIMIT * 4]).split())[:NAME_LIMIT]
    return name or None


def json_error(status: int, message: str) -> HTTPResponse:
    """A JSON error body for a refused request (never a stack trace)."""
    return response.json({"error": message}, status=status)


# -- robust input --------------------------------------------------------------------------------


async def read_raw(request: Request, limit: int) -> bytes | HTTPResponse:
    """The raw body of a `stream=True` route, or a 413 (before reading when the declared length is
    too large; as soon as a chunked body passes `limit`)."""
    try:
        return await read_body(request, limit)
    except TooLarge:
        return json_error(413, f"the body is larger than {limit // 1024} KiB")


def parse_body(raw: bytes, hint: str) -> Any | HTTPResponse:
    """Strict JSON (bot/channels/bodies.py) or a 400 whose message starts with `hint`."""
    try:
        return parse_json(raw)
    except BadJson as exc:
        return json_error(400, f"{hint}: {exc}")


async def read_json(request: Request, limit: int, hint: str) -> Any | HTTPResponse:
    """`read_raw` then `parse_body`: the parsed body, or the 413/400 to return as it is."""
    raw = await read_raw(request, limit)
    return raw if isinstance(raw, HTTPResponse) else parse_body(raw, hint)


# -- abuse limits --------------------------------------------------------------------------------


def refuse_unread_bodies(blueprint: Any) -> None:
    """For a blueprint whose POST routes are `stream=True`: a request answered before its body was read
    gets its connection closed, not its body read and thrown away (bot/channels/bodies.py)."""
    blueprint.middleware(close_unread_body, "response")


def guard_from(credentials: dict[str, Any] | None) -> Guard:
    """The process's shared limits from a channel's credentials (`limits`, written by
    bot/rasa_config.py from the settings); the defaults when there are none."""
    raw = (credentials or {}).get("limits")
    return guard_for(Limits.from_mapping(raw if isinstance(raw, dict) else None))


def client_of(request: Request, guard: Guard) -> str:
    """The client's address as the limits count it (X-Forwarded-For only from trusted proxies)."""
    return guard.address(str(request.ip or ""), request.headers.get("X-Forwarded-For"))


def _has_warning_signs(texts: list[str]) -> bool:
    try:
        return any(detect_warning_signs(t) for t in texts if t)
    except Exception:
        log.exception("the warning-sign detector raised on a refused message: the urgent wording is used")
        return True


def busy_text(urgent: bool) -> str:
    """What a patient is told when a message is refused by a limit: the reviewed "couldn't process
    that just now, try again" text, or its urgent-care version when a refused message has warning
    signs (the patient is never left without the emergency number)."""
    try:
        return safety_texts.channel_fallback(safety_texts.ClinicFacts.from_mapping(clinic()), urgent)
    except Exception:
        log.exception("the busy text could not be built: using the last-resort text")
        return safety_texts.LAST_RESORT_URGENT if urgent else safety_texts.LAST_RESORT


def too_many(refusal: Refusal, texts: list[str] | None = None) -> HTTPResponse:
    """The polite 429: Retry-After, and the patient-facing text in `error`."""
    urgent = _has_warning_signs(texts or [])
    if urgent:
        log.error(
            "a refused message (%s limit) has warning signs: the 429 carries the urgent-care text", refusal.reason
        )
    return response.json(
        {"error": busy_text(urgent), "retry_after": refusal.retry_after, "limit": refusal.reason},
        status=429,
        headers={"Retry-After": str(refusal.retry_after)},
    )


@dataclass(frozen=True)
class BusyNote:
    """One polite note to a messaging-app patient whose messages were refused, sent in its place in
    the conversation's line (after the messages that were admitted)."""

    text: str
    ticket: Ticket


def busy_note(guard: Guard, sender: str, texts: list[str]) -> BusyNote | None:
    """A note for refused messages, or None when this sender had one of its kind within the last
    minute (a flood gets one note, not one per message). Call it in the webhook handler itself, so the
    note's place in line is after the messages admitted before it."""
    urgent = _has_warning_signs(texts)
    signs = " (with warning signs)" if urgent else ""
    if not guard.note_due(sender, "urgent" if urgent else "busy"):
        log.warning(
            "%d message(s)%s from %s refused by the rate limits; noted within the minute", len(texts), signs, sender
        )
        return None
    if urgent:
        log.error("EMERGENCY wording sent to %s for a message refused by the rate limits", sender)
    log.warning("%d message(s)%s from %s refused by the rate limits: one note sent", len(texts), signs, sender)
    ticket = guard.lines.join(sender, always=True)
    return BusyNote(busy_text(urgent), ticket) if ticket is not None else None


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
