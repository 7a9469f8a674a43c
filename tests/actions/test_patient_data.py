"""A patient's requests about their own data are recognised in many phrasings and languages, and treatment
questions that share a verb ("remove", "clear") are not taken for them."""

from __future__ import annotations

import pytest

from actions.patient_data import DataRequest, request_of
from actions.respond import ERASE_CONFIRMED, Turn, respond
from actions.routing import Route

ERASE = [
    "Please delete my data",
    "forget me",
    "can u erase this chat pls",
    "I want all of my messages deleted",
    "Remove my phone number from your records",
    "wipe everything you have on me",
    "I'd like my personal data to be erased, thanks",
    "I am exercising my right to be forgotten",
    "don't keep my details",
    "Get rid of my conversation history now",
    "mera data delete karo",
    "meri chat hata do please",
    "mere saare messages mita dijiye",
    "मेरा डेटा हटा दीजिए",
    "कृपया मेरी सारी जानकारी डिलीट कर दो",
    "मुझे भूल जाओ",
]

KEPT = [
    "What data do you keep about me?",
    "what do you store on me",
    "Do you save my messages?",
    "is my chat being recorded",
    "who can read my messages here?",
    "how long do you keep my data",
    "What information does the clinic collect?",
    "mera data save hota hai kya",
    "kya data rakhte ho aap",
    "क्या आप मेरी जानकारी रखते हैं?",
    "मेरे संदेश कौन देख सकते हैं",
]

NEITHER = [
    "Will mesotherapy remove my dark circles?",
    "does it clear acne scars",
    "can it get rid of my double chin",
    "I forgot my appointment time",
    "how do I delete the app from my phone after booking",  # no data of theirs with the clinic
    "will the fat cells be destroyed for good",
    "What does it cost?",
    "",
    "\ud800\x00",
    "kya meso se daag hat jaate hain",
    "क्या इससे झुर्रियाँ हट जाती हैं?",
    "forget me not flowers on the clinic poster?",
]


@pytest.mark.parametrize("text", ERASE)
def test_requests_to_erase_are_recognised(text):
    assert request_of(text) is DataRequest.ERASE


@pytest.mark.parametrize("text", KEPT)
def test_questions_about_what_is_kept_are_recognised(text):
    assert request_of(text) is DataRequest.WHAT_IS_KEPT


@pytest.mark.parametrize("text", NEITHER)
def test_treatment_questions_and_odd_input_are_no_data_request(text):
    assert request_of(text) is None


def test_a_message_asking_both_is_an_erasure():
    assert request_of("What do you keep about me? Delete my data.") is DataRequest.ERASE


def test_a_long_message_is_read_in_linear_time():
    text = "my " * 5000 + "please delete my data"
    assert request_of(text) is DataRequest.ERASE


# --- the dialogue: ask, confirm, then the console erases (console/patient_requests.py) ----------------


def turn(text: str, intent: str | None = None, **slots) -> Turn:
    return Turn(sender_id="tg-77", text=text, intent=intent, intent_confidence=0.99, slots=slots, channel="telegram")


def test_erasure_is_asked_then_confirmed_with_the_reason_the_console_erases_on(stub_services):
    asked = respond(turn("please delete my data", "out_of_scope", consent=True), Route.OUT_OF_SCOPE, stub_services)
    assert asked.slots["pending_offer"] == "erase"
    assert [b["payload"] for b in asked.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert "cannot be undone" in asked.messages[0]["text"]
    assert asked.meta.reason != ERASE_CONFIRMED  # nothing erased on the request alone

    done = respond(turn("/affirm", "affirm", consent=True, pending_offer="erase"), Route.YES_NO, stub_services)
    assert done.meta.reason == ERASE_CONFIRMED
    assert done.slots["pending_offer"] is None
    assert "deleted" in done.messages[0]["text"]


def test_no_keeps_everything_and_anything_else_lets_the_offer_lapse(stub_services):
    kept = respond(turn("/deny", "deny", consent=True, pending_offer="erase"), Route.YES_NO, stub_services)
    assert kept.meta.reason == "patient_data:erase_declined" and kept.slots["pending_offer"] is None

    other = respond(
        turn("how much is it?", "ask_question", consent=True, pending_offer="erase"), Route.ANSWER, stub_services
    )
    assert other.meta.reason != ERASE_CONFIRMED
    assert other.slots.get("pending_offer") is None  # a later "yes" is not taken for the erasure


def test_a_request_before_consent_is_still_answered(stub_services):
    asked = respond(turn("forget me"), Route.OUT_OF_SCOPE, stub_services)
    assert asked.slots["pending_offer"] == "erase"


def test_what_is_kept_gets_the_retention_period_and_the_privacy_notice(stub_services):
    reply = respond(turn("what data do you keep about me?", consent=True), Route.OUT_OF_SCOPE, stub_services)
    text = reply.messages[0]["text"]
    assert f"{stub_services.settings.retention_days} days" in text
    assert str(stub_services.clinic.privacy_url) in text
    assert reply.meta.reason == "patient_data:what_is_kept"


def test_warning_signs_come_before_a_data_request(stub_services):
    reply = respond(
        turn("delete my data, my throat is closing and I can't breathe", consent=True),
        Route.OUT_OF_SCOPE,
        stub_services,
    )
    assert reply.meta.kind == "emergency"


def test_a_request_in_hindi_is_answered_in_hindi(stub_services):
    asked = respond(turn("मेरा डेटा हटा दीजिए", consent=True), Route.OUT_OF_SCOPE, stub_services)
    assert "हटा" in asked.messages[0]["text"]
    assert asked.messages[0]["buttons"][0]["title"] == "हाँ, हटा दें"
