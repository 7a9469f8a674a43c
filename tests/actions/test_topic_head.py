"""A general question in Latin letters: the route classifier's topic head (learnt from patients'
wording) and retrieval (the passages' similarity) decide the topic together, and questions about
another treatment alone, or that the classifier reads as out of scope, are refused rather than
answered from the nearest passage. Stub retriever and classifier, the real passages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from actions.respond import Reply, Turn, respond
from actions.routing import POLICY
from actions.services import Services
from core.alerts import StaffAlerts
from core.clinic import load_clinic
from core.settings import Settings
from knowledge.passages import Passage, load_passages
from knowledge.results import Hit, Result
from knowledge.taxonomy import load_topics
from understanding.router import RouteGuess


@dataclass
class StubRouter:
    topic: str = "downtime"
    probability: float = 0.9
    out_of_scope: float = 0.02

    def guess(self, text: str) -> RouteGuess:
        route = "out_of_scope" if self.out_of_scope > 0.5 else "answer"
        probs = {"answer": 1.0 - self.out_of_scope, "out_of_scope": self.out_of_scope}
        return RouteGuess(route, max(probs.values()), probs, ((self.topic, self.probability), ("cost", 0.01)))


@dataclass
class StubRetriever:
    decision: str = "unsure"
    confidence: float = 0.3
    hits: tuple[Hit, ...] = field(
        default_factory=lambda: (
            Hit("procedure-01", "procedure", "", score=0.6, dense=0.6, lexical=0.2),
            Hit("downtime-01", "downtime", "", score=0.59, dense=0.59, lexical=0.2),
        )
    )

    index: object = None
    """Where Services finds the passages (the real ones)."""

    def search(self, text: str, k: int = 5) -> Result:
        candidates = tuple(dict.fromkeys(h.topic for h in self.hits)) if self.decision != "out_of_scope" else ()
        return Result(text, self.decision, self.confidence, hits=self.hits, candidates=candidates)  # type: ignore[arg-type]


@pytest.fixture()
def services(tmp_path: Path) -> Services:
    settings = Settings(alerts_file=tmp_path / "alerts.jsonl")
    passages = load_passages(settings.passages_dir)
    return Services(
        settings=settings,
        clinic=load_clinic(settings.clinic_file),
        retriever=StubRetriever(index=_Index({p.id: p for p in passages})),  # type: ignore[arg-type]
        alerts=StaffAlerts(settings.alerts_file, None),
        topic_titles={t.id: t.title for t in load_topics(settings.topics_file).values()},
        router=StubRouter(),
    )


@dataclass
class _Index:
    passages: dict[str, Passage]


def retrieval(services: Services, decision: str, confidence: float) -> None:
    services.retriever = replace(services.retriever, decision=decision, confidence=confidence)  # type: ignore[type-var]


def say(services: Services, text: str, intent: str = "ask_question", confidence: float = 0.95, **slots) -> Reply:
    turn = Turn("web-head", text, intent=intent, intent_confidence=confidence, slots={"consent": True, **slots})
    return respond(turn, "answer", services)


def test_a_sure_head_answers_what_retrieval_was_unsure_about(services: Services) -> None:
    reply = say(services, "can i go back to the office the day after")
    assert reply.meta.kind == "answer" and reply.meta.topics == ("downtime",)
    assert reply.meta.passage_ids == ("downtime-01",) and reply.meta.disclaimer


def test_a_sure_head_corrects_retrieval_topic(services: Services) -> None:
    retrieval(services, "answer", 0.5)
    reply = say(services, "can i go back to the office the day after")
    assert reply.meta.topics == ("downtime",)


def test_an_unsure_head_that_disagrees_leaves_the_choice_to_the_patient(services: Services) -> None:
    services.router = StubRouter(probability=POLICY.topic_head_min - 0.05)
    reply = say(services, "is it a lunch break thing")
    assert reply.meta.kind == "clarify"
    assert set(reply.meta.topics) == {"procedure", "downtime"}


@pytest.mark.parametrize("vague", ["face stuff", "which is better", "needles?", "mesotherapy??"])
def test_a_message_too_short_to_name_a_topic_gets_options_however_sure_the_head(services: Services, vague: str) -> None:
    reply = say(services, vague)
    assert reply.meta.kind == "clarify"
    assert set(reply.meta.topics) == {"procedure", "downtime"}


def test_an_unsure_head_that_agrees_with_retrieval_answers(services: Services) -> None:
    services.router = StubRouter(topic="procedure", probability=POLICY.topic_head_agrees_min)
    reply = say(services, "is it a lunch break thing")
    assert reply.meta.kind == "answer" and reply.meta.topics == ("procedure",)


def test_what_retrieval_calls_out_of_scope_stays_refused(services: Services) -> None:
    retrieval(services, "out_of_scope", 0.05)
    assert say(services, "who will win the match").meta.kind == "out_of_scope"


def test_what_the_classifier_reads_as_out_of_scope_is_refused(services: Services) -> None:
    services.router = StubRouter(out_of_scope=0.9)
    reply = say(services, "what is a good diet for the monsoon", intent="ask_question", confidence=1.0)
    assert reply.meta.kind == "out_of_scope"


@pytest.mark.parametrize(
    "text", ["how long does botox last?", "PRP for hair, does it actually work?", "lip filler kitne ka hota hai"]
)
def test_a_question_about_another_treatment_alone_is_refused(services: Services, text: str) -> None:
    assert say(services, text).meta.kind == "out_of_scope"


@pytest.mark.parametrize(
    "text", ["is meso better than botox?", "botox or mesotherapy for forehead lines", "can I do meso and PRP together"]
)
def test_comparing_or_combining_with_mesotherapy_is_still_answered(services: Services, text: str) -> None:
    assert say(services, text).meta.kind != "out_of_scope"


def test_a_follow_up_keeps_the_conversation_topic(services: Services) -> None:
    reply = say(services, "how many sessions for that?", last_topics=["pigmentation"], last_tags=["pigmentation"])
    assert reply.meta.reason != "router:topic"
