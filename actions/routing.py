"""Routing decisions for the action server, separate from the order of checks in `respond.py`:
the routes, the thresholds (one policy object) and the word checks that confirm or correct what the
NLU asked for. A trained classifier alone must not turn "can I take painkillers before my
appointment?" into a booking, so each route the NLU picks is checked against the words.

Pure functions over strings; no Rasa, no retrieval.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from understanding.router import RouteGuess


class Route(str, Enum):
    """What the NLU asked for (through Rasa's rules: one action per route), and the two mixed
    routes `reconcile` may add when the words point elsewhere."""

    ANSWER = "answer"
    EMERGENCY = "emergency"
    MEDICAL = "medical"
    HUMAN = "human"
    SMALLTALK = "smalltalk"
    CLINIC_INFO = "clinic_info"
    BOOKING = "booking"
    OUT_OF_SCOPE = "out_of_scope"
    YES_NO = "yes_no"
    CLINIC_INFO_OR_ANSWER = "clinic_info_or_answer"
    """Clinic wording in a question the NLU took for the FAQ: retrieval decides."""
    BOOKING_OR_ANSWER = "booking_or_answer"


@dataclass(frozen=True)
class RoutingPolicy:
    """Every threshold the routing uses, in one place."""

    nlu_medical_min: float = 0.6
    """The NLU's personal_medical intent hands off on its own at or above this confidence."""
    nlu_out_of_scope_min: float = 0.7
    """The NLU's out_of_scope intent overrides retrieval at or above this confidence, or the route
    classifier's out-of-scope probability at or above `router_out_of_scope_min` ..."""
    router_out_of_scope_min: float = 0.45
    out_of_scope_override: float = 0.85
    """... unless retrieval is at least this sure."""
    answer_when_close_dense: float = 0.9
    answer_when_close_confidence: float = 0.5
    """Retrieval says "unsure" when the top two topics score nearly the same; if the best passage is
    still a near-paraphrase (dense similarity) and the confidence is fair, answering it serves the
    patient better than a clarifying question."""
    real_question_min_words: int = 3
    real_question_min_confidence: float = 0.5
    """A "yes" or a greeting that carries a real question ("hi, does it hurt?") is answered when it
    has at least this many words and retrieval is this sure."""
    router_override_min: float = 0.6
    """The learned route classifier overrides the NLU's route when it is at least this sure ..."""
    refuse_other_treatment: bool = True
    """A question about another treatment alone (followup.about_another_treatment) is refused."""
    router_confirms_min: float = 0.6
    """A booking, clinic-information or person route stands without the word checks when the
    classifier gives that route at least this probability (Devanagari: `router_other_script_min`)."""
    router_keeps_handoff_min: float = 0.4
    """... and the NLU's personal_medical guess is kept only when the classifier gives personal
    medical (or warning signs) at least this probability: the NLU alone never hands off a
    question that reads as general."""
    router_other_script_min: float = 0.35
    """For Devanagari, which the NLU was not trained on, the classifier's route is taken at this."""
    hindi_topic_min: float = 0.35
    """A Devanagari question is answered from the topic head's best topic at this probability ...
    """
    hindi_candidate_min: float = 0.1
    """... below it, the topics at least this likely are offered to choose from."""
    topic_head_min: float = 0.4
    """A question in Latin letters is answered from the topic the classifier's topic head names when
    the head gives it at least this probability, retrieval has not called the message out of scope and
    the classifier does not think it out of scope: the head learnt patients' wording from the corpus
    and ranks topics better than the passages' similarity does (docs/benchmarks.md, issue 13).
    Retrieval still picks the passage within the topic."""
    topic_head_agrees_min: float = 0.25
    """An unsure retrieval is answered when the topic head's first topic is retrieval's first topic
    and the head gives it at least this probability: two models reading the message differently
    (the passages' similarity, the patients' wording) agree."""
    topic_head_out_of_scope_max: float = 0.5
    topic_head_min_content_words: int = 3
    """The head never answers an unsure retrieval for a message with fewer content words than this
    (not counting function words or "mesotherapy"): "face stuff", "which is better" or "needles" say
    too little to choose a topic, and the clarifying question lets the patient say which is meant."""
    hold_notice_every: int = 5
    """While handed off, the full 'a person will reply' notice is repeated on the first and every
    fifth message; the others get a one-line reminder."""


POLICY = RoutingPolicy()

GENERAL_INFO_WITH_HANDOFF = frozenset({"pregnancy", "medicine", "condition", "treatment_choice"})
"""Handoff reasons where the general passage on the subject is shown beside the handoff notice ..."""
GENERAL_INFO_TOPICS = frozenset({"contraindications", "preparation", "candidates", "practitioner"})
"""... taken from one of these topics only."""

_BOT_CHALLENGE = re.compile(
    r"\b(are (you|u)|r u|am i (talking|chatting|speaking|writing)|is (this|that|it)|who am i (talking|chatting))\b"
    r"[^.?!]{0,30}\b(bot|chat ?bot|robot|machine|ai|automated|computer|real|human|person|insaan)\b",
    re.IGNORECASE,
)
_WANTS_PERSON = re.compile(
    r"\b(talk|speak|connect|transfer|call|put me through|want|need|get me)\b[^.?!]{0,25}\b(human|person|doctor|"
    r"clinician|nurse|someone|staff|agent)\b",
    re.IGNORECASE,
)
_PERSON_WORDS = re.compile(
    r"\b(human|person|people|doctor|dr|clinician|nurse|staff|someone|somebody|anyone|agent|receptionist|team|"
    r"call me|call back|callback|talk|speak|chat with|insaan|baat|real)\b",
    re.IGNORECASE,
)
_BOOKING = re.compile(
    r"\b(book|booking|reserve|schedule|reschedule|fix|cancel|postpone|prepone)\b[^.?!]{0,40}"
    r"\b(appointment|session|slot|consultation|visit|meso|treatment)"
    r"|\b(appointment|slot|booking)\b[^.?!]{0,20}\b(chahiye|available|free|kab|possible|please|link)\b"
    r"|^\W*(book|booking|appointment)\W*(please|now)?\W*$"
    r"|\b(can|could|may) i (come|visit|get an? (appointment|slot|consultation))\b"
    r"|\bbook (me|us|an?|my|in)\b"
    r"|\b(want|need|like|get|take)\b[^.?!]{0,20}\b(an? appointment|a consultation|a slot)\b",
    re.IGNORECASE,
)
_CLINIC_INFO = re.compile(
    r"\b(where (are|is) (you|u|your|the clinic)|located|address|directions?|parking|opening (hours|times?)|"
    r"(open|close|closed)\b[^.?!]{0,15}\b(today|tomorrow|sunday|saturday|weekend|now|on)|when (are|do) (you|u) "
    r"(open|close)|timings?|working hours|phone number|contact (number|details)|whatsapp number|email|"
    r"kahan hai|kitne baje)",
    re.IGNORECASE,
)
_CLINIC_FACTS = {
    "hours": re.compile(
        r"\b(open|opening|hours?|timings?|time|close[sd]?|closing|sunday|saturday|today|baje|khul\w*)\b", re.I
    ),
    "address": re.compile(
        r"\b(where|address|located|location|directions?|reach|map|kahan|kaha|parking|find you)\b", re.I
    ),
    "contact": re.compile(r"\b(phone|call|number|email|e-mail|contact|whatsapp|reach you)\b", re.I),
}


class RouteClassifier(Protocol):
    def guess(self, text: str) -> RouteGuess: ...


_CLASSIFIER_ROUTES = {
    "answer": Route.ANSWER,
    "human": Route.HUMAN,
    "booking": Route.BOOKING,
    "clinic_info": Route.CLINIC_INFO,
    "smalltalk": Route.SMALLTALK,
    "yes_no": Route.YES_NO,
    "out_of_scope": Route.OUT_OF_SCOPE,
}
"""Routes the classifier may choose on its own. Personal medical and warning signs are not here:
a handoff or an urgent reply comes from the safety gate's detectors (rules first) or from the NLU
and the classifier agreeing, never from the classifier alone."""


def with_classifier(route: Route, guess: RouteGuess | None, text: str, other_script: bool) -> Route:
    """The NLU's route, corrected by the learned classifier where the policy allows."""
    if guess is None or text.lstrip().startswith("/"):
        # the NLU alone called it an emergency and no classifier reads it otherwise: to a clinician
        return Route.MEDICAL if route is Route.EMERGENCY else route
    personal = guess.p("medical") + guess.p("emergency")
    if route is Route.MEDICAL:
        return (
            route if personal >= POLICY.router_keeps_handoff_min else _CLASSIFIER_ROUTES.get(guess.route, Route.ANSWER)
        )
    if route is Route.EMERGENCY:
        # The NLU alone called it an emergency (the safety gate, which runs first, found nothing):
        # not an urgent reply (the NLU is no source of those), but never an ordinary answer by
        # default either. A clinician sees it unless the classifier reads it as something else.
        return (
            Route.MEDICAL
            if personal >= POLICY.router_keeps_handoff_min
            else _CLASSIFIER_ROUTES.get(guess.route, Route.ANSWER)
        )
    minimum = POLICY.router_other_script_min if other_script else POLICY.router_override_min
    if guess.confidence >= minimum and guess.route in _CLASSIFIER_ROUTES:
        return _CLASSIFIER_ROUTES[guess.route]
    if other_script and guess.route in ("medical", "emergency") and guess.confidence >= minimum:
        return Route.MEDICAL
    return route


def topic_from_head(
    guess: RouteGuess | None, decision: str, retrieval_topic: str | None, content_words: int
) -> str | None:
    """The topic to answer from when the topic head overrules retrieval (a different topic, or an
    unsure retrieval made sure); None to keep what retrieval decided. Never for a message retrieval
    called out of scope or the classifier thinks is, nor to answer a message too short to say what
    it asks about (`content_words`: how many knowledge.text.content_words it has)."""
    if guess is None or not guess.topics or decision not in ("answer", "unsure"):
        return None
    if decision == "unsure" and content_words < POLICY.topic_head_min_content_words:
        return None
    if guess.p("out_of_scope") >= POLICY.topic_head_out_of_scope_max:
        return None
    topic, probability = guess.topics[0]
    if decision == "answer" and topic == retrieval_topic:
        return None
    agrees = topic == retrieval_topic and probability >= POLICY.topic_head_agrees_min
    return topic if probability >= POLICY.topic_head_min or agrees else None


def out_of_scope_evidence(nlu_intent: str | None, nlu_confidence: float, guess: RouteGuess | None) -> float:
    """How sure the NLU or the classifier is that a message is not about mesotherapy (0 when neither
    is sure enough to refuse it); retrieval overrides it only when very sure itself."""
    nlu = nlu_confidence if nlu_intent == "out_of_scope" and nlu_confidence >= POLICY.nlu_out_of_scope_min else 0.0
    learned = guess.p("out_of_scope") if guess is not None else 0.0
    return max(nlu, learned if learned >= POLICY.router_out_of_scope_min else 0.0)


def is_bot_challenge(text: str) -> bool:
    """ "Are you a bot?" (but not "I want to talk to a real person")."""
    return _BOT_CHALLENGE.search(text) is not None and _WANTS_PERSON.search(text) is None


def asks_for_person(text: str) -> bool:
    """Words that really ask for a person (or a button payload), confirming the NLU's request_human."""
    return _PERSON_WORDS.search(text) is not None or text.lstrip().startswith("/")


def learned_route(guess: RouteGuess | None, other_script: bool) -> str | None:
    """The classifier's route when it is sure enough to stand without the word checks (booking,
    clinic information, a person), else None."""
    if guess is None:
        return None
    minimum = POLICY.router_other_script_min if other_script else POLICY.router_confirms_min
    return guess.route if guess.confidence >= minimum else None


def reconcile(route: Route, text: str, has_topic: bool, learned: str | None = None) -> Route:
    """The NLU's route checked against the words, unless the classifier is sure of the same route
    (`learned`): the word lists are short, patients' ways of asking for a slot or the clinic's
    address are not ("cancel my booking for the 14th", "which floor is the clinic on")."""
    if route is Route.BOOKING and learned != "booking" and not _BOOKING.search(text):
        return Route.ANSWER
    if route is Route.CLINIC_INFO and learned != "clinic_info" and not _CLINIC_INFO.search(text):
        return Route.ANSWER
    if route is Route.ANSWER and not has_topic:
        if _CLINIC_INFO.search(text):
            return Route.CLINIC_INFO_OR_ANSWER
        if _BOOKING.search(text):
            return Route.BOOKING_OR_ANSWER
    return route


def clinic_facts_asked(text: str) -> frozenset[str]:
    """Which clinic facts a message asks for ("hours", "address", "contact"); all of them if unclear."""
    wants = frozenset(name for name, rx in _CLINIC_FACTS.items() if rx.search(text))
    return wants or frozenset(_CLINIC_FACTS)
