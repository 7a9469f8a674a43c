"""Telegram's and WhatsApp's "Was this answer helpful? 👍 / 👎": when to ask, and what a tap does.

When (`offer_due`), sparingly: after a curated answer (`kind: answer`), once the patient has had at least
ASK_AFTER_ANSWERS curated answers in the last 24 hours, at most once every ASK_EVERY_SECONDS (24 hours)
per patient, and never in a conversation handed to staff or with an emergency or a handoff in the last
24 hours, nor after an answer in Hindi (the question and its buttons are in English only). The question
is a separate message after the answer, with two quick-reply buttons whose payloads are
`fb:up:<answer id>` and `fb:down:<answer id>` (the answer id is the id of the patient message it
answered: `tg-<update_id>` on Telegram, the message id on WhatsApp).

A tap is handled by the channel itself and never reaches the dialogue: only a button's payload (Telegram
callback data, a WhatsApp interactive reply's id) starting with `fb:` is one, never typed text. It must
name an answer this patient was asked about (`feedback_offers`, bot/channels/feedback.py), so a forged
payload rates nothing. It is stored with that answer's passage ids and acknowledged in a few words; a 👎
is answered with three optional reasons as buttons (`fb:why:<reason>:<answer id>`), stored as the
comment. The reasons are fixed: free text typed after a 👎 stays a message to the assistant, so warning
signs in it still reach the safety gate.

Standard library and this package only (no Rasa, no Sanic): unit-tested in the app's environment.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.channels.feedback import Answer, FeedbackStore, NotRateable, Rating, Value
from core.text_clean import clean_text

log = logging.getLogger(__name__)

PREFIX = "fb:"
ASK_AFTER_ANSWERS = 2
"""Curated answers (in the last 24 hours) before the patient is first asked."""
ASK_EVERY_SECONDS = 24 * 3600.0
"""At most one question per patient in this long; emergencies and handoffs this recent stop it too."""
QUESTION = "Was this answer helpful?"
UP_TITLE = "👍 Yes"
DOWN_TITLE = "👎 No"
THANKS = "Thanks for the feedback."
WHAT_WAS_MISSING = "Thanks for telling us. What was missing? (optional)"
REASONS = {"question": "Not my question", "general": "Too general", "unclear": "Hard to understand"}
"""Reason key -> button title (WhatsApp: at most 20 characters) and the comment stored."""
NOTED = "Thanks, noted."
NOT_SAVED = "Sorry, your feedback could not be saved just now."
EXPIRED = "Thanks: that question has closed."
UNSAFE_KINDS = frozenset({"emergency", "handoff"})
_DEVANAGARI = re.compile("[\u0900-\u097f]")


@dataclass(frozen=True)
class Tap:
    """A feedback button the patient tapped."""

    answer_id: str
    value: Value
    reason: str | None = None
    """A key of REASONS, for the "what was missing?" follow-up (always with a thumbs down)."""


def is_feedback(payload: str) -> bool:
    return payload.startswith(PREFIX)


def parse_tap(payload: str) -> Tap | None:
    """`fb:up:<id>`, `fb:down:<id>` or `fb:why:<reason>:<id>`; None for anything else."""
    if not is_feedback(payload):
        return None
    kind, _, rest = clean_text(payload).removeprefix(PREFIX).partition(":")
    if kind in ("up", "down") and rest.strip():
        return Tap(rest.strip(), "up" if kind == "up" else "down")
    reason, _, answer_id = rest.partition(":")
    if kind == "why" and reason in REASONS and answer_id.strip():
        return Tap(answer_id.strip(), "down", reason)
    return None


def rating_buttons(answer_id: str) -> list[tuple[str, str]]:
    """(title, payload) of the two thumbs."""
    return [(UP_TITLE, f"{PREFIX}up:{answer_id}"), (DOWN_TITLE, f"{PREFIX}down:{answer_id}")]


def reason_buttons(answer_id: str) -> list[tuple[str, str]]:
    """(title, payload) of the "what was missing?" reasons."""
    return [(title, f"{PREFIX}why:{key}:{answer_id}") for key, title in REASONS.items()]


@dataclass(frozen=True)
class Said:
    """One reply meta in the conversation, with when it was stored (Unix seconds)."""

    at: float
    meta: Mapping[str, Any]


def said_in(events: Iterable[Any]) -> list[Said]:
    """The reply metadata of a conversation's bot events (Rasa's BotUttered: `type_name` "bot", `data`
    with `custom.meta`), in order. Read by duck typing, so this module needs no Rasa."""
    found: list[Said] = []
    for event in events:
        if getattr(event, "type_name", None) != "bot":
            continue
        data = getattr(event, "data", None)
        custom = data.get("custom") if isinstance(data, dict) else None
        meta = custom.get("meta") if isinstance(custom, dict) else None
        if isinstance(meta, Mapping):
            at = getattr(event, "timestamp", None)
            found.append(Said(float(at) if isinstance(at, int | float) else 0.0, meta))
    return found


def offer_due(
    said: Sequence[Said],
    reply_texts: Sequence[str],
    *,
    handed_off: bool,
    last_offer_at: float | None,
    now: float,
) -> bool:
    """Whether to ask "Was this answer helpful?" after the reply just sent (the last of `said`)."""
    if handed_off or not said or said[-1].meta.get("kind") != "answer" or said[-1].meta.get("handoff") is True:
        return False
    if last_offer_at is not None and now - last_offer_at < ASK_EVERY_SECONDS:
        return False
    if any(_DEVANAGARI.search(text) for text in reply_texts):
        return False
    recent = [s.meta for s in said if now - s.at < ASK_EVERY_SECONDS] or [said[-1].meta]
    if any(m.get("kind") in UNSAFE_KINDS or m.get("handoff") is True for m in recent):
        return False
    return sum(1 for m in recent if m.get("kind") == "answer") >= ASK_AFTER_ANSWERS


@dataclass(frozen=True)
class TapReply:
    """What the channel tells the patient after a tap: a short acknowledgement, and maybe the reasons."""

    ack: str
    follow_up: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()
    stored: bool = False


class FeedbackPrompts:
    """The messaging apps' side of patients' feedback (one per channel). `store` is None when the channel
    has no database for it: then nothing is asked and a tap is only acknowledged."""

    def __init__(self, store: FeedbackStore | None, channel: str) -> None:
        self.store = store
        self.channel = channel

    async def after_answer(
        self, sender: str, answer_id: str, meta: Mapping[str, Any] | None, reply_texts: Sequence[str], agent: Any
    ) -> list[tuple[str, str]]:
        """The rating buttons to send after this reply, or [] (not due, not an answer, or something failed:
        the patient's conversation never depends on this)."""
        store = self.store
        answer = Answer.from_meta(meta, answer_id)
        if store is None or answer is None:
            return []
        try:
            last = await asyncio.to_thread(store.last_offer_at, sender)
            now = time.time()
            if last is not None and now - last < ASK_EVERY_SECONDS:
                return []  # the common case: asked already today, the conversation is not read
            tracker_store = agent.tracker_store
            retrieve = getattr(tracker_store, "retrieve_full_tracker", None) or tracker_store.retrieve
            tracker = await retrieve(sender)
            if tracker is None:
                return []
            said = said_in(list(tracker.events))
            handed_off = bool(tracker.get_slot("handoff"))
            if not offer_due(said, reply_texts, handed_off=handed_off, last_offer_at=last, now=now):
                return []
            await asyncio.to_thread(store.record_offer, sender, self.channel, answer, now)
        except Exception:
            log.exception("%s: could not decide on asking %s for feedback (not asked)", self.channel, sender)
            return []
        log.info("%s: asked %s whether answer %s helped", self.channel, sender, answer.answer_id)
        return rating_buttons(answer.answer_id)

    async def tap(self, sender: str, payload: str) -> TapReply:
        """Stores a feedback tap (never a dialogue turn) and says what to tell the patient."""
        tap = parse_tap(payload)
        if tap is None:
            log.warning("%s: a feedback payload from %s that is not one of ours: ignored", self.channel, sender)
            return TapReply(EXPIRED)
        store = self.store
        if store is None:
            return TapReply(THANKS)
        try:
            answer = await asyncio.to_thread(store.offered, sender, tap.answer_id)
            if answer is None:
                log.warning("%s: feedback from %s on an answer never offered to them: ignored", self.channel, sender)
                return TapReply(EXPIRED)
            comment = REASONS[tap.reason] if tap.reason else None
            rating = Rating(sender, self.channel, answer, tap.value, comment)
            await asyncio.to_thread(store.save, rating)
        except NotRateable:
            return TapReply(EXPIRED)
        except Exception:
            log.exception("%s: could not store feedback from %s", self.channel, sender)
            return TapReply(NOT_SAVED)
        if tap.reason:
            return TapReply(NOTED, stored=True)
        if tap.value == "down":
            return TapReply(THANKS, WHAT_WAS_MISSING, tuple(reason_buttons(answer.answer_id)), stored=True)
        return TapReply(THANKS, stored=True)
