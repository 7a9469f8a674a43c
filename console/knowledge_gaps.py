"""Knowledge gaps: the questions the assistant was unsure about (clarify, low confidence) or could
not answer (out of scope), grouped by the words they share, so staff can add passages or question
variants where patients actually struggle."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from console.models import Conversation
from console.sync import LOW_CONFIDENCE
from console.tracker_store import StoredEvent, event_time
from console.tracker_store import conversations as tracker_conversations

GAP_KINDS = ("clarify", "out_of_scope")
SIMILAR = 0.5
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


def words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS)


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= SIMILAR


def unsure_questions(sender_id: str, events: list[StoredEvent]) -> list[Unsure]:
    """Each patient message whose turn ended as clarify or out of scope, or answered with low confidence."""
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
    db: Session, tracker_url: str, since: datetime | None, until: datetime | None, scan: int = 2000
) -> list[Gap]:
    """Groups the unsure questions of the `scan` most recent conversations that had any."""
    query = select(Conversation.sender_id).where(
        or_(Conversation.low_confidence.is_(True), Conversation.kinds.contains(",out_of_scope,"))
    )
    if since:
        query = query.where(Conversation.last_at >= since)
    if until:
        query = query.where(Conversation.started_at <= until)
    senders = list(db.scalars(query.order_by(Conversation.last_at.desc()).limit(scan)))
    questions = [
        q
        for sender_id, events in tracker_conversations(tracker_url, senders).items()
        for q in unsure_questions(sender_id, events)
        if (since is None or q.at >= since) and (until is None or q.at <= until)
    ]
    return group(questions)
