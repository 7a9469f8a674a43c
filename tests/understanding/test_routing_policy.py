"""What the learned route classifier may change and what it may not: it corrects the NLU's
route where it is sure, it never hands a message off on its own, and the NLU alone never hands
off a question the classifier reads as general."""

from __future__ import annotations

from actions.routing import POLICY, Route, with_classifier
from understanding.router import RouteGuess


def guess(route: str, p: float, **others: float) -> RouteGuess:
    probs = {route: p, **others}
    return RouteGuess(route, p, probs)


def test_no_classifier_keeps_the_nlu_route() -> None:
    assert with_classifier(Route.SMALLTALK, None, "is it good", other_script=False) is Route.SMALLTALK


def test_a_sure_classifier_corrects_small_talk_to_a_question() -> None:
    assert with_classifier(Route.SMALLTALK, guess("answer", 0.9), "is it good", False) is Route.ANSWER


def test_an_unsure_classifier_leaves_the_nlu_route() -> None:
    p = POLICY.router_override_min - 0.01
    assert with_classifier(Route.SMALLTALK, guess("answer", p), "is it good", False) is Route.SMALLTALK


def test_the_nlu_alone_does_not_hand_off_a_question_the_classifier_reads_as_general() -> None:
    general = guess("answer", 0.95, medical=0.03, emergency=0.01)
    assert with_classifier(Route.MEDICAL, general, "can it scar?", False) is Route.ANSWER


def test_a_handoff_both_agree_on_is_kept() -> None:
    personal = guess("medical", 0.6, answer=0.4)
    assert with_classifier(Route.MEDICAL, personal, "can I have it on warfarin?", False) is Route.MEDICAL


def test_the_classifier_never_hands_off_an_english_message_on_its_own() -> None:
    assert with_classifier(Route.ANSWER, guess("medical", 0.99), "question", False) is Route.ANSWER
    assert with_classifier(Route.ANSWER, guess("emergency", 0.99), "question", False) is Route.ANSWER


def test_the_nlu_emergency_is_never_overridden() -> None:
    assert with_classifier(Route.EMERGENCY, guess("answer", 0.99), "x", False) is Route.EMERGENCY


def test_a_button_payload_is_what_the_patient_chose() -> None:
    assert (
        with_classifier(Route.ANSWER, guess("smalltalk", 0.99), '/choose_topic{"topic":"pain"}', False) is Route.ANSWER
    )


def test_devanagari_takes_the_classifier_route_at_a_lower_confidence() -> None:
    p = POLICY.router_other_script_min + 0.01
    assert with_classifier(Route.ANSWER, guess("booking", p), "अपॉइंटमेंट चाहिए", True) is Route.BOOKING
    assert with_classifier(Route.ANSWER, guess("medical", p), "मुझे शुगर है, क्या मैं करवा सकती हूँ?", True) is Route.MEDICAL
