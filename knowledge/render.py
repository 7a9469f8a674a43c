"""Turns a passage into the text a patient reads, filling in clinic settings where the
passage asks for them (the cost answer quotes the clinic's own price list when set)."""

from __future__ import annotations

from actions.safety.texts import disclaimer
from core.clinic import ClinicConfig
from knowledge.passages import Passage

DISCLAIMER = disclaimer()  # written once, in actions/safety/texts.yml


def answer_text(passage: Passage, clinic: ClinicConfig | None = None) -> str:
    if passage.answer_with_price_list and clinic is not None and clinic.price_list:
        return passage.answer_with_price_list.format(
            clinic_name=clinic.name, price_list=clinic.formatted_prices(), currency=clinic.currency
        )
    return passage.answer
