"""Web chat channel (`/webhooks/webchat/`): the embeddable widget and the small JSON API it uses.

    GET  widget.js            the widget (one <script> tag on the clinic's site, see widget/README.md)
    GET  demo                 a sample clinic page with the widget on it
    GET  openapi.json         the OpenAPI description of this API and the REST channel (bot/channels/openapi.yaml)
    GET  config               clinic name, privacy link, emergency number, phone, and the widget's fixed
                              safety wording (`texts`, from actions/safety/texts.yml)
    POST session              {"consent": true} -> 201 {"session": <token>, "idle_days": n}: a new session
    GET  session              (session) -> {"sender_id"}: the conversation it opens (not a secret)
    DELETE session            (session) -> 204: ends it ("Forget this chat on this device")
    POST webhook              (session) {"message", "consent": true, "after": <cursor>, "client_message_id"?,
                              "resend"?} -> the turn (a resent message already answered is not run again)
    GET  history?after=<cursor>   (session) messages since the cursor (reload, staff replies)
    POST feedback             (session) {"message_id", "value": "up" | "down", "comment"?, "after"?} -> the rating
    POST contact              (session) {"name", "phone", "consent": true} -> 201: a call-back number, at a handoff

(session): the header `Authorization: Bearer <token>`. The server issues the session and keeps only its
hash (bot/channels/webchat_sessions.py); the conversation's sender id is chosen by the server with it,
so a sender id seen in a log, an alert or the console opens nothing, and an id made up by a client is
refused (401). Tokens never travel in a URL. Browsers on pages other than the clinic's configured
origins (MESO_WIDGET_ORIGINS, which also set Rasa's CORS) or Rasa's own are refused (403).
Nothing is processed without `consent: true` (the widget collects it first). Bodies are size-limited
before they are read and parsed strictly, every request counts against its address's budget, and a
conversation's messages wait their turn in its line (bot/channels/common.py, limits.py): a polite 429
beyond. If the session store is down, a message is answered by the channel's fallback (urgent care for
warning signs) and stored nowhere. docs/security/widget-sessions.md has the reasons.
Replies carry text, buttons and, for styling only, the kinds `emergency` and `handoff`; the reply
metadata itself never leaves the server. History is read from the tracker store, so it survives a
reload, works across Rasa replicas, and includes staff replies.

Patients' feedback: the last message of a curated answer (reply metadata `kind: answer`, no handoff) comes
with `rateable: true` and `rated` (the patient's 👍 / 👎 so far, or null); POST feedback rates it, stored
with the answer's passage ids (bot/channels/feedback.py). Only such a message in the session's own
conversation can be rated (anything else: 404); rating it again replaces the rating. A "what was missing?"
comment goes with a thumbs down only. Because a patient may describe symptoms there, a comment in which
the warning-sign detector finds something (or which it cannot check) is also sent to the dialogue as a
message, so its safety gate answers it (urgent care, staff alert) and the answer comes back as `turn`.

Call-back contacts: while the conversation waits for a person, the widget offers "Would you like the clinic
to call you?"; POST contact stores the name and phone number the patient gives, with their consent, in the
channels' database (bot/channels/contacts.py), never in the conversation's events, and the staff console
shows it to the clinician treating the patient (audited). Outside a handoff it is a 409; it counts against
the conversation's message budget like a message.

The patient's message is cleaned (core/text_clean.py: lone surrogates, which the widget can produce
when it cuts text by UTF-16 units, NUL and other control characters) before the dialogue sees it,
and history is cleaned on the way out, so a record stored before that still reads.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml
from rasa.core.channels.channel import InputChannel
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.safety.texts import widget_texts
from actions.safety.warning_signs import detect_warning_signs
from bot.channels.common import (
    MAX_MESSAGE,
    OnNewMessage,
    client_message_id,
    client_of,
    clinic,
    fallback_reply,
    guard_from,
    json_error,
    read_json,
    refuse_unread_bodies,
    resent_turn,
    run_turn,
    split_reply,
    too_many,
)
from bot.channels.contacts import ContactProblem, ContactStore, parse_contact
from bot.channels.fallback import build_fallback
from bot.channels.feedback import COMMENT_LIMIT, VALUES, Answer, FeedbackStore, Rating, Value, clean_comment
from bot.channels.limits import Guard, Refusal
from bot.channels.staff import DeliveryResult
from bot.channels.webchat_sessions import WidgetSessions
from bot.runtime import staff_alerts
from bot.tracker_store import underlying
from core import web_origins
from core.text_clean import clean_text

log = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")
STYLED_KINDS = ("emergency", "handoff")
DEFAULT_SESSION_DAYS = 30
WEBHOOK_BODY_LIMIT = 256 * 1024
"""A 10,000-character message written as JSON escapes (12 bytes per emoji) fits."""
SESSION_BODY_LIMIT = 4 * 1024
FEEDBACK_BODY_LIMIT = 8 * 1024
"""A 500-character comment written as JSON escapes (12 bytes per code point) fits."""
FEEDBACK_FIELDS = frozenset({"message_id", "value", "comment", "after"})
CONTACT_BODY_LIMIT = 2 * 1024
"""An 80-character name and a phone number written as JSON escapes fit."""
NOT_RATEABLE = (
    "there is no answer with this id in your conversation that can be rated: only the assistant's answers "
    "to general questions can"
)
NO_SESSION = "no widget session, or it has ended: start one with POST /webhooks/webchat/session"
T = TypeVar("T")


@functools.cache
def _openapi() -> dict[str, Any]:
    """bot/channels/openapi.yaml, read once."""
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    return loaded


def _cursor(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e999 is infinity
        return 0


def _bearer(request: Request) -> str:
    """The session token from `Authorization: Bearer <token>` ("" when there is none)."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorised() -> HTTPResponse:
    refused = json_error(401, NO_SESSION)
    refused.headers["WWW-Authenticate"] = 'Bearer realm="webchat"'
    return refused


