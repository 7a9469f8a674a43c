"""The knowledge gaps list shows what staff can act on: plainly off-topic messages (out of scope by a
sure call, small talk) are left out, and a long message is cut to a readable length."""

from __future__ import annotations

from console.knowledge_gaps import SHOWN_CHARS, shorten
from knowledge.results import CLOSEST_TO_OUT_OF_SCOPE
from tests.console.test_knowledge import gaps


def turn(tracker, sender: str, text: str, kind: str, reason: str, intent: str = "ask_question", sure: float = 0.6):
    """A patient message with the NLU's intent and confidence, and the bot's reply with its metadata."""
    tracker.add(
        sender, "user", text=text, input_channel="rest", parse_data={"intent": {"name": intent, "confidence": sure}}
    )
    tracker.add(sender, "bot", text="...", data={"buttons": None})
    meta = {"kind": kind, "topics": [], "passage_ids": [], "confidence": 0.0, "disclaimer": False, "reason": reason}
    tracker.add(sender, "bot", text=None, data={"custom": {"meta": meta}})


def test_plainly_off_topic_messages_are_left_out(console, tracker):
    # plainly off-topic: the nearest question is an out-of-scope anchor, or the NLU was sure
    turn(
        tracker,
        "rest-oos-1",
        "what is the capital of australia",
        "out_of_scope",
        f"retrieval:{CLOSEST_TO_OUT_OF_SCOPE}",
    )
    turn(
        tracker, "rest-oos-2", "who won the cricket yesterday", "out_of_scope", "nlu:out_of_scope", "out_of_scope", 0.95
    )
    turn(tracker, "rest-oos-3", "hello there my friend", "out_of_scope", "retrieval:weak", "greet", 0.97)
    turn(tracker, "rest-oos-4", "thanks a lot!!", "out_of_scope", "retrieval:weak", "thanks", 0.99)
    # real gaps: in scope but unanswerable, or an out-of-scope call nobody was sure of
    turn(
        tracker,
        "rest-gap-1",
        "can meso fix a crooked nose bridge",
        "out_of_scope",
        "retrieval:confidence below the out-of-scope floor",
    )
    turn(
        tracker, "rest-gap-2", "does meso help with dark elbows", "out_of_scope", "retrieval:weak", "out_of_scope", 0.55
    )
    turn(tracker, "rest-gap-3", "hi is meso ok before a wedding", "clarify", "retrieval:unsure", "greet", 0.99)
    console.login("rita")
    shown = sorted(g["question"] for g in gaps(console))
    assert shown == [
        "can meso fix a crooked nose bridge",
        "does meso help with dark elbows",
        "hi is meso ok before a wedding",
    ]


def test_long_messages_are_cut_to_a_readable_length(console, tracker):
    block = ("I have had a very long week and I want to tell you everything about my skin and my plans. " * 110)[:9769]
    turn(tracker, "rest-long-1", block, "clarify", "retrieval:unsure")
    console.login("rita")
    (gap,) = gaps(console)
    assert len(gap["question"]) <= SHOWN_CHARS and gap["question"].endswith("…")
    assert gap["question"].startswith("I have had a very long week")
    (example,) = gap["examples"]
    assert len(example["text"]) <= SHOWN_CHARS and example["text"].endswith("…")


def test_shorten():
    assert shorten("does it\n\n hurt?") == "does it hurt?"
    assert shorten("word " * 100, 20) == "word word word word…"
    assert shorten("x" * 500, 10) == "x" * 9 + "…"
    assert len(shorten("a" * 279 + " bb")) == SHOWN_CHARS
