"""Knowledge gaps: the questions the assistant was unsure about (clarify, low confidence) or could
not answer (out of scope), grouped by the words they share, so staff can add passages or question
variants where patients actually struggle.

Plainly off-topic messages are left out: an out-of-scope reply the assistant was sure of (the NLU's or
the route classifier's out-of-scope call, or the question closest to one of the out-of-scope anchors:
the weather, another procedure) and small talk the NLU was sure of ("hi", "thanks"). No passage will
ever answer those. Long messages are shown cut to SHOWN_CHARS with an ellipsis (`shorten`)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.channels.feedback import Feedback, read_feedback
from console.models import Conversation
from console.sync import LOW_CONFIDENCE
from console.tracker_store import StoredEvent, event_time, tracker_engine
from console.tracker_store import conversations as tracker_conversations
from knowledge.results import CLOSEST_TO_OUT_OF_SCOPE

GAP_KINDS = ("clarify", "out_of_scope")
THUMBS_DOWN = "thumbs_down"
"""The kind of a gap question whose answer the patient rated thumbs down (bot/channels/feedback.py)."""
SIMILAR = 0.5
SHOWN_CHARS = 280
"""Longer questions are cut to this many characters (and an ellipsis) in the gaps list."""
OFF_TOPIC_REASONS = frozenset({"nlu:out_of_scope", "router:out_of_scope", f"retrieval:{CLOSEST_TO_OUT_OF_SCOPE}"})
"""Out-of-scope replies whose reason says the question is plainly not about the treatment (actions/respond.py)."""
SMALL_TALK_INTENTS = frozenset({"greet", "goodbye", "thanks", "bot_challenge", "affirm", "deny", "out_of_scope"})
SURE = 0.9
"""The NLU's confidence in a small-talk or out-of-scope intent that makes an out-of-scope reply plainly off-topic."""
STOPWORDS = frozenset(
    "the and for are but not you your with have has had was were can could would should does did doing this that "
    "these those what when where which who why how there their them they then than its it's i'm i've about from "
    "into any all get got will just also very much many some more most my me our out too yes no".split()
)
_WORD = re.compile(r"[a-zà-ÿ0-9]+")


@dataclass(frozen=True)
class Unsure:
    """One patient question the assistant did not answer with confidence."""

    sender_id: str
    text: str
    at: datetime
    kind: str
    confidence: float | None
    passage_ids: tuple[str, ...] = ()
    """For a thumbs down: the passages the rated answer was built from."""
    comment: str | None = None
    """For a thumbs down: the patient's "what was missing?" note, if any."""


