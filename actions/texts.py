"""Everything the assistant says in its own words (not from passages), filled from clinic.yml.
The safety texts (disclaimer, urgent care, handoff, hold) come from the one reviewed source,
`actions/safety/texts.yml`; the rest is kept here so a clinic can review the wording.

Every function takes `lang` ("en" or "hi", issue 13): the Hindi comes from `actions/texts.hi.yml`
and `actions/safety/texts.hi.yml`, and a reply without a usable Hindi version is said in English."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from actions import translations
from actions.safety import texts as safety
from core.clinic import ClinicConfig

safety.current()  # loaded at import: the action server does not start without its reviewed safety texts


def facts(clinic: ClinicConfig) -> safety.ClinicFacts:
    return safety.ClinicFacts.from_mapping(clinic.model_dump(mode="json"))


def reply_values(clinic: ClinicConfig | None) -> dict[str, str]:
    """The clinic facts a translated reply may name, as the English f-strings write them."""
    if clinic is None:
        return {}
    return {
        "name": clinic.name,
        "phone": clinic.phone,
        "address": clinic.address,
        "booking_url": str(clinic.booking_url),
        "privacy_url": str(clinic.privacy_url),
        "opening_hours": "; ".join(clinic.opening_hours),
        "prices": clinic.formatted_prices(),
    }


EXAMPLE_VALUES = {"days": "180"}
"""Values of the placeholders a reply fills from outside clinic.yml (the retention period), as the
translation lint and tests fill them."""


def _say(
    lang: str, reply_id: str, english: str, clinic: ClinicConfig | None = None, extra: dict[str, str] | None = None
) -> str:
    if lang == "en":
        return english
    return translations.say(lang, reply_id, english, {**reply_values(clinic), **(extra or {})})


# --- safety texts: written once, in actions/safety/texts.yml ------------------------------------


def with_disclaimer(text: str, lang: str = "en") -> str:
    return f"{text}\n\n{safety.disclaimer(lang)}"


def emergency(clinic: ClinicConfig, channel: str | None, lang: str = "en") -> str:
    """Urgent care; says the clinic will contact the patient only where it can (messaging apps)."""
    return safety.emergency(facts(clinic), channel, lang)


def emergency_hold(clinic: ClinicConfig, channel: str | None, lang: str = "en") -> str:
    """Every reply after an emergency until the clinic hands the conversation back: call now."""
    return safety.hold_emergency(facts(clinic), channel, lang)


def handoff(
    clinic: ClinicConfig, reason: str, general_info: str | None = None, lang: str = "en", *, now: datetime
) -> str:
    """Promises a reply by the clinic's hours at `now` (the action server's clock, `Services.clock`)."""
    return safety.handoff(facts(clinic), reason, general_info, lang, promise=clinic.business_hours.promise(now))


def handoff_hold(clinic: ClinicConfig, lang: str = "en", *, now: datetime) -> str:
    return safety.hold(facts(clinic), lang, promise=clinic.business_hours.promise(now))


def handoff_hold_short(clinic: ClinicConfig | None = None, lang: str = "en") -> str:
    return safety.hold_short(facts(clinic) if clinic is not None else safety.ClinicFacts(), lang)


# --- everything else the assistant says in its own words -----------------------------------------


def greet(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "greet",
        f"Hello! I'm the automated assistant of {clinic.name}. I can answer general questions about "
        "mesotherapy: how it works, pain, downtime, results, cost, risks, and how it compares with other "
        "treatments. For anything about your own health, I'll put you in touch with a clinician.",
        clinic,
    )


def goodbye(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "goodbye",
        f"Goodbye and take care! If you have more questions about mesotherapy, I'm here any time. ({clinic.phone})",
        clinic,
    )


def thanks(lang: str = "en") -> str:
    return _say(lang, "thanks", "You're welcome! Is there anything else you'd like to know?")


def bot_challenge(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "bot_challenge",
        f"Yes, I'm an automated assistant, not a person. I give general information from sources reviewed for "
        f'{clinic.name}. For personal questions a clinician will help: just write "talk to a person".',
        clinic,
    )


def acknowledge(lang: str = "en") -> str:
    return _say(lang, "acknowledge", "All right. What would you like to know about mesotherapy?")


def out_of_scope(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "out_of_scope",
        f"Sorry, I can only help with questions about mesotherapy at {clinic.name}: for example the procedure, "
        "pain, downtime, results, cost, risks, or how it compares with Botox, microneedling or liposuction. "
        f"For anything else, please call us on {clinic.phone}.",
        clinic,
    )


def other_script(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "other_script",
        "Sorry, I can only read questions written in English letters for now (Hinglish is fine too). "
        f"You can also call {clinic.name} on {clinic.phone}.",
        clinic,
    )


def nothing_to_answer(lang: str = "en") -> str:
    return with_disclaimer(
        _say(
            lang, "nothing_to_answer", "I didn't catch a question there. What would you like to know about mesotherapy?"
        ),
        lang,
    )


def clarify(lang: str = "en") -> str:
    return with_disclaimer(
        _say(lang, "clarify", "I want to be sure I answer the right thing. Which of these do you mean?"), lang
    )


def offer_person(lang: str = "en") -> str:
    return with_disclaimer(
        _say(
            lang,
            "offer_person",
            "I'm sorry, I couldn't find a good answer to that. Would you like a member of our clinical team "
            "to get back to you here?",
        ),
        lang,
    )


def declined_person(lang: str = "en") -> str:
    return _say(
        lang, "declined_person", 'No problem. You can ask me something else, or write "talk to a person" at any time.'
    )


def clinic_info(clinic: ClinicConfig, wants: Collection[str], lang: str = "en") -> str:
    parts = []
    if "hours" in wants:
        parts.append(
            _say(lang, "clinic_info_hours_label", "Opening hours: " + "; ".join(clinic.opening_hours) + ".", clinic)
        )
    if "address" in wants:
        parts.append(_say(lang, "clinic_info_address_label", f"Address: {clinic.address}.", clinic))
    if "contact" in wants:
        phone = _say(lang, "clinic_info_phone_label", f"Phone: {clinic.phone}.", clinic)
        parts.append(f"{phone} " + _say(lang, "clinic_info_book_label", f"Book online: {clinic.booking_url}", clinic))
    return f"{clinic.name}\n" + "\n".join(parts)


def booking(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "booking",
        f"You can book an appointment at {clinic.booking_url} or by calling {clinic.phone} "
        f"({'; '.join(clinic.opening_hours)}). I've also let the team know you'd like an appointment, "
        "so they may contact you here. A first visit starts with a consultation with a clinician.",
        clinic,
    )


def consent_request(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "consent_request",
        f"Hello! I'm the automated assistant of {clinic.name}. Before we start: I give general information, "
        "not medical advice, and this conversation is stored so our clinic team can review it and reply to you. "
        f"Privacy notice: {clinic.privacy_url}\nDo you agree? (yes / no)",
        clinic,
    )


def consent_thanks(lang: str = "en") -> str:
    return _say(lang, "consent_thanks", "Thank you. What would you like to know about mesotherapy?")


def consent_declined(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "consent_declined",
        "Understood. Without your agreement I can't continue this chat. You can call "
        f'{clinic.name} on {clinic.phone} instead, or write "yes" if you change your mind.',
        clinic,
    )


def price_line(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(lang, "price_line", f"At {clinic.name}: {clinic.formatted_prices()}.", clinic)


def clinician_note(lang: str = "en") -> str:
    return _say(lang, "clinician_note", "Your clinician will check what applies to you.")


# --- the patient's own data (actions/patient_data.py) ----------------------------------------------


def data_erase_confirm(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "data_erase_confirm",
        f"I can delete this conversation from the records of {clinic.name}: your messages, the replies, and "
        "the notes staff made on it. It cannot be undone, and the clinic will no longer see what you asked here. "
        "Delete it?",
        clinic,
    )


def data_erase_done(clinic: ClinicConfig, lang: str = "en") -> str:
    return _say(
        lang,
        "data_erase_done",
        f"Done: this conversation will be deleted from the records of {clinic.name} within a few minutes. "
        f"If you write again, that starts a new conversation. For your treatment records at the clinic, call "
        f"{clinic.phone}.",
        clinic,
    )


def data_erase_kept(lang: str = "en") -> str:
    return _say(lang, "data_erase_kept", "All right, nothing has been deleted.")


def data_kept(clinic: ClinicConfig, days: int, lang: str = "en") -> str:
    return _say(
        lang,
        "data_kept",
        "This chat keeps your messages, the replies (the assistant's and the clinic's staff), when they were "
        "sent, and the chat app's identifier for you (on WhatsApp your phone number, on Telegram your account "
        f"id, on the website an anonymous id). The staff of {clinic.name} read it in their console after logging "
        f"in, and every view is recorded. It is deleted after {days} days; to have it deleted now, write "
        f'"delete my data". More in the privacy notice: {clinic.privacy_url}',
        clinic,
        {"days": str(days)},
    )


def translatable(clinic: ClinicConfig) -> dict[str, Callable[[str], str]]:
    """Each reply with a translation entry (`actions/texts.<lang>.yml` id), called as the assistant
    calls it, by language: what the translation lint and the tests check every entry against."""
    return {
        "greet": lambda lang: greet(clinic, lang),
        "goodbye": lambda lang: goodbye(clinic, lang),
        "thanks": thanks,
        "bot_challenge": lambda lang: bot_challenge(clinic, lang),
        "acknowledge": acknowledge,
        "out_of_scope": lambda lang: out_of_scope(clinic, lang),
        "other_script": lambda lang: other_script(clinic, lang),
        "nothing_to_answer": nothing_to_answer,
        "clarify": clarify,
        "offer_person": offer_person,
        "declined_person": declined_person,
        "clinic_info_hours_label": lambda lang: clinic_info(clinic, ["hours"], lang),
        "clinic_info_address_label": lambda lang: clinic_info(clinic, ["address"], lang),
        "clinic_info_phone_label": lambda lang: clinic_info(clinic, ["contact"], lang),
        "clinic_info_book_label": lambda lang: clinic_info(clinic, ["contact"], lang),
        "booking": lambda lang: booking(clinic, lang),
        "consent_request": lambda lang: consent_request(clinic, lang),
        "consent_thanks": consent_thanks,
        "consent_declined": lambda lang: consent_declined(clinic, lang),
        "price_line": lambda lang: price_line(clinic, lang),
        "clinician_note": clinician_note,
        "data_erase_confirm": lambda lang: data_erase_confirm(clinic, lang),
        "data_erase_done": lambda lang: data_erase_done(clinic, lang),
        "data_erase_kept": data_erase_kept,
        "data_kept": lambda lang: data_kept(clinic, int(EXAMPLE_VALUES["days"]), lang),
    }
