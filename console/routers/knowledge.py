"""What staff need to improve the knowledge base: the knowledge gaps, the curated passages a bot reply
was built from (reviewers, clinicians and admins), and the knowledge loop: reviewers propose a question
variant for a passage or flag one, admins approve or reject, approved variants go live in the assistant
without a restart and export as a patch to the YAML passages (console/knowledge_proposals.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import PlainTextResponse

from console import audit
from console import knowledge_proposals as proposals
from console.deps import DB, Admin, Reader, Reviewer, SettingsDep, client_ip
from console.knowledge_gaps import find_gaps, shorten
from console.knowledge_patch import PatchError, build_patch
from console.redaction import maybe
from console.routers.users import UNPROCESSABLE
from console.schemas import (
    DecisionIn,
    FlagIn,
    GapExample,
    GapOut,
    PassageOut,
    PassageSummaryOut,
    Problem,
    ProposalKind,
    ProposalOut,
    ProposalStatus,
    VariantProposalIn,
)
from console.sync import sync
from core.settings import Settings

router = APIRouter(prefix="/api", tags=["knowledge"], responses={401: {"model": Problem}, 403: {"model": Problem}})
ProposalId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class DiffResponse(PlainTextResponse):
    media_type = "text/x-diff"


@router.get("/gaps", response_model=list[GapOut])
def gaps(
    staff: Reader,
    db: DB,
    settings: SettingsDep,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[GapOut]:
    sync(db, settings.tracker_db_url)
    redact = settings.console_redact
    return [
        GapOut(
            question=shorten(maybe(gap.question, redact)),
            count=len(gap.questions),
            kinds=gap.kinds,
            last_at=gap.last_at,
            examples=[
                GapExample(
                    sender_id=q.sender_id,
                    text=shorten(maybe(q.text, redact)),
                    at=q.at,
                    kind=q.kind,
                    confidence=q.confidence,
                    passage_ids=list(q.passage_ids),
                    comment=shorten(maybe(q.comment, redact)) if q.comment else None,
                )
                for q in gap.questions[:5]
            ],
        )
        for gap in find_gaps(
            db, settings.tracker_db_url, since, until, feedback_url=settings.channel_db_url or settings.tracker_db_url
        )[:limit]
    ]


def _refused(exc: proposals.Refused) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.get("/passages", response_model=list[PassageSummaryOut], responses=UNPROCESSABLE)
def list_passages(
    staff: Reader,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=200, description="words of the title (or topic, or id), any order")] = "",
) -> list[PassageSummaryOut]:
    try:
        found = proposals.search_passages(settings.passages_dir, q)
    except proposals.Refused as exc:
        raise _refused(exc) from None
    return [PassageSummaryOut(id=p.id, topic=p.topic, title=p.title, questions=len(p.questions)) for p in found]


@router.get("/passages/{passage_id}", response_model=PassageOut, responses={404: {"model": Problem}, **UNPROCESSABLE})
def passage(passage_id: str, staff: Reader, settings: SettingsDep) -> PassageOut:
    try:
        found = proposals.passages(settings.passages_dir).get(passage_id)
    except proposals.Refused as exc:
        raise _refused(exc) from None
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such passage")
    return PassageOut(
        id=found.id,
        topic=found.topic,
        title=found.title,
        answer=found.answer,
        questions=list(found.questions),
        sources=list(found.sources),
        reviewed_by=found.reviewed.by,
        reviewed_on=found.reviewed.on,
    )


# ------------------------------------------------------------------------------------ the knowledge loop


def _out(settings: Settings, rows: list[proposals.KnowledgeProposal]) -> list[ProposalOut]:
    known = proposals.passages(settings.passages_dir)
    live = proposals.live_ids(settings.knowledge_overlay_file) if any(r.status == "approved" for r in rows) else set()
    out = []
    for row in rows:
        approved_variant = row.kind == "variant" and row.status == "approved"
        found = known.get(row.passage_id)
        out.append(
            ProposalOut.model_validate(row).model_copy(
                update={
                    "passage_title": found.title if found else None,
                    "live": approved_variant and row.id in live,
                    "in_yaml": approved_variant and proposals.in_yaml(settings.passages_dir, row),
                }
            )
        )
    return out


@router.post(
    "/knowledge/proposals",
    response_model=ProposalOut,
    status_code=201,
    responses=UNPROCESSABLE,
    summary="Propose a new question variant for a passage (reviewers)",
)
def propose(body: VariantProposalIn, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> ProposalOut:
    try:
        row = proposals.propose_variant(
            db, settings.passages_dir, staff.username, body.passage_id, body.text, body.origin, body.sender_id
        )
        (out,) = _out(settings, [row])
    except proposals.Refused as exc:
        raise _refused(exc) from None
    audit.record(
        db, "knowledge_propose", staff.username, row.passage_id, client_ip(request), proposal=row.id, origin=row.origin
    )
    return out


@router.post(
    "/knowledge/flags",
    response_model=ProposalOut,
    status_code=201,
    responses=UNPROCESSABLE,
    summary="Flag a passage as needing work, with a note (reviewers)",
)
def flag(body: FlagIn, staff: Reviewer, request: Request, db: DB, settings: SettingsDep) -> ProposalOut:
    try:
        row = proposals.flag_passage(
            db, settings.passages_dir, staff.username, body.passage_id, body.note, body.origin, body.sender_id
        )
        (out,) = _out(settings, [row])
    except proposals.Refused as exc:
        raise _refused(exc) from None
    audit.record(
        db, "knowledge_flag", staff.username, row.passage_id, client_ip(request), proposal=row.id, origin=row.origin
    )
    return out


@router.get("/knowledge/proposals", response_model=list[ProposalOut], responses=UNPROCESSABLE)
def list_proposals(
    staff: Reviewer,
    db: DB,
    settings: SettingsDep,
    proposal_status: Annotated[ProposalStatus | None, Query(alias="status")] = None,
    kind: ProposalKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[ProposalOut]:
    try:
        return _out(settings, proposals.listing(db, proposal_status, kind, limit))
    except proposals.Refused as exc:
        raise _refused(exc) from None


def _decide(
    proposal_id: int, approve: bool, body: DecisionIn | None, staff: Admin, request: Request, db: DB, settings: Settings
) -> ProposalOut:
    try:
        decision = proposals.decide(
            db,
            settings.passages_dir,
            settings.knowledge_overlay_file,
            proposal_id,
            staff.username,
            approve,
            body.note if body else "",
        )
        (out,) = _out(settings, [decision.proposal])
    except proposals.Refused as exc:
        raise _refused(exc) from None
    row = decision.proposal
    detail: dict[str, object] = {"proposal": row.id, "kind": row.kind}
    if decision.overlay_version is not None:
        detail["overlay_version"] = decision.overlay_version
    action = "knowledge_approve" if approve else "knowledge_reject"
    audit.record(db, action, staff.username, row.passage_id, client_ip(request), **detail)
    return out


DECISION_RESPONSES = {404: {"model": Problem}, 409: {"model": Problem}, **UNPROCESSABLE}


@router.post(
    "/knowledge/proposals/{proposal_id}/approve",
    response_model=ProposalOut,
    responses=DECISION_RESPONSES,
    summary="Approve a proposal (admins): an approved variant is live in the assistant within seconds",
)
def approve(
    proposal_id: ProposalId,
    staff: Admin,
    request: Request,
    db: DB,
    settings: SettingsDep,
    body: DecisionIn | None = None,
) -> ProposalOut:
    return _decide(proposal_id, True, body, staff, request, db, settings)


@router.post(
    "/knowledge/proposals/{proposal_id}/reject",
    response_model=ProposalOut,
    responses=DECISION_RESPONSES,
    summary="Reject a proposal (admins)",
)
def reject(
    proposal_id: ProposalId,
    staff: Admin,
    request: Request,
    db: DB,
    settings: SettingsDep,
    body: DecisionIn | None = None,
) -> ProposalOut:
    return _decide(proposal_id, False, body, staff, request, db, settings)


@router.get(
    "/knowledge/patch",
    response_class=DiffResponse,
    responses={
        200: {"content": {"text/x-diff": {"schema": {"type": "string"}}}, "description": "a unified diff"},
        **UNPROCESSABLE,
    },
    summary="The approved question variants the YAML passages still lack, as a patch (admins)",
)
def patch(staff: Admin, request: Request, db: DB, settings: SettingsDep) -> DiffResponse:
    approved: dict[str, list[str]] = {}
    for row in proposals.approved_variants(db):
        approved.setdefault(row.passage_id, []).append(row.text)
    try:
        result = build_patch(settings.passages_dir, approved)
    except PatchError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from None
    audit.record(
        db,
        "knowledge_patch",
        staff.username,
        None,
        client_ip(request),
        variants=result.variants,
        passages=len(result.passages),
        left_out=len(result.left_out),
    )
    name = f"knowledge-variants-{datetime.now(UTC):%Y%m%d-%H%M%S}.patch"
    return DiffResponse(result.text, headers={"Content-Disposition": f'attachment; filename="{name}"'})
