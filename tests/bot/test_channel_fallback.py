"""The channel's own answer when the dialogue fails (bot/channels/fallback.py): what the patient gets,
what is recorded and who is alerted, and the time limit on a turn. The Rasa side (storing the turn,
the real servers) is tested end to end in tests/e2e/test_failures.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from actions.safety.personal_medical import detect_personal_medical
from actions.safety.warning_signs import detect_warning_signs
from bot.channels.fallback import (
    LAST_RESORT,
    LAST_RESORT_URGENT,
    REASON,
    build_fallback,
    caused_by,
    has_meta,
    run_dialogue,
)

URGENT = "I can't breathe and my lips are swelling after the injections"
ORDINARY = "how many sessions will I need?"
PERSONAL = "I'm on warfarin for my heart, is it safe for me to have the face meso?"
CONTRACT_FIELDS = {"kind", "topics", "passage_ids", "confidence", "disclaimer", "handoff"}


def wording(sender: str, text: str) -> list[dict[str, Any]]:
    """Stands in for bot/channels/common.py `fallback_reply` (same shape: text, then metadata)."""
    urgent = bool(detect_warning_signs(text))
    personal = not urgent and detect_personal_medical(text) is not None
    kind = "emergency" if urgent else "handoff" if personal else "clarify"
    said = {
        "emergency": "URGENT: call 112 now.",
        "handoff": "A clinician will answer.",
        "clarify": "Sorry, please try again.",
    }
    return [
        {"recipient_id": sender, "text": said[kind]},
        {"recipient_id": sender, "custom": {"meta": {"kind": kind, "disclaimer": True}}},
    ]


def broken_detector(text: str) -> list[Any]:
    raise RuntimeError("catalogue failed to load")


def test_warning_signs_get_urgent_care_an_emergency_handoff_and_an_emergency_alert():
    fallback = build_fallback("p1", URGENT, "timeout", wording, detect_warning_signs)
    assert fallback.texts == ("URGENT: call 112 now.",)
    assert fallback.meta["kind"] == "emergency" and fallback.meta["handoff"] is True
    assert fallback.meta["reason"] == REASON and fallback.meta["extra"]["failure"] == "timeout"
    assert "breathing" in fallback.meta["extra"]["warning_signs"]
    assert set(fallback.meta) >= CONTRACT_FIELDS
    assert fallback.slots["handoff"] is True and fallback.slots["handoff_reason"] == "emergency"
    assert fallback.alert is not None and fallback.alert.kind == "emergency"
    assert fallback.alert.reason.startswith("channel_fallback:timeout:warning_sign:")


def test_an_ordinary_question_gets_the_polite_fallback_and_nobody_is_paged():
    fallback = build_fallback("p2", ORDINARY, "error", wording, detect_warning_signs)
    assert fallback.texts == ("Sorry, please try again.",)
    assert fallback.meta["kind"] == "clarify" and fallback.meta["handoff"] is False
    assert fallback.meta["disclaimer"] is True  # as the wording said
    assert fallback.slots == {} and fallback.alert is None


def test_a_personal_medical_question_goes_to_a_clinician_with_a_handoff_alert_not_the_polite_fallback():
    """With the action server down, a medicine question once got "Sorry, try again" and no handoff: the
    channel's rules know personal medical questions too (fail closed: a handoff, never an answer)."""
    fallback = build_fallback("p7", PERSONAL, "no_reply", wording, detect_warning_signs)
    assert fallback.texts == ("A clinician will answer.",)
    assert fallback.meta["kind"] == "handoff" and fallback.meta["handoff"] is True
    assert fallback.slots["handoff"] is True and fallback.slots["handoff_reason"] == "personal"
    assert fallback.alert is not None and fallback.alert.kind == "handoff"
    assert fallback.alert.reason == "channel_fallback:no_reply:personal_medical"


