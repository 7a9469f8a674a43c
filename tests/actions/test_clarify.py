"""When retrieval is unsure: the first miss asks which topic is meant (buttons), the second miss in
a row offers a person, and accepting hands the conversation to the clinic. Driven with a stub
retriever that is always unsure, so the path runs every time (the real retriever decides for
itself which questions are unsure, and may answer them all)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from actions.respond import Reply, Turn, respond
from actions.services import Services
from core.alerts import StaffAlerts
from core.clinic import load_clinic
from core.settings import Settings
from knowledge.results import Hit, Result

TOPICS = {"pain": "Does it hurt", "downtime": "Downtime and getting back to normal life"}


class UnsureRetriever:
    """Answers every search with "unsure" between two topics, and records the queries."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def search(self, text: str, k: int = 8) -> Result:
        self.queries.append(text)
        hits = (
            Hit("pain-01", "pain", TOPICS["pain"], score=0.41, dense=0.52, lexical=0.2),
            Hit("downtime-01", "downtime", TOPICS["downtime"], score=0.39, dense=0.5, lexical=0.18),
        )
        return Result(query=text, decision="unsure", confidence=0.35, hits=hits, candidates=("pain", "downtime"))


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    settings = Settings(alerts_file=tmp_path / "alerts.jsonl")
    return Services(
        settings=settings,
        clinic=load_clinic(settings.clinic_file),
        retriever=UnsureRetriever(),  # type: ignore[arg-type]  # only .search() is used on this path
        alerts=StaffAlerts(settings.alerts_file, None),
        topic_titles=dict(TOPICS),
    )


def say(services: Services, text: str, slots: dict[str, Any], route: str = "answer", intent: str = "nlu_fallback"):
    turn = Turn(sender_id="web-clarify-test", text=text, intent=intent, intent_confidence=0.9, slots=slots)
    reply = respond(turn, route, services)
    return reply, {**slots, **reply.slots}


def buttons(reply: Reply) -> list[dict[str, str]]:
    return [b for m in reply.messages for b in m.get("buttons") or []]


def test_first_miss_asks_which_topic_with_buttons(services: Services) -> None:
    reply, slots = say(services, "what about the needles", {"consent": True})
    assert reply.meta.kind == "clarify" and reply.meta.reason == "retrieval:unsure"
    assert reply.meta.disclaimer
    assert [b["title"] for b in buttons(reply)] == [TOPICS["pain"], TOPICS["downtime"], "Talk to a person"]
    assert buttons(reply)[0]["payload"] == '/choose_topic{"topic":"pain"}'
    assert slots["clarify_misses"] == 1.0 and slots["pending_offer"] is None


def test_second_miss_in_a_row_offers_a_person_and_yes_hands_off(services: Services) -> None:
    _, slots = say(services, "what about the needles", {"consent": True})
    reply, slots = say(services, "how much time", slots)
    assert reply.meta.kind == "clarify" and reply.meta.reason == "clarify:offer_person"
    assert "member of our clinical team" in reply.messages[0]["text"]
    assert [b["payload"] for b in buttons(reply)] == ["/affirm", "/deny"]
    assert slots["pending_offer"] == "human" and slots["clarify_misses"] == 0.0
    assert not services.settings.alerts_file.exists()  # nobody is called before the patient agrees

    reply, slots = say(services, "yes please", slots, route="yes_no", intent="affirm")
    assert reply.meta.kind == "handoff" and reply.meta.handoff and slots["handoff"] is True
    alerts = [json.loads(line) for line in services.settings.alerts_file.read_text().splitlines()]
    assert [(a["kind"], a["reason"]) for a in alerts] == [("handoff", "handoff:offer_accepted")]
    assert "how much time" not in services.settings.alerts_file.read_text()  # no patient text in the file


def test_declining_the_offer_keeps_the_bot_answering(services: Services) -> None:
    _, slots = say(services, "what about the needles", {"consent": True})
    _, slots = say(services, "how much time", slots)
    reply, slots = say(services, "no thanks", slots, route="yes_no", intent="deny")
    assert reply.meta.kind == "smalltalk" and reply.meta.reason == "declined_person"
    assert slots["pending_offer"] is None and not slots.get("handoff")
    assert not services.settings.alerts_file.exists()
