"""The safety gate fails closed: a detector that raises hands the message to a clinician with a
staff alert; a learned finding can only add an emergency, never remove a rule's; the NLU's guess is
no emergency source; the rule ids travel in the reply metadata."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from actions.respond import Turn, respond
from actions.safety import gate
from actions.safety.catalogue import load
from actions.safety.patterns import MAX_CHARS
from actions.safety.warning_signs import detect_warning_signs


@dataclass
class FakeLearned:
    em: float = 0.0
    pm: float = 0.0
    emergency_threshold: float = 0.5
    personal_threshold: float = 0.5
    raises: bool = False

    def emergency(self, text: str) -> float:
        if self.raises:
            raise RuntimeError("model file corrupt")
        return self.em

    def personal(self, text: str) -> float:
        return self.pm


def _boom(text: str) -> Any:
    raise RuntimeError("a bug in a detector")


def test_a_rule_finding_is_an_emergency_with_its_rule_id() -> None:
    a = gate.assess("my throat is closing up")
    assert a.emergency and a.emergency_sources == ("rules",)
    assert a.rules == ("warning_sign:throat_swelling",)


def test_the_learned_detector_adds_an_emergency_the_rules_missed() -> None:
    a = gate.assess("something odd is going on", learned=FakeLearned(em=0.9))
    assert a.emergency and a.emergency_sources == ("learned",)
    assert a.rules == ("warning_sign:learned",)


def test_the_learned_detector_cannot_remove_a_rule_finding() -> None:
    a = gate.assess("I can't breathe", learned=FakeLearned(em=0.0))
    assert a.emergency and "rules" in a.emergency_sources


def test_a_learned_detector_that_raises_leaves_the_rules_in_charge() -> None:
    a = gate.assess("I can't breathe", learned=FakeLearned(raises=True))
    assert a.emergency and a.failed == ("learned",) and not a.check_failed
    b = gate.assess("how much does it cost?", learned=FakeLearned(raises=True))
    assert not b.emergency and not b.check_failed


def test_the_nlu_intent_is_not_an_emergency_source(stub_services: Any) -> None:
    """The NLU added false urgent replies and no recall (measured in docs/safety/safety-case.md)."""
    calm = respond(
        Turn(
            sender_id="n1",
            text="and the price?",
            intent="warning_signs",
            intent_confidence=0.99,
            metadata={"consent": True},
        ),
        "emergency",
        stub_services,
    )
    assert calm.meta.kind != "emergency"
    # ... and with no classifier to read it otherwise, a clinician sees it: never an ordinary answer
    assert calm.meta.kind == "handoff" and calm.meta.handoff
    real = respond(
        Turn(sender_id="n2", text="I can't breathe", intent="greet", intent_confidence=1.0), "smalltalk", stub_services
    )
    assert real.meta.kind == "emergency"


@pytest.mark.parametrize("broken", ["detect_warning_signs", "detect_personal_medical"])
def test_a_detector_that_raises_is_a_failed_check(monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    monkeypatch.setattr(gate, broken, _boom)
    a = gate.assess("how long does the swelling last?")
    assert a.check_failed
    assert any(r.startswith("check_failed:") for r in a.rules)


@pytest.mark.parametrize("broken", ["detect_warning_signs", "detect_personal_medical"])
def test_respond_hands_off_with_a_staff_alert_when_a_detector_raises(
    monkeypatch: pytest.MonkeyPatch, broken: str, stub_services: Any
) -> None:
    monkeypatch.setattr(gate, broken, _boom)
    reply = respond(
        Turn(sender_id="s1", text="how long does the swelling last?", channel="rest"), "answer", stub_services
    )
    assert reply.meta.kind == "handoff" and reply.meta.handoff
    assert reply.meta.reason == "handoff:safety_check_failed"
    assert [a[0] for a in stub_services.alerts.sent] == ["handoff"]


def test_an_emergency_reply_carries_the_rule_ids_in_its_metadata(stub_services: Any) -> None:
    reply = respond(Turn(sender_id="s2", text="my vision went blurry after the injections"), "answer", stub_services)
    assert reply.meta.kind == "emergency"
    assert reply.meta.to_json()["rules"] == ["warning_sign:vision"]
    assert [a[0] for a in stub_services.alerts.sent] == ["emergency"]


# --- every character, in linear time ------------------------------------------------------------

FILLER = "We talked about the price, the parking and the products they use at the clinic. "
SIGN = "my lips are swelling and I feel giddy"


@pytest.mark.parametrize("where", ["start", "middle", "last 50"])
def test_a_sign_anywhere_in_10000_characters_is_found_quickly(where: str) -> None:
    body = (FILLER * 200)[: MAX_CHARS - len(SIGN) - 4]
    text = {
        "start": SIGN + ". " + body,
        "middle": body[:5000] + ". " + SIGN + ". " + body[5000:],
        "last 50": body + ". " + SIGN,
    }[where]
    assert len(text) <= MAX_CHARS
    t0 = time.perf_counter()
    found = detect_warning_signs(text)
    elapsed = time.perf_counter() - t0
    assert {s.id for s in found} >= {"throat_swelling", "fainting"}
    # a guard against backtracking or quadratic work (minutes on 10,000 characters), not a speed target:
    # the detector's time is measured by make safety-report
    assert elapsed < 5.0, f"{elapsed:.2f} s: the detector must stay linear on a full-size message"


REPETITIVE = [
    "a " * 5000,
    "my " * 3300,
    "swelling " * 1100,
    "fever red " * 1000,
    "pus swelling " * 800,
    "cannot " * 1400,
    "throat " * 1400,
    "no " * 3300,
    "turned " * 1400,
    "all over " * 1200,
    "w" + "e" * 9999,
    "सांस " * 2000,
]


@pytest.mark.parametrize("text", REPETITIVE, ids=lambda v: v[:12])
def test_repetitive_input_has_a_definite_answer_in_bounded_time(text: str) -> None:
    t0 = time.perf_counter()
    found = detect_warning_signs(text)
    elapsed = time.perf_counter() - t0
    assert isinstance(found, tuple) and all(s.id in load("warning_signs").rules for s in found)
    assert elapsed < 5.0, f"{elapsed:.2f} s on a pathological 10,000-character input"  # a guard, as above
    # and it is still a detector: the same input with a real sign at the end is caught
    assert detect_warning_signs(text[: MAX_CHARS - 40] + ". I cannot breathe")


# --- denied and general mentions -----------------------------------------------------------------

NOT_EMERGENCIES = [
    "no swelling, no breathing trouble, all good, when is my next session?",
    "I am not dizzy at all, just curious how long it takes",
    "has anyone gone blind from it?",
    "can mesotherapy make you blind?",
    "saans lene mein koi dikkat nahi hai, bas thodi redness hai",
    "the pain was terrible last night but it has settled now, much better",
    "no fever, no pus, healing nicely, can I swim?",
    "what would an allergic reaction look like, like hives all over the body?",
]
STILL_EMERGENCIES = [
    "no idea why but my lips are swelling",
    "not sure if it's normal, my vision is blurry",
    "I'm not dizzy but my throat is closing",
    "the pain was bad yesterday and today it is worse",
    "maybe nothing, but my husband's lip has doubled in size",
    "has anyone else had this? my cheek has gone a dusky grey",
]


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_denied_general_or_settled_mentions_are_not_emergencies(text: str) -> None:
    assert detect_warning_signs(text) == ()


@pytest.mark.parametrize("text", STILL_EMERGENCIES)
def test_a_nearby_denial_or_question_does_not_hide_a_real_sign(text: str) -> None:
    assert detect_warning_signs(text)
