"""What the actions need, loaded once per process: settings, clinic facts, the retriever and
the staff alert sink."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from actions.routing import RouteClassifier
from actions.safety.gate import LearnedDetector
from core.alerts import StaffAlerts
from core.business_hours import Clock, system_clock
from core.clinic import ClinicConfig, load_clinic
from core.settings import Settings, get_settings
from knowledge.passages import Passage
from knowledge.retriever import Retriever
from knowledge.taxonomy import load_topics
from knowledge.translations import TranslationError, Translations, load_translations

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    clinic: ClinicConfig
    retriever: Retriever
    alerts: StaffAlerts
    topic_titles: dict[str, str]
    learned: LearnedDetector | None = None
    """The learned warning-sign and personal-medical detector (adds recall to the rules), if built."""
    router: RouteClassifier | None = None
    """The learned route classifier (understanding/router.py), if built: it proposes, routing decides."""
    hindi: Translations | None = None
    """Hindi versions of the passages and topic titles, for patients who write in Devanagari."""
    clock: Clock = system_clock
    """The action server's one clock (an aware now): what handoffs promise depends on it. Tests pass
    a fixed time."""

    @property
    def passages(self) -> dict[str, Passage]:
        return self.retriever.index.passages

    def passages_of(self, topic: str) -> list[Passage]:
        return sorted((p for p in self.passages.values() if p.topic == topic), key=lambda p: p.id)

    @classmethod
    def load(
        cls, settings: Settings | None = None, retriever: Retriever | None = None, learned: bool = True
    ) -> Services:
        """`learned=False` leaves the rule-based safety detectors alone (tests of the rules' own behaviour)."""
        from actions.safety.learned import load_or_none
        from understanding.router import load_or_none as load_router

        settings = settings or get_settings()
        clinic = load_clinic(settings.clinic_file)
        if retriever is None:
            retriever = Retriever.open(settings)
            # approved question variants not yet in the passages, picked up without a restart
            retriever.follow_overlay(
                settings.knowledge_overlay_file, settings.calibration_file, settings.knowledge_overlay_check_seconds
            )
        topics = load_topics(settings.topics_file)
        try:
            hindi: Translations | None = load_translations(retriever.index.passages.values(), topics, "hi")
        except TranslationError:
            log.exception("Hindi translations unreadable: Devanagari questions get English answers")
            hindi = None
        return cls(
            settings=settings,
            clinic=clinic,
            retriever=retriever,
            alerts=StaffAlerts(settings.alerts_file, settings.staff_alert_url),
            topic_titles={t.id: t.title for t in topics.values()},
            learned=load_or_none() if learned else None,
            router=load_router() if learned else None,
            hindi=hindi,
        )


@lru_cache(maxsize=1)
def get_services() -> Services:
    return Services.load()
