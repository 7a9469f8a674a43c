"""A patient who writes in Devanagari is answered in Hindi: the general answer from the passage's
Hindi version with the Hindi disclaimer, and the urgent-care, handoff and out-of-scope replies in
Hindi too. Driven with a stub route classifier (the learned one is measured in
scripts/bench_understanding.py), the real passages and their translations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from actions.respond import Turn, respond
from actions.safety import texts as safety_texts
from actions.services import Services
from core.alerts import StaffAlerts
from core.clinic import load_clinic
from core.settings import Settings
from knowledge.passages import Passage, load_passages
from knowledge.results import Result
from knowledge.taxonomy import load_topics
from knowledge.translations import load_translations
from understanding.router import RouteGuess


@dataclass
class StubRouter:
    route: str = "answer"
    topic: str = "pain"
    probability: float = 0.9

    def guess(self, text: str) -> RouteGuess:
        return RouteGuess(self.route, 0.9, {self.route: 0.9}, ((self.topic, self.probability), ("downtime", 0.05)))


class _Index:
    def __init__(self, passages: list[Passage]) -> None:
        self.passages = {p.id: p for p in passages}


class NoRetriever:
    """Devanagari questions do not go through the English retriever."""

    def __init__(self, passages: list[Passage]) -> None:
        self.index = _Index(passages)

    def search(self, text: str, k: int = 8) -> Result:
        return Result(query=text, decision="out_of_scope", confidence=0.0, hits=(), candidates=())


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    settings = Settings(alerts_file=tmp_path / "alerts.jsonl")
    passages = load_passages(settings.passages_dir)
    topics = load_topics(settings.topics_file)
    return Services(
        settings=settings,
        clinic=load_clinic(settings.clinic_file),
        retriever=NoRetriever(passages),  # type: ignore[arg-type]
        alerts=StaffAlerts(settings.alerts_file, None),
        topic_titles={t.id: t.title for t in topics.values()},
        router=StubRouter(),
        hindi=load_translations(passages, topics, "hi"),
    )


def say(services: Services, text: str, route: str = "answer", intent: str = "nlu_fallback"):
    turn = Turn(sender_id="web-hindi-test", text=text, intent=intent, intent_confidence=0.5, slots={"consent": True})
    return respond(turn, route, services)


def devanagari_share(text: str) -> float:
    letters = [c for c in text if c.isalpha() or "\u0900" <= c <= "\u097f"]
    return sum("\u0900" <= c <= "\u097f" for c in letters) / max(1, len(letters))


def test_a_general_question_in_devanagari_gets_the_hindi_answer_with_the_hindi_disclaimer(services: Services):
    reply = say(services, "क्या मेसोथेरेपी में दर्द होता है?")
    assert reply.meta.kind == "answer" and reply.meta.topics == ("pain",)
    text = reply.messages[0]["text"]
    assert services.hindi is not None
    hindi = services.hindi.get(reply.meta.passage_ids[0])
    assert hindi is not None and hindi.answer in text
    assert safety_texts.disclaimer("hi") in text and reply.meta.disclaimer
    assert devanagari_share(text) > 0.6


def test_the_same_question_in_hinglish_is_answered_in_english(services: Services):
    services.retriever = _AnswerRetriever(services)  # type: ignore[assignment]
    reply = say(services, "meso me dard hota hai kya?")
    assert reply.meta.kind == "answer"
    assert devanagari_share(reply.messages[0]["text"]) == 0.0


def test_an_unsure_topic_offers_hindi_choices(services: Services):
    services.router = StubRouter(probability=0.2)
    reply = say(services, "इसके बारे में बताइए")
    assert reply.meta.kind == "clarify"
    titles = [b["title"] for m in reply.messages for b in m.get("buttons") or []]
    assert services.hindi is not None and services.hindi.topic_title("pain") in titles


def test_out_of_scope_in_devanagari_is_refused_in_hindi(services: Services):
    services.router = StubRouter(route="out_of_scope")
    reply = say(services, "आज क्रिकेट का स्कोर क्या है?")
    assert reply.meta.kind == "out_of_scope"
    assert devanagari_share(reply.messages[0]["text"]) > 0.5


@pytest.mark.parametrize(
    ("route", "text"),
    [("booking", "मेरे पति के लिए अपॉइंटमेंट बुक करना है"), ("clinic_info", "क्लिनिक का फ़ोन नंबर क्या है?")],
)
def test_a_booking_or_clinic_question_in_devanagari_gets_that_reply_in_hindi(services: Services, route, text):
    services.router = StubRouter(route=route)
    reply = say(services, text, intent="affirm")
    assert reply.meta.kind == route
    # The clinic's own facts (hours, address) stay as the clinic wrote them; the rest is Hindi.
    assert devanagari_share(reply.messages[0]["text"]) > (0.5 if route == "booking" else 0.2)


def test_warning_signs_in_devanagari_get_urgent_care_in_hindi_with_the_number(services: Services):
    reply = say(services, "इंजेक्शन के बाद साँस लेने में बहुत तकलीफ़ हो रही है और होंठ सूज गए हैं")
    assert reply.meta.kind == "emergency"
    text = reply.messages[0]["text"]
    assert services.clinic.emergency_number in text
    assert devanagari_share(text) > 0.5


class _AnswerRetriever(NoRetriever):
    def __init__(self, services: Services) -> None:
        super().__init__(list(services.passages.values()))

    def search(self, text: str, k: int = 8) -> Result:
        from knowledge.results import Hit

        hit = Hit("pain-01", "pain", "Does it hurt", score=0.9, dense=0.9, lexical=0.5)
        return Result(query=text, decision="answer", confidence=0.9, hits=(hit,), candidates=("pain",))
