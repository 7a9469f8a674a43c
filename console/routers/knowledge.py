"""What staff need to improve the knowledge base: the knowledge gaps, and the curated passages a
bot reply was built from (reviewers, clinicians and admins)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from console.deps import DB, Reader, SettingsDep
from console.knowledge_gaps import find_gaps
from console.redaction import maybe
from console.schemas import GapExample, GapOut, PassageOut, Problem
from console.sync import sync
from knowledge.passages import Passage, load_passages

router = APIRouter(prefix="/api", tags=["knowledge"], responses={401: {"model": Problem}, 403: {"model": Problem}})


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
            question=maybe(gap.question, redact),
            count=len(gap.questions),
            kinds=gap.kinds,
            last_at=gap.last_at,
            examples=[
                GapExample(
                    sender_id=q.sender_id, text=maybe(q.text, redact), at=q.at, kind=q.kind, confidence=q.confidence
                )
                for q in gap.questions[:5]
            ],
        )
        for gap in find_gaps(db, settings.tracker_db_url, since, until)[:limit]
    ]


@lru_cache(maxsize=2)
def _passages(directory: Path, _mtime: float) -> dict[str, Passage]:
    return {p.id: p for p in load_passages(directory)}


@router.get("/passages/{passage_id}", response_model=PassageOut, responses={404: {"model": Problem}})
def passage(passage_id: str, staff: Reader, settings: SettingsDep) -> PassageOut:
    directory = settings.passages_dir
    found = _passages(directory, directory.stat().st_mtime if directory.exists() else 0.0).get(passage_id)
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
