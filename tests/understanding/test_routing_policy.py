"""What the learned route classifier may change and what it may not: it corrects the NLU's
route where it is sure, it never hands a message off on its own, and the NLU alone never hands
off a question the classifier reads as general."""

from __future__ import annotations

from actions.routing import (
    POLICY,
    Route,
    learned_route,
    out_of_scope_evidence,
    reconcile,
    topic_from_head,
    with_classifier,
)
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


def test_an_nlu_only_emergency_goes_to_a_clinician_when_the_classifier_reads_it_as_personal() -> None:
    # the safety gate found nothing (it runs first): the NLU's emergency is no urgent reply, and no
    # ordinary answer either when the classifier also reads it as personal ("itching since the
    # session, what do I apply?")
    p = POLICY.router_keeps_handoff_min
    assert with_classifier(Route.EMERGENCY, guess("medical", p), "x", False) is Route.MEDICAL
    assert with_classifier(Route.EMERGENCY, guess("emergency", p), "x", False) is Route.MEDICAL
    assert with_classifier(Route.EMERGENCY, guess("answer", 0.99), "x", False) is Route.ANSWER
    # with no classifier to read it otherwise, a clinician sees it
    assert with_classifier(Route.EMERGENCY, None, "x", False) is Route.MEDICAL


def test_a_button_payload_is_what_the_patient_chose() -> None:
    assert (
        with_classifier(Route.ANSWER, guess("smalltalk", 0.99), '/choose_topic{"topic":"pain"}', False) is Route.ANSWER
    )


def test_devanagari_takes_the_classifier_route_at_a_lower_confidence() -> None:
    p = POLICY.router_other_script_min + 0.01
    assert with_classifier(Route.ANSWER, guess("booking", p), "अपॉइंटमेंट चाहिए", True) is Route.BOOKING
    assert with_classifier(Route.ANSWER, guess("medical", p), "मुझे शुगर है, क्या मैं करवा सकती हूँ?", True) is Route.MEDICAL


def head(topic: str, p: float, route: str = "answer", out_of_scope: float = 0.0) -> RouteGuess:
    return RouteGuess(route, 0.9, {route: 0.9, "out_of_scope": out_of_scope}, ((topic, p), ("cost", 0.05)))


def test_a_sure_topic_head_overrules_retrieval_topic_or_doubt() -> None:
    sure = head("downtime", POLICY.topic_head_min)
    assert topic_from_head(sure, "answer", "procedure", 5) == "downtime"
    assert topic_from_head(sure, "unsure", "procedure", 5) == "downtime"


def test_the_head_agreeing_with_an_unsure_retrieval_makes_it_sure() -> None:
    agreeing = head("downtime", POLICY.topic_head_agrees_min)
    assert topic_from_head(agreeing, "unsure", "downtime", 5) == "downtime"
    assert topic_from_head(agreeing, "unsure", "procedure", 5) is None


def test_an_unsure_head_or_the_same_answer_changes_nothing() -> None:
    assert topic_from_head(head("downtime", POLICY.topic_head_min - 0.01), "answer", "procedure", 5) is None
    assert topic_from_head(head("downtime", 0.99), "answer", "downtime", 5) is None
    assert topic_from_head(None, "unsure", "downtime", 5) is None


def test_the_head_leaves_a_message_too_short_to_name_a_topic_to_the_patient() -> None:
    sure = head("downtime", 0.99)
    short = POLICY.topic_head_min_content_words - 1
    assert topic_from_head(sure, "unsure", "procedure", short) is None
    assert topic_from_head(sure, "unsure", "downtime", short) is None
    assert topic_from_head(sure, "unsure", "procedure", short + 1) == "downtime"


def test_the_head_never_answers_what_is_out_of_scope() -> None:
    assert topic_from_head(head("downtime", 0.99), "out_of_scope", None, 5) is None
    assert topic_from_head(head("downtime", 0.99), "empty", None, 5) is None
    doubtful = head("downtime", 0.99, out_of_scope=POLICY.topic_head_out_of_scope_max)
    assert topic_from_head(doubtful, "unsure", "procedure", 5) is None


def test_out_of_scope_evidence_from_the_nlu_or_the_classifier() -> None:
    assert out_of_scope_evidence("out_of_scope", 0.9, None) == 0.9
    assert out_of_scope_evidence("out_of_scope", POLICY.nlu_out_of_scope_min - 0.01, None) == 0.0
    classifier = guess("out_of_scope", POLICY.router_out_of_scope_min)
    assert out_of_scope_evidence("ask_question", 1.0, classifier) == POLICY.router_out_of_scope_min
    assert out_of_scope_evidence("ask_question", 1.0, guess("answer", 0.9, out_of_scope=0.1)) == 0.0


def test_a_sure_classifier_confirms_a_booking_the_word_list_does_not_know() -> None:
    text = "Please cancel my booking for the 14th, something came up at work."
    sure = learned_route(guess("booking", POLICY.router_confirms_min), other_script=False)
    assert reconcile(Route.BOOKING, text, has_topic=False, learned=sure) is Route.BOOKING
    assert (
        reconcile(Route.CLINIC_INFO, "which floor is the clinic on", False, learned="clinic_info") is Route.CLINIC_INFO
    )


def test_without_a_sure_classifier_the_words_still_decide() -> None:
    unsure = learned_route(guess("booking", POLICY.router_confirms_min - 0.01), other_script=False)
    assert unsure is None
    painkillers = "can I take painkillers before my appointment?"
    assert reconcile(Route.BOOKING, painkillers, has_topic=False, learned=unsure) is Route.ANSWER
    assert reconcile(Route.BOOKING, painkillers, has_topic=False, learned="answer") is Route.ANSWER