def test_a_detector_that_raises_hands_the_conversation_to_staff_never_silence():
    fallback = build_fallback("p3", URGENT, "error", wording, broken_detector)
    assert fallback.texts  # the patient still gets an answer
    assert fallback.meta["kind"] == "handoff" and fallback.meta["handoff"] is True
    assert fallback.meta["extra"]["detector_error"] is True
    assert fallback.slots["handoff"] is True and fallback.slots["handoff_reason"] == "detector_error"
    assert fallback.alert is not None and fallback.alert.kind == "handoff"


def test_broken_wording_falls_back_to_the_last_resort_text_with_urgent_care_for_warning_signs():
    def broken(sender: str, text: str) -> list[dict[str, Any]]:
        raise OSError("clinic.yml unreadable")

    urgent = build_fallback("p4", URGENT, "error", broken, detect_warning_signs)
    assert urgent.texts == (LAST_RESORT_URGENT,) and urgent.meta["kind"] == "emergency"
    assert urgent.alert is not None and urgent.alert.kind == "emergency"
    ordinary = build_fallback("p5", ORDINARY, "error", broken, detect_warning_signs)
    assert ordinary.texts == (LAST_RESORT,) and ordinary.meta["kind"] == "clarify"
    assert "emergency department" in LAST_RESORT  # even the last resort says where to go if unwell


def test_the_reply_as_rasa_messages_ends_with_its_metadata():
    fallback = build_fallback("p6", ORDINARY, "no_reply", wording, detect_warning_signs)
    messages = fallback.messages("p6")
    assert [has_meta(m) for m in messages] == [False, True]
    assert all(m["recipient_id"] == "p6" for m in messages)
    assert messages[-1]["custom"]["meta"] == fallback.meta


# ---------------------------------------------------------------- the time limit


def test_a_turn_within_the_limit_keeps_its_reply():
    async def turn() -> str:
        await asyncio.sleep(0.01)
        return "done"

    outcome = asyncio.run(run_dialogue(turn(), timeout=1.0, label="t"))
    assert outcome.failure is None and outcome.error is None


def test_a_slow_turn_is_cancelled_at_the_limit_and_has_unwound_before_the_channel_answers():
    unwound: list[str] = []

    async def hung_action_call() -> None:
        try:
            await asyncio.sleep(300)  # Rasa would wait 5 minutes for the action server
        finally:
            unwound.append("lock released")

    started = time.monotonic()
    outcome = asyncio.run(run_dialogue(hung_action_call(), timeout=0.2, label="t"))
    assert outcome.failure == "timeout"
    assert time.monotonic() - started < 2
    assert unwound == ["lock released"]


def test_a_turn_that_finishes_as_the_time_runs_out_keeps_its_reply_so_there_is_never_a_second_one():
    async def finishes_anyway() -> str:
        try:
            await asyncio.sleep(300)
        except asyncio.CancelledError:
            return "stored and answered"  # e.g. it was past its last await when cancelled
        return "unreachable"

    outcome = asyncio.run(run_dialogue(finishes_anyway(), timeout=0.1, label="t"))
    assert outcome.failure is None


def test_a_failing_turn_is_reported_with_its_error():
    async def fails() -> None:
        raise ConnectionError("action server down")

    outcome = asyncio.run(run_dialogue(fails(), timeout=1.0, label="t"))
    assert outcome.failure == "error" and isinstance(outcome.error, ConnectionError)


def test_cancelling_the_caller_cancels_the_turn():
    seen: list[str] = []

    async def turn() -> None:
        try:
            await asyncio.sleep(300)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def caller() -> None:
        task = asyncio.ensure_future(run_dialogue(turn(), timeout=100, label="t"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(caller())
    assert seen == ["cancelled"]


def test_caused_by_follows_the_chain_of_errors():
    class StoreDown(Exception):
        pass

    try:
        try:
            raise StoreDown("database is locked")
        except StoreDown as inner:
            raise RuntimeError("turn failed") from inner
    except RuntimeError as outer:
        assert caused_by(outer, StoreDown)
        assert not caused_by(outer, KeyError)
    assert not caused_by(None, StoreDown)
