"""The dashboard (every staff role: figures only, no patient's words): conversations by outcome,
handoffs and the time to the first staff reply, emergencies, answered share, top topics, feedback per
passage and knowledge gaps over a period of days in the clinic's time zone, as JSON for the screen and
as CSV. The CSV leaves the console, so each download is audited (`export_figures`, with the period)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from console import audit
from console.dashboard import OUTCOMES, Dashboard, Period, PeriodError, figures
from console.deps import DB, Reader, SettingsDep, client_ip
from console.export import _cell as cell
from console.handoff_queue import business_hours
from console.schemas import DashboardOut, Problem
from console.sync import sync
from core.settings import Settings

router = APIRouter(prefix="/api", tags=["dashboard"], responses={401: {"model": Problem}, 403: {"model": Problem}})
CSV_MEDIA = "text/csv; charset=utf-8"
CSV_COLUMNS = ["figure", "day", "item", "value"]
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def clinic_zone(settings: Settings) -> tuple[tzinfo, str]:
    """The clinic's time zone (clinic.yml), or UTC when the file cannot be read."""
    hours = business_hours(settings.clinic_file)
    if hours is None:
        return UTC, "UTC"
    return hours.tz, str(getattr(hours.tz, "key", None) or hours.tz)


def _invalid(name: str, message: str, given: str | None) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error", "input": given}])


def _day(name: str, given: str | None) -> date | None:
    if given is None:
        return None
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise _invalid(name, "not a day of the calendar (YYYY-MM-DD)", given) from None


def chosen_period(
    settings: SettingsDep,
    first: Annotated[
        str | None,
        Query(alias="from", pattern=DAY, description="first day, YYYY-MM-DD (default: 29 days before `to`)"),
    ] = None,
    last: Annotated[
        str | None, Query(alias="to", pattern=DAY, description="last day, YYYY-MM-DD (default: today)")
    ] = None,
) -> Period:
    """The period asked for, in the clinic's time zone; a 422 like any invalid query when it cannot be."""
    tz, _ = clinic_zone(settings)
    given = {"from": first, "to": last}
    try:
        return Period.choose(_day("from", first), _day("to", last), tz, datetime.now(tz).date())
    except PeriodError as exc:
        raise _invalid(exc.field, str(exc), given[exc.field]) from None


ChosenPeriod = Annotated[Period, Depends(chosen_period)]


def _figures(db: DB, settings: Settings, period: Period) -> Dashboard:
    sync(db, settings.tracker_db_url)
    return figures(
        db,
        settings.tracker_db_url,
        settings.channel_db_url or settings.tracker_db_url,
        period,
        timezone=clinic_zone(settings)[1],
        topics_file=settings.topics_file,
        passages_dir=settings.passages_dir,
    )


@router.get("/dashboard", response_model=DashboardOut)
def dashboard(staff: Reader, db: DB, settings: SettingsDep, period: ChosenPeriod) -> DashboardOut:
    found = _figures(db, settings, period)
    return DashboardOut.model_validate(
        {
            "first_day": period.first,
            "last_day": period.last,
            "timezone": found.timezone,
            "conversations": found.conversations,
            "replies": found.replies,
            "emergencies": found.emergencies,
            "gaps": found.gaps,
            "days": found.days,
            "topics": found.topics,
            "passages": found.passages,
        },
        from_attributes=True,
    )


@router.get(
    "/dashboard.csv",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA: {}}, "description": "the same figures, one per row"}},
)
def dashboard_csv(staff: Reader, request: Request, db: DB, settings: SettingsDep, period: ChosenPeriod) -> Response:
    found = _figures(db, settings, period)
    audit.record(
        db,
        "export_figures",
        staff.username,
        None,
        client_ip(request),
        first_day=period.first.isoformat(),
        last_day=period.last.isoformat(),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([cell(v) for v in row] for row in rows(found))
    name = f"dashboard-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
    return Response(
        buffer.getvalue(),
        media_type=CSV_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def rows(found: Dashboard) -> Iterator[tuple[str, str, str, object]]:
    """Every figure as (figure, day, item, value): the period's totals (day empty), then each day's."""
    period = found.period
    yield ("period", "", "from", period.first.isoformat())
    yield ("period", "", "to", period.last.isoformat())
    yield ("period", "", "timezone", found.timezone)
    totals = [("", found.conversations, found.replies, found.emergencies, found.gaps)]
    daily = [(d.day.isoformat(), d.conversations, d.replies, d.emergencies, d.gaps) for d in found.days]
    for day, outcomes, replies, emergencies, gaps in totals + daily:
        for outcome in OUTCOMES:
            yield ("conversations", day, outcome, getattr(outcomes, outcome))
        yield ("conversations", day, "total", outcomes.total)
        yield ("answered_share", day, "", _share(outcomes.answered_share))
        yield ("handoffs", day, "", replies.handoffs)
        yield ("handoffs_replied", day, "", replies.replied)
        yield ("first_reply_p50_seconds", day, "", _whole(replies.p50_seconds))
        yield ("first_reply_p90_seconds", day, "", _whole(replies.p90_seconds))
        yield ("emergencies", day, "", emergencies)
        for kind in ("clarify", "out_of_scope", "low_confidence", "thumbs_down"):
            yield ("gaps", day, kind, getattr(gaps, kind))
    for topic in found.topics:
        yield ("topic_answers", "", topic.topic, topic.answers)
        yield ("topic_conversations", "", topic.topic, topic.conversations)
    for passage in found.passages:
        yield ("passage_thumbs_up", "", passage.passage_id, passage.up)
        yield ("passage_thumbs_down", "", passage.passage_id, passage.down)
        yield ("passage_notes", "", passage.passage_id, passage.comments)


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _whole(value: float | None) -> str:
    return "" if value is None else str(round(value))