def _private(reply: HTTPResponse) -> HTTPResponse:
    """A patient's data or key: never kept by a cache."""
    reply.headers["Cache-Control"] = "no-store"
    return reply


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


def rateable_answers(events: list[Any]) -> dict[int, Answer]:
    """The messages a patient can rate: event index of the last bot message of each turn whose reply
    metadata is a curated answer -> that answer (the id of the patient message it replied to, its passage
    ids and topic). Staff replies, emergencies, handoffs, small talk, clarifications... are not there."""
    found: dict[int, Answer] = {}
    question: str | None = None
    last: int | None = None
    for index, event in enumerate(events):
        if isinstance(event, UserUttered):
            question = event.message_id or f"event-{index}"
            last = None
        elif isinstance(event, BotUttered):
            custom = (event.data or {}).get("custom")
            if isinstance(custom, dict) and "meta" in custom:
                answer = Answer.from_meta(custom.get("meta"), question) if question else None
                if answer is not None and last is not None:
                    found[last] = answer
                last = None
            elif (event.text or (event.data or {}).get("buttons")) and not (event.metadata or {}).get("staff_reply"):
                last = index
    return found


def _button_title(before: list[Any], payload: str) -> str:
    """A button tap is stored as its payload; the patient saw (and clicked) its title."""
    for event in reversed(before):
        if isinstance(event, BotUttered):
            for button in (event.data or {}).get("buttons") or []:
                if isinstance(button, dict) and button.get("payload") == payload:
                    return str(button.get("title") or payload)
    return payload


