"""Everything the assistant says in its own words (not from passages), filled from clinic.yml.
The safety texts (disclaimer, urgent care, handoff, hold) come from the one reviewed source,
`actions/safety/texts.yml`; the rest is kept here so a clinic can review the wording."""

from __future__ import annotations

from collections.abc import Collection

from actions.safety import texts as safety
from core.clinic import ClinicConfig

safety.current()  # loaded at import: the action server does not start without its reviewed safety texts


def facts(clinic: ClinicConfig) -> safety.ClinicFacts:
    return safety.ClinicFacts.from_mapping(clinic.model_dump(mode="json"))


# --- safety texts: written once, in actions/safety/texts.yml ------------------------------------


def with_disclaimer(text: str) -> str:
    return f"{text}\n\n{safety.disclaimer()}"


def emergency(clinic: ClinicConfig, channel: str | None) -> str:
    """Urgent care; says the clinic will contact the patient only where it can (messaging apps)."""
    return safety.emergency(facts(clinic), channel)


def emergency_hold(clinic: ClinicConfig, channel: str | None) -> str:
    """Every reply after an emergency until the clinic hands the conversation back: call now."""
    return safety.hold_emergency(facts(clinic), channel)


def handoff(clinic: ClinicConfig, reason: str, general_info: str | None = None) -> str:
    return safety.handoff(facts(clinic), reason, general_info)


def handoff_hold(clinic: ClinicConfig) -> str:
    return safety.hold(facts(clinic))


def handoff_hold_short(clinic: ClinicConfig | None = None) -> str:
    return safety.hold_short(facts(clinic) if clinic is not None else safety.ClinicFacts())


# --- everything else the assistant says in its own words -----------------------------------------


def greet(clinic: ClinicConfig) -> str:
    return (
        f"Hello! I'm the automated assistant of {clinic.name}. I can answer general questions about "
        "mesotherapy: how it works, pain, downtime, results, cost, risks, and how it compares with other "
        "treatments. For anything about your own health, I'll put you in touch with a clinician."
    )


def goodbye(clinic: ClinicConfig) -> str:
    return f"Goodbye and take care! If you have more questions about mesotherapy, I'm here any time. ({clinic.phone})"


def thanks() -> str:
    return "You're welcome! Is there anything else you'd like to know?"


def bot_challenge(clinic: ClinicConfig) -> str:
    return (
        f"Yes, I'm an automated assistant, not a person. I give general information from sources reviewed for "
        f'{clinic.name}. For personal questions a clinician will help: just write "talk to a person".'
    )


def acknowledge() -> str:
    return "All right. What would you like to know about mesotherapy?"


def out_of_scope(clinic: ClinicConfig) -> str:
    return (
        f"Sorry, I can only help with questions about mesotherapy at {clinic.name}: for example the procedure, "
        "pain, downtime, results, cost, risks, or how it compares with Botox, microneedling or liposuction. "
        f"For anything else, please call us on {clinic.phone}."
    )


def other_script(clinic: ClinicConfig) -> str:
    return (
        "Sorry, I can only read questions written in English letters for now (Hinglish is fine too). "
        f"You can also call {clinic.name} on {clinic.phone}."
    )


def nothing_to_answer() -> str:
    return with_disclaimer("I didn't catch a question there. What would you like to know about mesotherapy?")


def clarify() -> str:
    return with_disclaimer("I want to be sure I answer the right thing. Which of these do you mean?")


def offer_person() -> str:
    return with_disclaimer(
        "I'm sorry, I couldn't find a good answer to that. Would you like a member of our clinical team "
        "to get back to you here?"
    )


def declined_person() -> str:
    return 'No problem. You can ask me something else, or write "talk to a person" at any time.'


def clinic_info(clinic: ClinicConfig, wants: Collection[str]) -> str:
    parts = []
    if "hours" in wants:
        parts.append("Opening hours: " + "; ".join(clinic.opening_hours) + ".")
    if "address" in wants:
        parts.append(f"Address: {clinic.address}.")
    if "contact" in wants:
        parts.append(f"Phone: {clinic.phone}. Book online: {clinic.booking_url}")
    return f"{clinic.name}\n" + "\n".join(parts)


def booking(clinic: ClinicConfig) -> str:
    return (
        f"You can book an appointment at {clinic.booking_url} or by calling {clinic.phone} "
        f"({'; '.join(clinic.opening_hours)}). I've also let the team know you'd like an appointment, "
        "so they may contact you here. A first visit starts with a consultation with a clinician."
    )


def consent_request(clinic: ClinicConfig) -> str:
    return (
        f"Hello! I'm the automated assistant of {clinic.name}. Before we start: I give general information, "
        "not medical advice, and this conversation is stored so our clinic team can review it and reply to you. "
        f"Privacy notice: {clinic.privacy_url}\nDo you agree? (yes / no)"
    )


def consent_thanks() -> str:
    return "Thank you. What would you like to know about mesotherapy?"


def consent_declined(clinic: ClinicConfig) -> str:
    return (
        "Understood. Without your agreement I can't continue this chat. You can call "
        f'{clinic.name} on {clinic.phone} instead, or write "yes" if you change your mind.'
    )


def price_line(clinic: ClinicConfig) -> str:
    return f"At {clinic.name}: {clinic.formatted_prices()}."


def clinician_note() -> str:
    return "Your clinician will check what applies to you."
