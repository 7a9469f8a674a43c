"""When the dialogue fails, the channel answers by itself (bot/channels/common.py `collect_turn`);
the pure parts of that live here, without Rasa, so they can be tested on their own:

- `run_dialogue`: runs one turn of the dialogue with a time limit. On time-out the turn is
  cancelled and waited for (so it has let go of the conversation lock and stored nothing); a turn
  that finished just as the time ran out keeps its reply, so a patient never gets two replies.
- `build_fallback`: what the patient gets instead, decided by the rule-based detectors: urgent-care
  text, an emergency handoff and an emergency staff alert for warning signs; for a personal medical
  question (the channel's fallback wording says so in its metadata, kind "handoff"), a handoff to a
  clinician and a staff alert; the polite fallback otherwise; a handoff and a staff alert if the
  warning-sign detector itself raised (never silence).

Standard library only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from actions.safety.texts import LAST_RESORT, LAST_RESORT_URGENT  # used only if the clinic's texts cannot be built

log = logging.getLogger(__name__)

Failure = Literal["error", "timeout", "no_reply"]
"""Why the channel answered: the dialogue raised, took too long, or finished without reply metadata."""
AlertKind = Literal["emergency", "handoff"]
REASON = "channel_fallback"
CANCEL_GRACE = 3.0
"""Seconds a cancelled turn gets to unwind (close its action call, release the conversation lock)."""


@dataclass(frozen=True)
class DialogueOutcome:
    failure: Failure | None
    """None: the dialogue finished (its reply may still lack metadata: see `collect_turn`)."""
    error: BaseException | None = None


async def run_dialogue(
    work: Awaitable[Any], timeout: float, label: str, grace: float = CANCEL_GRACE
) -> DialogueOutcome:
    """Runs `work` (one turn of the dialogue) for at most `timeout` seconds. Never raises, except
    when the caller itself is cancelled (the turn is cancelled with it)."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=grace)
            if task.done() and not task.cancelled() and task.exception() is None:
                log.warning("dialogue for %s finished just as its %.1f s ran out: its reply stands", label, timeout)
                return DialogueOutcome(None)
            if not task.done():
                log.error("dialogue for %s did not stop %.1f s after it was cancelled", label, grace)
            log.error("dialogue for %s took longer than %.1f s: cancelled, the channel answers", label, timeout)
            return DialogueOutcome("timeout")
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task.cancelled():
        log.error("dialogue for %s was cancelled: the channel answers", label)
        return DialogueOutcome("error")
    error = task.exception()
    if error is not None:
        log.error("dialogue failed for %s: the channel answers", label, exc_info=error)
        return DialogueOutcome("error", error)
    return DialogueOutcome(None)


def caused_by(error: BaseException | None, kind: type[BaseException]) -> bool:
    """Whether `error`, or an exception it was raised from or during, is a `kind`."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def has_meta(message: dict[str, Any]) -> bool:
    custom = message.get("custom")
    return isinstance(custom, dict) and "meta" in custom


@dataclass(frozen=True)
class StaffAlert:
    kind: AlertKind
    reason: str


@dataclass(frozen=True)
class Fallback:
    """The channel's own reply to one patient message, and what it records."""

    texts: tuple[str, ...]
    """What the patient sees, one message each."""
    meta: dict[str, Any]
    """The reply metadata (../shared/CONTRACT.md), with reason "channel_fallback"."""
    slots: dict[str, Any] = field(default_factory=dict)
    """Slots to set in the conversation (an emergency or a failed detector hands it to staff)."""
    alert: StaffAlert | None = None

    def messages(self, sender: str) -> list[dict[str, Any]]:
        """As Rasa's collected messages: the texts, then the reply metadata."""
        out: list[dict[str, Any]] = [{"recipient_id": sender, "text": text} for text in self.texts]
        out.append({"recipient_id": sender, "custom": {"meta": self.meta}})
        return out


ReplyFor = Callable[[str, str], list[dict[str, Any]]]
"""The channel's fallback wording: (sender, text) -> Rasa messages (bot/channels/common.py `fallback_reply`)."""
Detector = Callable[[str], Sequence[Any]]
"""The rule-based warning-sign detector: text -> the signs found (each with an `id`)."""


def build_fallback(sender: str, text: str, failure: Failure, reply_for: ReplyFor, detect: Detector) -> Fallback:
    """The channel's own reply when the dialogue failed. Never raises."""
    detector_failed = False
    sign_ids: list[str] = []
    try:
        sign_ids = [str(getattr(sign, "id", sign)) for sign in detect(text)]
    except Exception:
        log.exception(
            "the warning-sign detector raised on a message from %s: handing the conversation to staff", sender
        )
        detector_failed = True
    texts: list[str] = []
    their_meta: dict[str, Any] = {}
    try:
        for message in reply_for(sender, "" if detector_failed else text):
            if has_meta(message):
                their_meta = message["custom"]["meta"] if isinstance(message["custom"]["meta"], dict) else {}
            elif isinstance(message.get("text"), str) and message["text"].strip():
                texts.append(message["text"])
    except Exception:
        log.exception("the fallback reply for %s could not be built: using the last-resort text", sender)
        texts, their_meta = [], {}
    emergency = bool(sign_ids) or their_meta.get("kind") == "emergency"
    if not texts:
        texts = [LAST_RESORT_URGENT if emergency else LAST_RESORT]
        their_meta = {}
    personal = not emergency and their_meta.get("kind") == "handoff"  # read as a personal medical question
    handoff = emergency or detector_failed or personal
    extra: dict[str, Any] = {"failure": failure}
    if sign_ids:
        extra["warning_signs"] = sign_ids
    if detector_failed:
        extra["detector_error"] = True
    meta: dict[str, Any] = {
        "kind": "emergency" if emergency else "handoff" if detector_failed or personal else "clarify",
        "topics": [],
        "passage_ids": [],
        "confidence": 0.0,
        "disclaimer": bool(their_meta.get("disclaimer", False)),
        "handoff": handoff,
        "reason": REASON,
        "extra": extra,
    }
    slots: dict[str, Any] = {}
    alert: StaffAlert | None = None
    if emergency:
        slots = {"handoff": True, "handoff_reason": "emergency", "hold_notices": 0.0, "pending_offer": None}
        alert = StaffAlert("emergency", f"{REASON}:{failure}:warning_sign:{','.join(sign_ids) or 'fallback_text'}")
    elif detector_failed:
        slots = {"handoff": True, "handoff_reason": "detector_error", "hold_notices": 0.0, "pending_offer": None}
        alert = StaffAlert("handoff", f"{REASON}:{failure}:detector_error")
    elif personal:
        slots = {"handoff": True, "handoff_reason": "personal", "hold_notices": 0.0, "pending_offer": None}
        alert = StaffAlert("handoff", f"{REASON}:{failure}:personal_medical")
    return Fallback(texts=tuple(texts), meta=meta, slots=slots, alert=alert)