class WebChatInput(InputChannel):
    """The widget's API. `sessions` is None only when built without credentials (then every
    request that needs a session gets a 503); `origins` are the clinic's pages (core/web_origins.py)."""

    def __init__(
        self,
        sessions: WidgetSessions | None = None,
        origins: tuple[str, ...] = (),
        guard: Guard | None = None,
        feedback: FeedbackStore | None = None,
        contacts: ContactStore | None = None,
    ) -> None:
        self.sessions = sessions
        self.origins = origins
        self.guard = guard or guard_from(None)
        self.feedback = feedback
        self.contacts = contacts

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        url = credentials.get("sessions_db_url")
        days = float(credentials.get("session_days") or DEFAULT_SESSION_DAYS)
        origins = web_origins.parse(credentials.get("origins") or ())
        return cls(
            WidgetSessions(url, days) if url else None,
            origins,
            guard_from(credentials),
            FeedbackStore(url) if url else None,
            ContactStore(url) if url else None,
        )

    def origin_refused(self, request: Request) -> HTTPResponse | None:
        """A 403 for a browser on a page that is neither one of the clinic's origins nor Rasa's own
        (CORS already keeps such a page from reading replies; this keeps it from writing too).
        Requests without an Origin header (not from a browser page) pass: they need a session anyway."""
        origin = request.headers.get("origin")
        if not origin or web_origins.allows(origin, self.origins):
            return None
        if urlsplit(origin).netloc.lower() == (request.host or "").lower():
            return None  # a page Rasa serves itself, such as the demo
        return json_error(403, "this page is not one of the clinic's web pages allowed to use the chat")

    def gate(self, request: Request) -> HTTPResponse | None:
        """The origin check, then the client address's request budget (bot/channels/limits.py): a 403 or
        a polite 429, or None to go on. Every API request passes here before anything is read or looked up.
        Failed session lookups are not counted as failed logins: a 256-bit token cannot be guessed, and
        this budget already bounds the lookups."""
        refused = self.origin_refused(request)
        if refused is not None:
            return refused
        over = self.guard.request_from(client_of(request, self.guard))
        return too_many(over) if over else None

    async def _stored(self, work: Callable[[WidgetSessions], T]) -> T | HTTPResponse:
        """Runs session work in a worker thread; a 503 when there is no session store or it failed."""
        sessions = self.sessions
        if sessions is None:
            return json_error(503, "widget sessions are not configured on this server")
        try:
            return await asyncio.to_thread(work, sessions)
        except Exception:
            log.exception("webchat: the session store failed")
            return json_error(503, "the chat is unavailable for a moment: please try again")

    def token_of(self, request: Request) -> str | HTTPResponse:
        """The request's session token, or the response refusing the request (403, 429 or 401)."""
        refused = self.gate(request)
        if refused is not None:
            return refused
        return _bearer(request) or _unauthorised()

    async def sender_of(self, request: Request) -> str | HTTPResponse:
        """The conversation of the request's session, or the response refusing it (403, 429, 401 or 503)."""
        token = self.token_of(request)
        if isinstance(token, HTTPResponse):
            return token
        found = await self._stored(lambda sessions: sessions.resolve(token))
        if isinstance(found, HTTPResponse):
            return found
        return found if found else _unauthorised()

    async def _ratings(self, sender: str) -> dict[str, str]:
        """The patient's ratings so far (answer id -> up / down); {} when they cannot be read: the chat
        never depends on the feedback store."""
        store = self.feedback
        if store is None:
            return {}
        try:
            return dict(await asyncio.to_thread(store.given, sender))
        except Exception:
            log.exception("webchat: could not read the ratings of %s", sender)
            return {}

    async def deliver_staff_reply(
        self, recipient: str, text: str, last_user_message_at: float | None
    ) -> DeliveryResult:
        # The widget reads new messages from the conversation (history), so storing the reply delivers it.
        return DeliveryResult(True, "webchat")

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = Blueprint("webchat", __name__)
        refuse_unread_bodies(hook)

        async def tracker_of(request: Request, sender: str) -> Any:
            """The conversation's tracker; None when there is none, or it is another channel's."""
            store = request.app.ctx.agent.tracker_store
            retrieve = getattr(store, "retrieve_full_tracker", store.retrieve)
            tracker = await retrieve(sender)
            if tracker is None:
                return None
            if any(isinstance(e, UserUttered) and e.input_channel not in (None, self.name()) for e in tracker.events):
                return None  # never another channel's conversation
            return tracker

        async def conversation(request: Request, sender: str, after: int) -> dict[str, Any]:
            if await unchanged_since(request.app.ctx.agent.tracker_store, sender, after):
                # nothing new: no handoff or emergency field, so the widget keeps what it shows
                return {"messages": [], "cursor": after}
            tracker = await tracker_of(request, sender)
            if tracker is None:
                return {"messages": [], "cursor": 0, "handoff": False}
            events = list(tracker.events)
            handoff = bool(tracker.get_slot("handoff"))
            messages = transcript(events, after)
            answers = rateable_answers(events)
            if any(m["id"] in answers for m in messages):
                given = await self._ratings(sender)
                for message in messages:
                    answer = answers.get(message["id"])
                    if answer is not None:
                        message["rateable"] = True
                        message["rated"] = given.get(answer.answer_id)
            return {
                "messages": messages,
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

        @hook.route("/openapi.json", methods=["GET"])
        async def openapi(request: Request) -> HTTPResponse:
            return response.json(_openapi(), headers={"Cache-Control": "public, max-age=300"})

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

        @hook.route("/session", methods=["POST"], stream=True)
        async def start_session(request: Request) -> HTTPResponse:
            refused = self.gate(request)
            if refused is not None:
                return refused
            body = await _json_object(request, SESSION_BODY_LIMIT)
            if isinstance(body, HTTPResponse):
                return body
            if body.get("consent") is not True:
                return json_error(403, "the patient has not agreed to the privacy notice yet (`consent: true`)")
            issued = await self._stored(lambda sessions: sessions.issue())
            if isinstance(issued, HTTPResponse):
                return issued
            days = self.sessions.idle_seconds / 86400 if self.sessions else DEFAULT_SESSION_DAYS
            return _private(response.json({"session": issued.token, "idle_days": days}, status=201))

        @hook.route("/session", methods=["GET"])
        async def which_session(request: Request) -> HTTPResponse:
            sender = await self.sender_of(request)
            if isinstance(sender, HTTPResponse):
                return sender
            return _private(response.json({"sender_id": sender}))

        @hook.route("/session", methods=["DELETE"])
        async def end_session(request: Request) -> HTTPResponse:
            token = self.token_of(request)
            if isinstance(token, HTTPResponse):
                return token
            ended = await self._stored(lambda sessions: sessions.end(token))
            if isinstance(ended, HTTPResponse):
                return ended
            return response.empty(status=204)

        @hook.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            sender = await self.sender_of(request)
            if isinstance(sender, HTTPResponse):
                return sender
            return _private(response.json(await conversation(request, sender, _cursor(request.args.get("after")))))

        @hook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            sender = await self.sender_of(request)
            store_down = isinstance(sender, HTTPResponse) and sender.status == 503 and bool(_bearer(request))
            if isinstance(sender, HTTPResponse) and not store_down:
                return sender
            body = await _json_object(request, WEBHOOK_BODY_LIMIT)
            if isinstance(body, HTTPResponse):
                return body
            if body.get("consent") is not True:
                return json_error(403, "the patient has not agreed to the privacy notice yet (`consent: true`)")
            text = body.get("message")
            if not isinstance(text, str):
                return json_error(400, "`message` must be a string")
            if len(text) > MAX_MESSAGE:
                return json_error(413, f"`message` is longer than {MAX_MESSAGE} characters")
            after = _cursor(body.get("after"))
            message_id = client_message_id(body)
            if isinstance(message_id, HTTPResponse):
                return message_id
            if isinstance(sender, HTTPResponse):
                # The session cannot be checked, so the conversation is neither read nor written; the
                # patient still gets the channel's own answer (urgent care for warning signs).
                return _private(response.json(unverified_reply(clean_text(text), after)))
            sent = Sent(clean_text(text), message_id, body.get("resend") is True)
            result = await turn(request, sender, sent, after)
            return result if isinstance(result, HTTPResponse) else _private(response.json(result))

        async def turn(request: Request, sender: str, sent: Sent, after: int) -> dict[str, Any] | HTTPResponse:
            """One patient message through the dialogue, in the conversation's line: the conversation since
            `after`, with the turn's `kind`; or the polite 429. A resent message already in the conversation
            is not run again: the conversation then holds its reply."""
            text, agent = sent.text, request.app.ctx.agent
            admitted = self.guard.admit(sender)
            if isinstance(admitted, Refusal):
                log.warning("webchat: a message to %s refused (%s limit)", sender, admitted.reason)
                return too_many(admitted, [text])
            async with admitted:  # this conversation's messages run one at a time, in order
                earlier = await resent_turn(agent, sender, sent.message_id, text, sent.resend)
                if isinstance(earlier, HTTPResponse):
                    return earlier
                reply = (
                    split_reply(earlier.messages)
                    if earlier is not None
                    else await run_turn(
                        on_new_message, text, sender, self.name(), {"consent": True}, sent.message_id, agent=agent
                    )
                )
                try:
                    result = await conversation(request, sender, after)
                except Exception:  # the tracker store failed (logged and alerted there): the reply still goes out
                    log.exception("webchat: could not read the conversation of %s after its turn", sender)
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
            return result

        @hook.route("/feedback", methods=["POST"], stream=True)
        async def rate(request: Request) -> HTTPResponse:
            sender = await self.sender_of(request)
            if isinstance(sender, HTTPResponse):
                return sender
            body = await _json_object(request, FEEDBACK_BODY_LIMIT)
            if isinstance(body, HTTPResponse):
                return body
            given = _feedback_body(body)
            if isinstance(given, HTTPResponse):
                return given
            store = self.feedback
            if store is None:
                return json_error(503, "feedback is not configured on this server")
            try:
                tracker = await tracker_of(request, sender)
            except Exception:  # the tracker store failed (logged and alerted there)
                log.exception("webchat: could not read the conversation of %s for feedback", sender)
                return json_error(503, "the chat is unavailable for a moment: please try again")
            answer = rateable_answers(list(tracker.events)).get(given.message_id) if tracker is not None else None
            if answer is None:
                return json_error(404, NOT_RATEABLE)
            comment = given.comment if given.value == "down" else None
            rating = Rating(sender, self.name(), answer, given.value, comment, given.message_id)
            try:
                await asyncio.to_thread(store.save, rating)
            except Exception:
                log.exception("webchat: could not store feedback from %s", sender)
                return json_error(503, "your feedback could not be saved just now: please try again")
            saved: dict[str, Any] = {"message_id": given.message_id, "value": given.value, "comment": bool(comment)}
            if comment and _may_be_urgent(comment):
                # a note that may describe warning signs is a message too: the dialogue's safety gate answers it
                log.warning("webchat: a feedback comment from %s goes to the dialogue (warning signs)", sender)
                result = await turn(request, sender, Sent(comment, None, False), given.after)
                if isinstance(result, HTTPResponse):
                    return result
                saved["turn"] = result
            return _private(response.json(saved))

        @hook.route("/contact", methods=["POST"], stream=True)
        async def leave_contact(request: Request) -> HTTPResponse:
            sender = await self.sender_of(request)
            if isinstance(sender, HTTPResponse):
                return sender
            body = await _json_object(request, CONTACT_BODY_LIMIT)
            if isinstance(body, HTTPResponse):
                return body
            try:
                given = parse_contact(body)
            except ContactProblem as problem:
                return json_error(problem.status, str(problem))
            store = self.contacts
            if store is None:
                return json_error(503, "call-back numbers are not configured on this server")
            admitted = self.guard.admit(sender)
            if isinstance(admitted, Refusal):
                return too_many(admitted)
            async with admitted:  # in the conversation's line, counted like a message
                try:
                    tracker = await tracker_of(request, sender)
                except Exception:  # the tracker store failed (logged and alerted there)
                    log.exception("webchat: could not read the conversation of %s for a contact", sender)
                    return json_error(503, "the chat is unavailable for a moment: please try again")
                if tracker is None or not tracker.get_slot("handoff"):
                    return json_error(
                        409, "the clinic takes a call-back number only while a person is looking after your chat"
                    )
                try:
                    await asyncio.to_thread(store.save, sender, self.name(), given)
                except Exception:
                    log.exception("webchat: could not store a call-back contact from %s", sender)
                    return json_error(503, "your number could not be saved just now: please try again")
            log.info("webchat: %s left a call-back number", sender)  # never the number itself
            return _private(response.json({"saved": True}, status=201))

        return hook


async def unchanged_since(store: Any, sender: str, after: int) -> bool:
    """True when the conversation still holds exactly the `after` events the widget has read: its poll (every
    3 s while the panel is open) then costs one indexed count, not a read of the whole conversation, and a
    staff reply stored by any process is seen at the next poll whichever process answers it. False (read it
    all) for a first read, a store that cannot count, or a count that fails."""
    count = getattr(underlying(store), "count_events", None)
    if after <= 0 or count is None:
        return False
    try:
        return bool(await asyncio.to_thread(count, sender) == after)
    except Exception as error:
        log.warning("webchat: could not count the events of %s (%s): reading the conversation", sender, error)
        return False


@dataclass(frozen=True)
class FeedbackIn:
    """The body of POST feedback."""

    message_id: int
    value: Value
    comment: str | None
    after: int


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31


def _feedback_body(body: dict[str, Any]) -> FeedbackIn | HTTPResponse:
    """The body checked strictly: a 400 names the first thing wrong."""
    unknown = sorted(set(body) - FEEDBACK_FIELDS)
    if unknown:
        return json_error(
            400, f"unknown field `{clean_text(unknown[0])[:40]}`: the body takes {sorted(FEEDBACK_FIELDS)}"
        )
    if not _whole(body.get("message_id")):
        return json_error(400, "`message_id` must be the id (a whole number) of the answer being rated")
    value = body.get("value")
    if value not in VALUES:
        return json_error(400, '`value` must be "up" or "down"')
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        return json_error(400, "`comment` must be a string (or left out)")
    if isinstance(comment, str) and len(comment) > COMMENT_LIMIT:
        return json_error(400, f"`comment` is longer than {COMMENT_LIMIT} characters")
    after = body.get("after", 0)
    if not _whole(after):
        return json_error(400, "`after` must be a whole number (the cursor of the last answer)")
    return FeedbackIn(body["message_id"], "up" if value == "up" else "down", clean_comment(comment), after)


def _may_be_urgent(text: str) -> bool:
    """Warning signs in a feedback comment, or a detector that failed on it (fail closed)."""
    try:
        return bool(detect_warning_signs(text))
    except Exception:
        log.exception("webchat: the warning-sign detector raised on a feedback comment: it goes to the dialogue")
        return True


UNVERIFIED = "web-unverified"
"""The sender named in the log and the staff alert for a message whose session could not be checked."""


def unverified_reply(text: str, after: int) -> dict[str, Any]:
    """The widget's answer when the session store is down: the channel's fallback (bot/channels/fallback.py,
    the urgent-care text and an emergency staff alert for warning signs), stored nowhere."""
    fallback = build_fallback(UNVERIFIED, text, "error", fallback_reply, detect_warning_signs)
    log.error("webchat: session store down, message answered by the channel's fallback (%s)", fallback.meta["kind"])
    if fallback.alert is not None:
        try:
            staff_alerts().send(
                fallback.alert.kind, UNVERIFIED, "webchat", text, f"{fallback.alert.reason}:session_store_down"
            )
        except Exception:
            log.critical("STAFF ALERT NOT SENT: %s from an unverified web chat session", fallback.alert.kind)
    kind = fallback.meta["kind"] if fallback.meta["kind"] in STYLED_KINDS else None
    return {
        "messages": [
            {"id": f"fallback-{after}-{i}", "role": "bot", "text": t, "buttons": [], "kind": kind}
            for i, t in enumerate(fallback.texts)
        ],
        "cursor": after,
        "handoff": False,
        "kind": kind,
    }


@dataclass(frozen=True)
class Sent:
    """A patient's message as the widget sent it."""

    text: str
    message_id: str | None
    """The widget's id for it (namespaced, bot/channels/common.py `client_message_id`), stored with it."""
    resend: bool
    """The widget sends it again after a lost answer."""


async def _json_object(request: Request, limit: int) -> dict[str, Any] | HTTPResponse:
    """The request's JSON object body (size limit before reading, strict parsing: bot/channels/common.py),
    or the 413/400 to return."""
    body = await read_json(request, limit, 'the body must be JSON: {"message": "...", "consent": true}')
    if isinstance(body, HTTPResponse):
        return body
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    return body
