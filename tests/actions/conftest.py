"""Fixtures for the action server's pure core: `respond()` with stand-in services, so the safety
paths run without the embedding model, the index or a clinic's files."""

from __future__ import annotations

from typing import Any, cast

import pytest

from actions.services import Services
from core.clinic import load_clinic
from core.settings import Settings
from knowledge.results import Result


class RecordingAlerts:
    """Stands in for core.alerts.StaffAlerts: remembers (kind, sender, channel, text, reason)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    def send(self, *args: Any) -> None:
        self.sent.append(tuple(str(a) for a in args))


class NothingFound:
    """A retriever that finds nothing (the safety paths must never need it)."""

    def search(self, text: str, k: int = 10) -> Result:
        return Result(query=text, decision="out_of_scope", confidence=0.0)


@pytest.fixture
def stub_services() -> Services:
    settings = Settings()
    return Services(
        settings=settings,
        clinic=load_clinic(settings.clinic_file),
        retriever=cast(Any, NothingFound()),
        alerts=cast(Any, RecordingAlerts()),
        topic_titles={},
    )
