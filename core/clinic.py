"""The clinic configuration file (clinic.yml): every clinic-specific fact lives here,
never inside a knowledge passage.

The clinic's hours are structured (`timezone`, `weekly_hours`, `closed_dates`,
`reply_within_hours`): they decide what a handoff promises (`core/business_hours.py`), and the
`opening_hours` patients read are written from them unless the clinic writes its own wording."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, HttpUrl, PrivateAttr, field_validator, model_validator

from core.business_hours import WEEKDAYS, BusinessHours, describe_week, parse_day, zone


class PriceItem(BaseModel):
    treatment: str
    price: float = Field(gt=0)
    unit: str = "per session"


REPLACED = {
    "handoff_reply_time": (
        "`handoff_reply_time` was replaced by `reply_within_hours` (working hours) and the clinic's "
        "hours (`timezone`, `weekly_hours`, `closed_dates`): the promise now follows them"
    ),
}
"""Keys an older clinic.yml may still have, refused with what to write instead."""


class ClinicConfig(BaseModel):
    is_example: bool = False
    name: str
    currency: str = Field(min_length=1, max_length=8)
    price_list: list[PriceItem] = []
    timezone: str
    """IANA time zone of the clinic (Asia/Kolkata, Europe/London): every time below is local to it."""
    weekly_hours: dict[str, list[str]]
    """Each of monday ... sunday: "closed", or its openings like "10:00-19:00" (several for a break)."""
    closed_dates: list[date] = []
    """Local dates on which the clinic is closed all day (holidays)."""
    reply_within_hours: int = Field(ge=1, le=72)
    """What a handoff promises while the clinic is open: a reply within this many working hours."""
    opening_hours: list[str] = []
    """What patients read about the hours; written from `weekly_hours` when left out (recommended).
    When written out, it must name every opening and closing time of `weekly_hours`."""
    address: str
    phone: str
    booking_url: HttpUrl
    emergency_number: str
    privacy_url: HttpUrl

    _hours: BusinessHours | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _no_replaced_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, why in REPLACED.items():
                if key in data:
                    raise ValueError(why)
        return data

    @field_validator("emergency_number", "phone", "name", "address")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return zone(value).key

    @field_validator("weekly_hours", mode="before")
    @classmethod
    def _week(cls, value: Any) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            raise ValueError(f'one line per day, {", ".join(WEEKDAYS)}: "closed" or openings like "10:00-19:00"')
        days = {str(k).strip().lower(): v for k, v in value.items()}
        unknown = sorted(set(days) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {', '.join(map(repr, unknown))} (use {', '.join(WEEKDAYS)})")
        missing = [d for d in WEEKDAYS if d not in days]
        if missing:
            raise ValueError(f'every day needs a line: {", ".join(missing)} missing (write "closed" for a closed day)')
        week: dict[str, list[str]] = {}
        for day in WEEKDAYS:
            try:
                week[day] = [str(i) for i in parse_day(days[day])]
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from exc
        if not any(week.values()):
            raise ValueError("the clinic is never open: give at least one day its opening hours")
        return week

    @model_validator(mode="after")
    def _hours_fit(self) -> ClinicConfig:
        self._hours = BusinessHours.build(
            self.timezone,
            {day: parse_day(openings) for day, openings in self.weekly_hours.items()},
            self.closed_dates,
            self.reply_within_hours,
        )
        if not self.opening_hours:
            self.opening_hours = describe_week(self._hours.week)
        else:
            said = " ".join(self.opening_hours)
            times = sorted({t for openings in self.weekly_hours.values() for o in openings for t in o.split("-")})
            unsaid = [t for t in times if not re.search(rf"(?<![0-9]){re.escape(t)}(?![0-9])", said)]
            if unsaid:
                raise ValueError(
                    f"opening_hours does not name {', '.join(unsaid)} from weekly_hours: correct it, or leave "
                    "opening_hours out to have it written from weekly_hours"
                )
        return self

    @property
    def business_hours(self) -> BusinessHours:
        """The hours as `core.business_hours` computes with them: is_open, next_opening, reply_due, promise."""
        if self._hours is None:  # pragma: no cover - set by validation
            raise RuntimeError("ClinicConfig was not validated")
        return self._hours

    def formatted_prices(self) -> str:
        """The price list as one readable sentence fragment, e.g. "Face: INR 6,500 per session"."""
        return "; ".join(f"{item.treatment}: {self.currency} {item.price:,.0f} {item.unit}" for item in self.price_list)


def load_clinic(path: Path) -> ClinicConfig:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return ClinicConfig.model_validate(data)