@dataclass
class Gap:
    words: frozenset[str]
    questions: list[Unsure] = field(default_factory=list)

    @property
    def question(self) -> str:
        """The most asked wording (the newest among equals)."""
        counts = Counter(q.text.strip().lower() for q in self.questions)
        best = max(counts.values())
        return next(q.text for q in self.questions if counts[q.text.strip().lower()] == best)

    @property
    def last_at(self) -> datetime:
        return max(q.at for q in self.questions)

    @property
    def kinds(self) -> list[str]:
        return sorted({q.kind for q in self.questions})


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """One line of at most `limit` characters: cut at a word where one is near, with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if not line[limit - 1].isspace() and space >= limit * 0.6:  # the cut falls inside a word
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def _intent(user: StoredEvent) -> tuple[str, float]:
    parse = user.data.get("parse_data")
    intent = parse.get("intent") if isinstance(parse, dict) else None
    if not isinstance(intent, dict):
        return "", 0.0
    confidence = intent.get("confidence")
    return str(intent.get("name") or ""), float(confidence) if isinstance(confidence, int | float) else 0.0


def plainly_off_topic(kind: str, reason: str, intent: str, intent_confidence: float) -> bool:
    """An out-of-scope reply to a message no passage should answer (see the module's docstring)."""
    if kind != "out_of_scope":
        return False
    return reason in OFF_TOPIC_REASONS or (intent in SMALL_TALK_INTENTS and intent_confidence >= SURE)


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= SIMILAR


def unsure_questions(sender_id: str, events: list[StoredEvent]) -> list[Unsure]:
    """Each patient message whose turn ended as clarify or out of scope (unless plainly off-topic), or
    answered with low confidence."""
    found: list[Unsure] = []
    question: StoredEvent | None = None
    for event in events:
        if event.type_name == "user":
            text = str(event.data.get("text") or "").strip()
            question = event if text and not text.startswith("/") else None
        elif event.type_name == "bot" and question is not None:
            payload = event.data.get("data")
            custom = payload.get("custom") if isinstance(payload, dict) else None
            meta = custom.get("meta") if isinstance(custom, dict) else None
            if not isinstance(meta, dict):
                continue  # not a reply's metadata, or a malformed record: never stops the screen
            kind = str(meta.get("kind") or "")
            confidence = meta.get("confidence")
            score = float(confidence) if isinstance(confidence, int | float) else None
            if plainly_off_topic(kind, str(meta.get("reason") or ""), *_intent(question)):
                question = None
                continue
            if kind in GAP_KINDS or (kind == "answer" and score is not None and score < LOW_CONFIDENCE):
                found.append(
                    Unsure(
                        sender_id,
                        str(question.data.get("text")).strip(),
                        event_time(question.timestamp),
                        "low_confidence" if kind == "answer" else kind,
                        score,
                    )
                )
            question = None
    return found


def rated_down(sender_id: str, events: list[StoredEvent], ratings: list[Feedback]) -> list[Unsure]:
    """The answers this patient rated thumbs down, as gap questions: the patient message each answer
    replied to (found by its message id), dated when the rating was given, with the answer's passages."""
    by_answer = {r.answer_id: r for r in ratings if r.sender_id == sender_id and r.value == "down"}
    found: list[Unsure] = []
    for event in events:
        message_id = event.data.get("message_id") if event.type_name == "user" else None
        rating = by_answer.pop(message_id, None) if isinstance(message_id, str) else None
        if rating is not None:
            found.append(_thumbs_down(rating, str(event.data.get("text") or "").strip()))
    # a question no longer stored (redacted away, odd record) still shows its thumbs down
    return found + [_thumbs_down(r, "") for r in by_answer.values()]


def _thumbs_down(rating: Feedback, question: str) -> Unsure:
    return Unsure(rating.sender_id, question, rating.created_at, THUMBS_DOWN, None, rating.passage_ids, rating.comment)


def group(questions: list[Unsure]) -> list[Gap]:
    """Greedy grouping, newest first: a question joins the first group sharing at least half its words."""
    gaps: list[Gap] = []
    for question in sorted(questions, key=lambda q: q.at, reverse=True):
        mine = words(question.text)
        gap = next((g for g in gaps if _similar(g.words, mine)), None)
        if gap is None:
            gap = Gap(mine)
            gaps.append(gap)
        gap.questions.append(question)
    gaps.sort(key=lambda g: (-len(g.questions), -g.last_at.timestamp()))
    return gaps


def find_gaps(
    db: Session,
    tracker_url: str,
    since: datetime | None,
    until: datetime | None,
    scan: int = 2000,
    feedback_url: str | None = None,
) -> list[Gap]:
    """Groups the unsure questions of the `scan` most recent conversations that had any, and (with the
    channels' database) the `scan` most recent answers rated thumbs down."""
    query = select(Conversation.sender_id).where(
        or_(Conversation.low_confidence.is_(True), Conversation.kinds.contains(",out_of_scope,"))
    )
    if since:
        query = query.where(Conversation.last_at >= since)
    if until:
        query = query.where(Conversation.started_at <= until)
    senders = list(db.scalars(query.order_by(Conversation.last_at.desc()).limit(scan)))
    down = thumbs_down(feedback_url, since, until, scan) if feedback_url else []
    rated = sorted({r.sender_id for r in down})
    questions = [
        q
        for sender_id, events in tracker_conversations(tracker_url, sorted(set(senders) | set(rated))).items()
        for q in [*unsure_questions(sender_id, events), *rated_down(sender_id, events, down)]
        if (since is None or q.at >= since) and (until is None or q.at <= until)
    ]
    return group(questions)


def thumbs_down(feedback_url: str, since: datetime | None, until: datetime | None, scan: int) -> list[Feedback]:
    """The newest `scan` thumbs down first given in the period (until included)."""
    end = until + timedelta(microseconds=1) if until is not None else None
    return read_feedback(tracker_engine(feedback_url), since, end, value="down", limit=scan)
