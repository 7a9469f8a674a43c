"""Export of the filtered conversation set as CSV or JSON lines (admins; audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from console import audit
from console.conversations_query import everything
from console.deps import DB, Admin, ListFilters, SettingsDep, client_ip
from console.export import ExportRequest, csv_chunks, jsonl_chunks
from console.schemas import Problem
from console.sync import sync

router = APIRouter(prefix="/api/export", tags=["export"], responses={401: {"model": Problem}, 403: {"model": Problem}})
MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@router.get(
    "",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA["csv"]: {}, MEDIA["jsonl"]: {}}, "description": "the export file"}},
)
def export(
    staff: Admin,
    request: Request,
    db: DB,
    settings: SettingsDep,
    filters: ListFilters,
    file_format: Annotated[Literal["csv", "jsonl"], Query(alias="format")] = "csv",
) -> StreamingResponse:
    sync(db, settings.tracker_db_url)
    chosen = everything(db, filters, settings.console_redact)
    used = {k: v for k, v in vars(filters).items() if v is not None}
    audit.record(
        db,
        "export",
        staff.username,
        None,
        client_ip(request),
        format=file_format,
        conversations=len(chosen),
        redacted=settings.console_redact,
        filters=used,
    )
    job = ExportRequest(chosen, settings.tracker_db_url, settings.console_redact)
    name = f"conversations-{datetime.now(UTC):%Y%m%d-%H%M%S}.{file_format}"
    return StreamingResponse(
        csv_chunks(job) if file_format == "csv" else jsonl_chunks(job),
        media_type=MEDIA[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
