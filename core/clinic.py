"""The clinic configuration file (clinic.yml): every clinic-specific fact lives here,
never inside a knowledge passage."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, HttpUrl, field_validator


class PriceItem(BaseModel):
    treatment: str
    price: float = Field(gt=0)
    unit: str = "per session"


class ClinicConfig(BaseModel):
    is_example: bool = False
    name: str
    currency: str = Field(min_length=1, max_length=8)
    price_list: list[PriceItem] = []
    opening_hours: list[str]
    address: str
    phone: str
    booking_url: HttpUrl
    emergency_number: str
    privacy_url: HttpUrl
    handoff_reply_time: str = "within one working day"

    @field_validator("emergency_number", "phone", "name", "address")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    def formatted_prices(self) -> str:
        """The price list as one readable sentence fragment, e.g. "Face: INR 6,500 per session"."""
        return "; ".join(f"{item.treatment}: {self.currency} {item.price:,.0f} {item.unit}" for item in self.price_list)


def load_clinic(path: Path) -> ClinicConfig:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return ClinicConfig.model_validate(data)
