"""Patients' feedback on answers (bot/channels/feedback.py and feedback_prompts.py), without Rasa, on
SQLite and PostgreSQL: only curated answers can be rated, a patient changing their mind updates their
rating, the comment is cleaned and cut, the console reads counts per period, channel, topic and passage,
erasure removes one patient's rows; and the messaging apps ask "Was this helpful?" sparingly, never near
an emergency or a handoff, and only store taps on answers they really offered. The HTTP side and the
platforms are tested against the real servers in tests/e2e/test_feedback.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from bot.channels import feedback_prompts as prompts
from bot.channels.feedback import (
    COMMENT_LIMIT,
    OFFERS_KEPT_SECONDS,
    Answer,
    FeedbackStore,
    NotRateable,
    Rating,
    clean_comment,
    forget_senders,
    passage_counts,
    read_feedback,
    totals,
)
from bot.channels.feedback_prompts import FeedbackPrompts, Said, offer_due, parse_tap

ANSWER_META = {
    "kind": "answer",
    "topics": ["downtime", "aftercare"],
    "passage_ids": ["downtime-01", "aftercare-02"],
    "confidence": 0.87,
    "disclaimer": True,
    "handoff": False,
}
DAY = 24 * 3600.0


@pytest.fixture
def store(db_url: str) -> Iterator[FeedbackStore]:
    store = FeedbackStore(db_url)
    yield store
    store.engine.dispose()


def answer(answer_id: str = "q-1", **meta: Any) -> Answer:
    found = Answer.from_meta({**ANSWER_META, **meta}, answer_id)
    assert found is not None
    return found


# -- what can be rated ---------------------------------------------------------------------------------


def test_only_a_curated_answer_can_be_rated():
    rated = Answer.from_meta(ANSWER_META, "tg-42")
    assert rated == Answer("tg-42", ("downtime-01", "aftercare-02"), "downtime")
    for kind in ("emergency", "handoff", "smalltalk", "clarify", "out_of_scope", "clinic_info", "booking", "consent"):
        assert Answer.from_meta({**ANSWER_META, "kind": kind}, "tg-42") is None, kind
    assert Answer.from_meta({**ANSWER_META, "handoff": True}, "tg-42") is None  # an answer that also handed off
    assert Answer.from_meta(None, "tg-42") is None and Answer.from_meta(["answer"], "tg-42") is None
    assert Answer.from_meta(ANSWER_META, "") is None  # no question it answered


def test_odd_metadata_is_read_safely():
    odd = Answer.from_meta({"kind": "answer", "passage_ids": ["ok-1", 7, None, "bad\ud800id", " "], "topics": "x"}, "q")
    assert odd == Answer("q", ("ok-1", "bad\ufffdid"), None)
    many = Answer.from_meta({"kind": "answer", "passage_ids": [f"p-{i}" for i in range(100)]}, "q")
    assert many is not None and len(many.passage_ids) == 20


def test_a_rating_is_up_or_down():
    with pytest.raises(NotRateable):
        Rating("web-1", "webchat", answer(), "meh")  # type: ignore[arg-type]
    with pytest.raises(NotRateable):
        Rating("", "webchat", answer(), "up")


def test_the_comment_is_cleaned_trimmed_and_cut():
    assert clean_comment("  more about\x00 swelling \ud800 ") == "more about  swelling \ufffd"
    assert clean_comment("   ") is None and clean_comment(None) is None and clean_comment(42) is None
    long = clean_comment("é" * 2000)
    assert long is not None and len(long) == COMMENT_LIMIT and long.endswith("…")


# -- storage ---------------------------------------------------------------------------------------------


def test_a_rating_is_stored_with_its_passages_and_changing_your_mind_updates_it(store: FeedbackStore):
    assert store._engine is None  # nothing touched the database at construction (Rasa starts without it)
    first = store.save(Rating("web-a", "webchat", answer("q-1"), "down", "nothing on make-up", message_index=7), 100.0)
    assert first is True
    (row,) = read_feedback(store.engine)
    assert (row.sender_id, row.channel, row.answer_id, row.message_index) == ("web-a", "webchat", "q-1", 7)
    assert row.passage_ids == ("downtime-01", "aftercare-02") and row.topic == "downtime"
    assert (row.value, row.comment) == ("down", "nothing on make-up")

    again = store.save(Rating("web-a", "webchat", answer("q-1"), "up", message_index=7), 200.0)
    assert again is False
    (row,) = read_feedback(store.engine)  # still one row for (patient, answer)
    assert (row.value, row.comment) == ("up", None)
    assert row.created_at == datetime.fromtimestamp(100.0, timezone.utc)
    assert row.updated_at == datetime.fromtimestamp(200.0, timezone.utc)
    assert store.given("web-a") == {"q-1": "up"} and store.given("web-b") == {}


def test_the_same_answer_id_of_two_patients_is_two_ratings(store: FeedbackStore):
    store.save(Rating("tg-1", "telegram", answer("same"), "up"))
    store.save(Rating("tg-2", "telegram", answer("same"), "down"))
    assert sorted(r.sender_id for r in read_feedback(store.engine)) == ["tg-1", "tg-2"]


def test_the_console_reads_a_period_and_counts_per_channel_topic_and_passage(store: FeedbackStore):
    base = datetime(2025, 3, 1, tzinfo=timezone.utc).timestamp()
    store.save(Rating("web-1", "webchat", answer("a", passage_ids=["pain-01"], topics=["pain"]), "up"), base)
    store.save(Rating("web-2", "webchat", answer("b", passage_ids=["pain-01"], topics=["pain"]), "down", "x"), base + 1)
    store.save(Rating("tg-3", "telegram", answer("c"), "down", "Too general"), base + DAY)
    store.save(Rating("wa-4", "whatsapp", answer("d"), "up"), base + 2 * DAY)
    store.save(Rating("wa-5", "whatsapp", answer("e"), "up"), base - DAY)  # before the period

    start, end = datetime(2025, 3, 1, tzinfo=timezone.utc), datetime(2025, 3, 3)  # naive = UTC
    period = read_feedback(store.engine, start, end)
    assert [r.answer_id for r in period] == ["c", "b", "a"]  # newest first, [start, end)
    assert [r.answer_id for r in read_feedback(store.engine, start, end, value="down")] == ["c", "b"]
    assert [r.answer_id for r in read_feedback(store.engine, start, with_comment=True)] == ["c", "b"]
    assert [r.answer_id for r in read_feedback(store.engine, passage_id="pain-01")] == ["b", "a"]
    assert [r.answer_id for r in read_feedback(store.engine, passage_id="downtime-01", limit=2)] == ["d", "c"]
    assert [r.answer_id for r in read_feedback(store.engine, limit=2, offset=1)] == ["c", "b"]
    assert [r.answer_id for r in read_feedback(store.engine, sender_id="wa-5")] == ["e"]

    summary = totals(store.engine, start, end)
    assert (summary.all.up, summary.all.down, summary.all.comments, summary.all.total) == (1, 2, 2, 3)
    assert summary.by_channel["webchat"].up == 1 and summary.by_channel["webchat"].down == 1
    assert summary.by_channel["telegram"].down == 1 and "whatsapp" not in summary.by_channel
    assert summary.by_topic["pain"].total == 2 and summary.by_topic["downtime"].down == 1

    counts = {c.passage_id: c for c in passage_counts(store.engine, start, end + timedelta(days=1))}
    assert (counts["pain-01"].up, counts["pain-01"].down, counts["pain-01"].comments) == (1, 1, 1)
    assert (counts["downtime-01"].up, counts["downtime-01"].down) == (1, 1)  # each passage of an answer counts
    assert (counts["aftercare-02"].up, counts["aftercare-02"].down) == (1, 1)
    assert passage_counts(store.engine)[0].down >= passage_counts(store.engine)[-1].down  # most thumbs down first


def test_reading_before_any_feedback_finds_nothing(db_url: str):
    engine = sa.create_engine(db_url)
    assert read_feedback(engine) == [] and passage_counts(engine) == [] and totals(engine).all.total == 0
    assert forget_senders(engine, ["web-1"]) == 0
    engine.dispose()


def test_erasure_removes_one_patients_ratings_and_offers_only(store: FeedbackStore):
    store.save(Rating("tg-1", "telegram", answer("a"), "down", "what I wrote"))
    store.record_offer("tg-1", "telegram", answer("b"))
    store.save(Rating("tg-2", "telegram", answer("a"), "up"))
    store.record_offer("tg-2", "telegram", answer("c"))
    assert forget_senders(store.engine, ["tg-1", "never-seen"]) == 2
    assert [r.sender_id for r in read_feedback(store.engine)] == ["tg-2"]
    assert store.offered("tg-1", "b") is None and store.offered("tg-2", "c") is not None
    assert forget_senders(store.engine, []) == 0


def test_a_stored_row_that_was_tampered_with_still_reads(store: FeedbackStore):
    store.save(Rating("web-1", "webchat", answer("a"), "up"))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE feedback SET passage_ids = 'not json', comment = 'x\x01y'"))
    (row,) = read_feedback(store.engine)
    assert row.passage_ids == () and row.comment == "x y"
    assert passage_counts(store.engine) == []


# -- the messaging apps' "Was this helpful?" --------------------------------------------------------------


def said(*kinds: str, at: float = 1000.0) -> list[Said]:
    return [Said(at, {**ANSWER_META, "kind": k, "handoff": k == "handoff"}) for k in kinds]


def test_asked_after_the_second_answer_at_most_once_a_day():
    now = 1000.0
    assert not offer_due(said("answer"), ["An answer"], handed_off=False, last_offer_at=None, now=now)
    assert offer_due(
        said("answer", "smalltalk", "answer"), ["An answer"], handed_off=False, last_offer_at=None, now=now
    )
    # asked 23 hours ago: not again; 25 hours ago: again
    assert not offer_due(said("answer", "answer"), ["a"], handed_off=False, last_offer_at=now - 23 * 3600, now=now)
    assert offer_due(said("answer", "answer"), ["a"], handed_off=False, last_offer_at=now - 25 * 3600, now=now)
    # answers older than a day do not count towards the two
    old_and_new = [*said("answer", at=now - 2 * DAY), *said("answer", at=now)]
    assert not offer_due(old_and_new, ["a"], handed_off=False, last_offer_at=None, now=now)


def test_never_after_anything_but_an_answer_nor_near_an_emergency_or_a_handoff():
    now = 1000.0
    for last in ("emergency", "handoff", "clarify", "smalltalk", "booking", "clinic_info", "out_of_scope"):
        assert not offer_due(said("answer", "answer", last), ["x"], handed_off=False, last_offer_at=None, now=now), last
    for earlier in ("emergency", "handoff"):
        kinds = said("answer", earlier, "answer", "answer")
        assert not offer_due(kinds, ["x"], handed_off=False, last_offer_at=None, now=now), earlier
    assert not offer_due(said("answer", "answer"), ["x"], handed_off=True, last_offer_at=None, now=now)
    old_emergency = [*said("emergency", at=now - 2 * DAY), *said("answer", "answer", at=now)]
    assert offer_due(old_emergency, ["x"], handed_off=False, last_offer_at=None, now=now)
    assert not offer_due(
        said("answer", "answer"), ["डाउनटाइम कितना होता है"], handed_off=False, last_offer_at=None, now=now
    )
    assert not offer_due([], [], handed_off=False, last_offer_at=None, now=now)


def test_taps_are_read_from_the_buttons_payloads_only():
    assert [p for _, p in prompts.rating_buttons("tg-9")] == ["fb:up:tg-9", "fb:down:tg-9"]
    assert parse_tap("fb:up:tg-9") == prompts.Tap("tg-9", "up")
    assert parse_tap("fb:down:wamid.HBgL:x=") == prompts.Tap("wamid.HBgL:x=", "down")
    reasons = prompts.reason_buttons("tg-9")
    assert [t for t, _ in reasons] == list(prompts.REASONS.values()) and all(len(t) <= 20 for t, _ in reasons)
    assert parse_tap(reasons[1][1]) == prompts.Tap("tg-9", "down", "general")
    for bad in ("fb:", "fb:up:", "fb:sideways:tg-9", "fb:why:bored:tg-9", "fb:why:general:", "/affirm", "up:tg-9"):
        assert parse_tap(bad) is None, bad
    assert all(len(p.encode()) <= 64 for _, p in [*prompts.rating_buttons("tg-123456789012"), *reasons])


@dataclass
class Event:
    type_name: str
    data: dict[str, Any] = field(default_factory=dict)
    timestamp: float = field(default_factory=time.time)


@dataclass
class Tracker:
    events: list[Event]
    slots: dict[str, Any] = field(default_factory=dict)

    def get_slot(self, name: str) -> Any:
        return self.slots.get(name)


class TrackerStore:
    def __init__(self, tracker: Tracker | None) -> None:
        self.tracker = tracker
        self.reads = 0

    async def retrieve_full_tracker(self, sender: str) -> Tracker | None:
        self.reads += 1
        return self.tracker


@dataclass
class Agent:
    tracker_store: TrackerStore


def conversation(*kinds: str) -> Agent:
    events: list[Event] = [Event("action"), Event("user", {"text": "hi"})]
    for kind in kinds:
        events += [Event("bot", {"text": "reply"}), Event("bot", {"custom": {"meta": {**ANSWER_META, "kind": kind}}})]
    return Agent(TrackerStore(Tracker(events)))


def test_the_channel_asks_records_the_offer_and_stores_the_tap(store: FeedbackStore):
    channel = FeedbackPrompts(store, "telegram")
    first = asyncio.run(channel.after_answer("tg-7", "tg-100", ANSWER_META, ["A"], conversation("answer")))
    assert first == []  # the first answer: not yet
    agent = conversation("answer", "answer")
    buttons = asyncio.run(channel.after_answer("tg-7", "tg-101", ANSWER_META, ["A"], agent))
    assert buttons == prompts.rating_buttons("tg-101")
    assert store.offered("tg-7", "tg-101") == answer("tg-101")
    # the next answer the same day: not asked, and the conversation is not even read
    agent = conversation("answer", "answer", "answer")
    assert asyncio.run(channel.after_answer("tg-7", "tg-102", ANSWER_META, ["A"], agent)) == []
    assert agent.tracker_store.reads == 0

    down = asyncio.run(channel.tap("tg-7", "fb:down:tg-101"))
    assert down.stored and down.ack == prompts.THANKS and down.follow_up == prompts.WHAT_WAS_MISSING
    assert down.buttons == tuple(prompts.reason_buttons("tg-101"))
    (row,) = read_feedback(store.engine)
    assert (row.sender_id, row.channel, row.answer_id, row.value) == ("tg-7", "telegram", "tg-101", "down")
    assert row.passage_ids == ("downtime-01", "aftercare-02")
    reason = asyncio.run(channel.tap("tg-7", "fb:why:unclear:tg-101"))
    assert reason.stored and reason.ack == prompts.NOTED and reason.follow_up is None
    (row,) = read_feedback(store.engine)
    assert (row.value, row.comment) == ("down", "Hard to understand")
    up = asyncio.run(channel.tap("tg-7", "fb:up:tg-101"))  # changed their mind
    assert up.stored and up.follow_up is None
    (row,) = read_feedback(store.engine)
    assert (row.value, row.comment) == ("up", None)


def test_a_tap_on_an_answer_never_offered_rates_nothing(store: FeedbackStore, monkeypatch):
    channel = FeedbackPrompts(store, "whatsapp")
    asyncio.run(channel.after_answer("wa-1", "wamid.A", ANSWER_META, ["A"], conversation("answer", "answer")))
    for sender, payload in (("wa-2", "fb:up:wamid.A"), ("wa-1", "fb:up:wamid.B"), ("wa-1", "fb:meh")):
        said_back = asyncio.run(channel.tap(sender, payload))  # someone else's, a made-up one, a broken one
        assert not said_back.stored and said_back.ack == prompts.EXPIRED, (sender, payload)
    assert read_feedback(store.engine) == []
    later = time.time() + OFFERS_KEPT_SECONDS + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert not asyncio.run(channel.tap("wa-1", "fb:up:wamid.A")).stored  # an offer a month old has closed


def test_no_question_in_a_handed_off_conversation_or_when_the_store_fails(store: FeedbackStore):
    channel = FeedbackPrompts(store, "telegram")
    agent = conversation("answer", "answer")
    agent.tracker_store.tracker.slots["handoff"] = True  # type: ignore[union-attr]
    assert asyncio.run(channel.after_answer("tg-1", "tg-1", ANSWER_META, ["A"], agent)) == []
    assert asyncio.run(channel.after_answer("tg-1", "tg-1", {**ANSWER_META, "kind": "emergency"}, ["A"], agent)) == []

    broken = FeedbackPrompts(FeedbackStore("sqlite:////nonexistent/dir/x.db"), "telegram")
    assert asyncio.run(broken.after_answer("tg-1", "tg-1", ANSWER_META, ["A"], conversation("answer", "answer"))) == []
    failed = asyncio.run(broken.tap("tg-1", "fb:up:tg-1"))
    assert not failed.stored and failed.ack == prompts.NOT_SAVED
    assert asyncio.run(FeedbackPrompts(None, "telegram").tap("tg-1", "fb:up:tg-1")).ack == prompts.THANKS


def test_offers_a_month_old_are_swept(store: FeedbackStore):
    old = time.time() - OFFERS_KEPT_SECONDS - 60
    store.record_offer("tg-1", "telegram", answer("a"), now=old)
    store.record_offer("tg-1", "telegram", answer("b"))
    assert store.forget_offers_before(time.time() - OFFERS_KEPT_SECONDS) == 1
    assert store.offered("tg-1", "a", now=old) is None and store.offered("tg-1", "b") is not None
    assert store.last_offer_at("tg-1") is not None and store.last_offer_at("tg-9") is None
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT passage_ids FROM feedback_offers")).scalar_one()
    assert json.loads(stored) == ["downtime-01", "aftercare-02"]
