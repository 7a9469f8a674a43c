"""The console's health-data settings, read-only (admins): they come from the environment."""

from __future__ import annotations

from fastapi import APIRouter

from console.deps import Admin, SettingsDep
from console.schemas import ConsoleSettingsOut, Problem

router = APIRouter(
    prefix="/api/settings", tags=["settings"], responses={401: {"model": Problem}, 403: {"model": Problem}}
)


@router.get("", response_model=ConsoleSettingsOut)
def read_settings(staff: Admin, settings: SettingsDep) -> ConsoleSettingsOut:
    return ConsoleSettingsOut(
        redact=settings.console_redact,
        keep_raw_text=settings.console_keep_raw_text,
        redact_stored_after_hours=settings.redact_stored_after_hours,
        retention_days=settings.retention_days,
        retention_interval_minutes=settings.retention_interval_minutes,
        session_minutes=settings.console_session_minutes,
        secure_cookies=settings.secure_cookies,
        rasa_url=settings.rasa_url,
        staff_replies_enabled=bool(settings.rasa_token),
    )
