"""Everything the assistant says in its own words (not from passages), filled from clinic.yml.
Kept in one place so a clinic can review the wording."""

from __future__ import annotations

from core.clinic import ClinicConfig
from knowledge.render import DISCLAIMER

HANDOFF_DISCLAIMER = "I am an automated assistant and cannot give personal medical advice."


def with_disclaimer(text: str) -> str:
    return f"{text}\n\n{DISCLAIMER}"


def emergency(clinic: ClinicConfig, labels: list[str]) -> str:
    signs = f" ({', '.join(labels)})" if labels else ""
    return (
        f"⚠️ What you describe{signs} can be a sign of a serious reaction. Please get urgent medical help now: "
        f"call {clinic.emergency_number} or go to the nearest emergency department. Do not wait for a reply here.\n"
        "If you can, tell them you had injections (mesotherapy) and when.\n"
        f"I have alerted the team at {clinic.name}. They will also try to contact you ({clinic.phone}).\n\n"
        f"{HANDOFF_DISCLAIMER} {DISCLAIMER}"
    )


HANDOFF_REASONS = {
    "pregnancy": "Whether mesotherapy is right during pregnancy or breastfeeding is something a clinician must decide with you.",
    "medicine": "Questions about your own medicines need a clinician who knows your health history.",
    "condition": "With a health condition, a clinician needs to look at your situation before any treatment.",
    "symptom_after_treatment": "Anything you notice after your own treatment should be checked by a clinician.",
    "is_this_normal": "Only a clinician who can look at you can say whether this is normal for you.",
    "dosing": "I can't recommend medicines or doses; a clinician will advise you.",
    "treatment_choice": "Which treatment suits you is decided in a consultation with a clinician.",
    "diagnosis": "I can't diagnose skin problems; a clinician needs to look at this.",
    "personal": "This is a personal medical question, so a clinician should answer it.",
    "human": "Of course, I'll ask a member of our team to take over.",
    "offer_accepted": "Thank you, I'll ask a member of our team to take over.",
}


def handoff(clinic: ClinicConfig, reason: str, general_info: str | None = None) -> str:
    lead = HANDOFF_REASONS.get(reason, HANDOFF_REASONS["personal"])
    text = (
        f"{lead} I've passed your message to the team at {clinic.name}; a clinician will reply here "
        f"{clinic.handoff_reply_time}. You can also call {clinic.phone}.\n"
        f"If you have trouble breathing, swelling of the face or throat, fainting or severe pain, call "
        f"{clinic.emergency_number} at once."
    )
    if general_info:
        text += f"\n\nMeanwhile, the general information:\n{general_info}"
    return f"{text}\n\n{HANDOFF_DISCLAIMER} {DISCLAIMER}"


def handoff_hold(clinic: ClinicConfig) -> str:
    return (
        f"Your conversation is with the team at {clinic.name} now; a person will reply here "
        f"{clinic.handoff_reply_time}. If anything gets worse or feels urgent, call {clinic.emergency_number}.\n\n"
        f"{HANDOFF_DISCLAIMER} {DISCLAIMER}"
    )


def handoff_hold_short() -> str:
    return f"Thank you, a person from the team will read this and reply here.\n\n{DISCLAIMER}"


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


def clinic_info(clinic: ClinicConfig, wants: set[str]) -> str:
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
