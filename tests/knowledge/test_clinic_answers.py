"""Clinic facts come from clinic.yml: the cost answer quotes the configured price list
when there is one and the ranges reported in the sources otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.clinic import ClinicConfig, load_clinic
from core.settings import PROJECT_ROOT, Settings
from knowledge.passages import load_passages
from knowledge.render import answer_text

PASSAGES = {p.id: p for p in load_passages(Settings().passages_dir)}


def test_example_clinic_is_clearly_fake() -> None:
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    assert clinic.is_example
    assert "example" in str(clinic.booking_url.host) and "example" in str(clinic.privacy_url.host)


def test_cost_answer_uses_configured_prices() -> None:
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    text = answer_text(PASSAGES["cost-01"], clinic)
    assert clinic.name in text
    assert "INR 6,500 per session" in text
    assert "15,000" not in text  # the reported ranges give way to the clinic's own list


def test_cost_answer_without_price_list_gives_reported_ranges() -> None:
    data = yaml.safe_load((PROJECT_ROOT / "clinic.yml").read_text())
    data["price_list"] = []
    text = answer_text(PASSAGES["cost-01"], ClinicConfig.model_validate(data))
    assert "3,000" in text and "40,000" in text


def test_no_passage_holds_clinic_specific_facts() -> None:
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    for passage in PASSAGES.values():
        for fact in (clinic.name, clinic.phone, str(clinic.booking_url), "clinic.example"):
            assert fact not in passage.answer, passage.id


def test_production_refuses_the_example_clinic(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="example clinic"):
        Settings(env="production")


def test_clinic_file_missing_a_field_is_rejected(tmp_path: Path) -> None:
    data = yaml.safe_load((PROJECT_ROOT / "clinic.yml").read_text())
    del data["emergency_number"]
    with pytest.raises(ValidationError):
        ClinicConfig.model_validate(data)
