"""The knowledge loop: from a knowledge gap or a patient's thumbs-down, a reviewer proposes a new
question variant for an existing passage, or flags a passage with a note; an admin approves or
rejects it. Every step is audited (`knowledge_propose`, `knowledge_flag`, `knowledge_approve`,
`knowledge_reject`).

An approved variant goes live without a restart: the console rewrites the knowledge overlay file
(`knowledge/overlay.py`, `MESO_KNOWLEDGE_OVERLAY_FILE`) with every approved variant and a new version,
and the action server adds them to its index within a few seconds. `GET /api/knowledge/patch` turns
the approved variants the YAML still lacks into a patch (console/knowledge_patch.py); once it is applied
and the index rebuilt, the overlay's copies are redundant (the action server skips them).

A proposal keeps where it came from (a gap or a thumbs-down) and the conversation's patient reference
(`P-3F9K2A`), never the sender id: erasing the conversation leaves nothing here that leads to the patient.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from console.models import Base, UTCDateTime
from console.redaction import redact
from core.patient_ref import patient_reference
from core.text_clean import clean_text
from knowledge import overlay
from knowledge.passages import Passage, PassageError, load_passages, passage_files
from knowledge.text import normalize

log = logging.getLogger(__name__)

KINDS = ("variant", "flag")
ORIGINS = ("gap", "thumbs_down")
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
MIN_VARIANT, MAX_VARIANT = 3, overlay.MAX_VARIANT_CHARS
MIN_NOTE, MAX_NOTE = 3, 1000


class KnowledgeProposal(Base):
    """A reviewer's proposal and the admin's decision (migration 0008)."""

    __tablename__ = "console_knowledge_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """"variant" (a new question for the passage) or "flag" (the passage needs work: see `note`)."""
    passage_id: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(String(300), default="")
    """The question variant, cleaned (empty for a flag)."""
    note: Mapped[str] = mapped_column(String(1000), default="")
    origin: Mapped[str] = mapped_column(String(16))
    """"gap" or "thumbs_down"."""
    origin_ref: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The patient reference of the conversation it came from (P-3F9K2A), never the sender id."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str] = mapped_column(String(1000), default="")


class Refused(ValueError):
    """A proposal or decision that cannot be accepted: `status` is the HTTP answer (404, 409, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------------------------ the passages


@lru_cache(maxsize=2)
def _load(directory: Path, _stamp: tuple[tuple[str, int, int], ...]) -> dict[str, Passage]:
    return {p.id: p for p in load_passages(directory)}


def passages(directory: Path) -> dict[str, Passage]:
    """The YAML passages as they are now (re-read when any file changed: a patch applied, an edit)."""
    files = passage_files(directory) if directory.is_dir() else []
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    try:
        return _load(directory, stamp)
    except PassageError as exc:
        raise Refused(422, f"the knowledge base cannot be read right now: {exc}") from None


def search_passages(directory: Path, query: str) -> list[Passage]:
    """Passages whose title, topic or id hold every word of `query` (any order, any case), by id."""
    wanted = normalize(clean_text(query)).split()
    found = []
    for p in passages(directory).values():
        haystack = normalize(f"{p.title} {p.topic.replace('_', ' ')} {p.id}")
        if all(w in haystack for w in wanted):
            found.append(p)
    return sorted(found, key=lambda p: p.id)


# ------------------------------------------------------------------------------------ checks


def one_line(text: str) -> str:
    """Cleaned text on one line: every run of white space (line breaks too) becomes one space."""
    return " ".join(clean_text(text).split())


def clean_variant(text: str) -> str:
    """The variant as it will be stored and searched; Refused(422) when it cannot be one."""
    variant = one_line(text)
    if not MIN_VARIANT <= len(variant) <= MAX_VARIANT:
        raise Refused(
            422, f"a question variant has {MIN_VARIANT} to {MAX_VARIANT} characters (this has {len(variant)})"
        )
    if "\ufffd" in variant:
        raise Refused(422, "the question holds characters that could not be read (shown as \ufffd): retype it")
    if not normalize(variant):
        raise Refused(422, "a question variant needs words in Latin letters or digits (the search reads those)")
    if redact(variant) != variant:
        raise Refused(422, "the question holds a phone number, email address, link or ID number: remove it")
    return variant


def clean_note(text: str) -> str:
    note = one_line(text)
    if not MIN_NOTE <= len(note) <= MAX_NOTE:
        raise Refused(422, f"a note has {MIN_NOTE} to {MAX_NOTE} characters (this has {len(note)})")
    return note


def _passage(directory: Path, passage_id: str) -> Passage:
    found = passages(directory).get(passage_id.strip())
    if found is None:
        raise Refused(422, f"there is no passage {passage_id.strip()[:64]!r}")
    return found


def _clash(db: Session, directory: Path, passage_id: str, variant: str, exclude: int | None = None) -> str | None:
    """Why `variant` cannot be added to `passage_id` (it is a question already), or None."""
    key = normalize(variant)
    for p in passages(directory).values():
        if any(normalize(q) == key for q in p.questions):
            return (
                f"{p.id} already has this question" if p.id != passage_id else "the passage already has this question"
            )
    others = db.scalars(
        select(KnowledgeProposal).where(
            KnowledgeProposal.kind == "variant", KnowledgeProposal.status.in_((PENDING, APPROVED))
        )
    )
    for other in others:
        if other.id != exclude and normalize(other.text) == key:
            return f"the same question was proposed already (#{other.id}, {other.status}, for {other.passage_id})"
    return None


# ------------------------------------------------------------------------------------ proposing


def _origin_ref(sender_id: str | None) -> str | None:
    return patient_reference(sender_id) if sender_id else None


def propose_variant(
    db: Session, directory: Path, author: str, passage_id: str, text: str, origin: str, sender_id: str | None
) -> KnowledgeProposal:
    passage = _passage(directory, passage_id)
    variant = clean_variant(text)
    clash = _clash(db, directory, passage.id, variant)
    if clash:
        raise Refused(422, f"not a new question variant: {clash}")
    return _add(db, "variant", passage.id, variant, "", origin, sender_id, author)


def flag_passage(
    db: Session, directory: Path, author: str, passage_id: str, note: str, origin: str, sender_id: str | None
) -> KnowledgeProposal:
    passage = _passage(directory, passage_id)
    return _add(db, "flag", passage.id, "", clean_note(note), origin, sender_id, author)


def _add(
    db: Session, kind: str, passage_id: str, text: str, note: str, origin: str, sender_id: str | None, author: str
) -> KnowledgeProposal:
    proposal = KnowledgeProposal(
        kind=kind,
        passage_id=passage_id,
        text=text,
        note=note,
        origin=origin,
        origin_ref=_origin_ref(sender_id),
        status=PENDING,
        proposed_by=author,
        proposed_at=datetime.now(UTC),
        decision_note="",
    )
    db.add(proposal)
    db.commit()
    return proposal


# ------------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class Decision:
    proposal: KnowledgeProposal
    overlay_version: int | None = None
    """The overlay version written for an approved variant (None: not written, see the log)."""


def decide(
    db: Session, directory: Path, overlay_file: Path, proposal_id: int, admin: str, approve: bool, note: str
) -> Decision:
    """Approves or rejects a pending proposal: one decision wins (a second gets 409)."""
    proposal = db.get(KnowledgeProposal, proposal_id)
    if proposal is None:
        raise Refused(404, "no such proposal")
    if proposal.status != PENDING:
        raise Refused(409, f"this proposal was {proposal.status} already by {proposal.decided_by}")
    note = one_line(note)[:MAX_NOTE]
    if approve and proposal.kind == "variant":
        if proposal.passage_id not in passages(directory):
            raise Refused(409, f"the passage {proposal.passage_id} is no longer in the knowledge base: reject it")
        clash = _clash(db, directory, proposal.passage_id, proposal.text, exclude=proposal.id)
        if clash:
            raise Refused(409, f"cannot approve: {clash}")
    result = db.execute(
        update(KnowledgeProposal)
        .where(KnowledgeProposal.id == proposal_id, KnowledgeProposal.status == PENDING)
        .values(
            status=APPROVED if approve else REJECTED,
            decided_by=admin,
            decided_at=datetime.now(UTC),
            decision_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    won = getattr(result, "rowcount", 0)
    db.commit()
    db.refresh(proposal)
    if not won:
        raise Refused(409, f"this proposal was {proposal.status} already by {proposal.decided_by}")
    version = publish(db, overlay_file) if approve and proposal.kind == "variant" else None
    return Decision(proposal, version)


def approved_variants(db: Session) -> list[KnowledgeProposal]:
    return list(
        db.scalars(
            select(KnowledgeProposal)
            .where(KnowledgeProposal.kind == "variant", KnowledgeProposal.status == APPROVED)
            .order_by(KnowledgeProposal.decided_at, KnowledgeProposal.id)
        )
    )


def publish(db: Session, overlay_file: Path) -> int | None:
    """Rewrites the overlay file with every approved variant and the next version; returns the version,
    or None when it could not be written (logged: the approval stands, the next one writes it again)."""
    try:
        previous = overlay.read(overlay_file).version
    except overlay.OverlayError:
        previous = 0
    variants = tuple(overlay.OverlayVariant(p.passage_id, p.text, p.id) for p in approved_variants(db))
    try:
        overlay.write(overlay_file, overlay.Overlay(previous + 1, variants))
    except OSError:
        log.exception(
            "could not write the knowledge overlay %s: the assistant does not know the approval yet", overlay_file
        )
        return None
    return previous + 1


def live_ids(overlay_file: Path) -> set[int]:
    """Ids of the approved proposals the overlay file holds (what the assistant answers with)."""
    try:
        return {v.proposal_id for v in overlay.read(overlay_file).variants if v.proposal_id is not None}
    except overlay.OverlayError:
        return set()


def in_yaml(directory: Path, proposal: KnowledgeProposal) -> bool:
    """An approved variant that is in its passage's YAML file now (the exported patch landed)."""
    found = passages(directory).get(proposal.passage_id)
    key = normalize(proposal.text)
    return bool(proposal.text) and found is not None and any(normalize(q) == key for q in found.questions)


def listing(db: Session, status: str | None, kind: str | None, limit: int) -> list[KnowledgeProposal]:
    """Pending first (oldest first: they waited longest), then decided ones, newest decision first."""
    query = select(KnowledgeProposal)
    if status:
        query = query.where(KnowledgeProposal.status == status)
    if kind:
        query = query.where(KnowledgeProposal.kind == kind)
    rows = list(db.scalars(query.order_by(KnowledgeProposal.id.desc()).limit(limit)))
    pending = sorted((r for r in rows if r.status == PENDING), key=lambda r: r.id)
    decided = sorted(
        (r for r in rows if r.status != PENDING),
        key=lambda r: (r.decided_at or r.proposed_at, r.id),
        reverse=True,
    )
    return pending + decided
