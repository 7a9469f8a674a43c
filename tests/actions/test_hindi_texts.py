"""Hindi replies (issue 13): every safety text and every other reply the assistant writes in its own
words can be said in Hindi with the clinic's facts filled in; urgent texts still give the emergency
number and the contract's texts still carry the (Hindi) disclaimer; a missing, stale or broken Hindi
text falls back to the English and the lints name it. English stays exactly as it was."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from actions import texts, translations
from actions.safety import texts as safety
from actions.safety import translations as safety_translations
from core.clinic import load_clinic
from core.settings import PROJECT_ROOT

CLINIC = load_clinic(PROJECT_ROOT / "clinic.yml")
FACTS = texts.facts(CLINIC)
HI_DISCLAIMER = safety.disclaimer("hi")
CHANNELS = ("webchat", "telegram", "whatsapp", None)
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # a Tuesday: the clinic is open


def _devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)


# --- safety texts ---------------------------------------------------------------------------------------


def test_every_safety_text_but_the_widget_is_translated() -> None:
    hindi = safety.current("hi")
    assert hindi.lang == "hi"
    assert hindi.english == {t.id for t in safety.current() if t.where == "widget"}


@pytest.mark.parametrize("text_id", [t.id for t in safety.current() if t.where != "widget"])
def test_every_safety_text_renders_in_hindi(text_id: str) -> None:
    hindi = safety.current("hi")
    english = safety.current()
    text = safety._longest(hindi, hindi.texts[text_id], FACTS)
    assert _devanagari(text) and "{" not in text and "}" not in text
    assert text != safety._longest(english, english.texts[text_id], FACTS)
    if text_id in safety.NEEDS_DISCLAIMER:
        assert HI_DISCLAIMER in text and safety.disclaimer() not in text
    if text_id in safety.URGENT:
        assert FACTS.emergency_number in text


@pytest.mark.parametrize("channel", CHANNELS)
def test_urgent_replies_in_hindi_give_the_emergency_number_and_disclaimer(channel: str | None) -> None:
    for text in (
        texts.emergency(CLINIC, channel, lang="hi"),
        texts.emergency_hold(CLINIC, channel, lang="hi"),
        safety.channel_fallback(FACTS, True, lang="hi"),
    ):
        assert CLINIC.emergency_number in text and HI_DISCLAIMER in text and "{" not in text
    contact = "इसी चैट" if safety.can_contact(channel) else CLINIC.phone
    assert contact in texts.emergency(CLINIC, channel, lang="hi")


@pytest.mark.parametrize("reason", [*safety.HANDOFF_REASONS, "unknown_reason"])
def test_handoffs_in_hindi(reason: str) -> None:
    text = texts.handoff(CLINIC, reason, "GENERAL-INFO", lang="hi", now=NOW)
    assert _devanagari(text) and HI_DISCLAIMER in text and "GENERAL-INFO" in text and "{" not in text
    assert CLINIC.phone in text and CLINIC.emergency_number in text


def test_the_other_safety_replies_in_hindi() -> None:
    for text in (
        texts.handoff_hold(CLINIC, lang="hi", now=NOW),
        texts.handoff_hold_short(CLINIC, lang="hi"),
        texts.handoff_hold_short(lang="hi"),
        safety.channel_fallback(FACTS, False, lang="hi"),
    ):
        assert _devanagari(text) and HI_DISCLAIMER in text and "{" not in text
    media = safety.unreadable_media(FACTS, "वॉइस मैसेज", lang="hi")
    assert "वॉइस मैसेज" in media and CLINIC.emergency_number in media
    assert safety.not_a_clinician("hi") != safety.not_a_clinician()


def test_english_stays_the_default() -> None:
    assert safety.disclaimer() == safety.disclaimer("en") == safety.current().render("disclaimer", FACTS)
    assert texts.emergency(CLINIC, "webchat") == texts.emergency(CLINIC, "webchat", lang="en")
    assert not _devanagari(texts.handoff(CLINIC, "dosing", now=NOW)) and not _devanagari(texts.greet(CLINIC))


def _safety_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_hindi: bool = True) -> Path:
    path = tmp_path / "texts.yml"
    shutil.copy(safety.TEXTS_FILE, path)
    if with_hindi:
        shutil.copy(safety_translations.translated_path(safety.TEXTS_FILE, "hi"), tmp_path / "texts.hi.yml")
    monkeypatch.setattr(safety, "TEXTS_FILE", path)
    return tmp_path / "texts.hi.yml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_without_a_hindi_file_the_english_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _safety_copy(tmp_path, monkeypatch, with_hindi=False)
    assert safety.emergency(FACTS, "webchat", lang="hi") == safety.emergency(FACTS, "webchat")
    assert safety.lint() == []


def test_a_stale_hindi_safety_text_is_a_lint_error_and_not_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    hindi = _safety_copy(tmp_path, monkeypatch)
    _edit(hindi, 'source_sha: "4906932dcdab647a"', 'source_sha: "0000000000000000"')  # emergency
    assert any(p.startswith("hi: emergency: stale") for p in safety.lint())
    assert safety.main(["lint"]) == 1
    said = safety.emergency(FACTS, "webchat", lang="hi")
    assert said.startswith("⚠️ What you describe") and CLINIC.emergency_number in said


def test_a_lost_placeholder_in_hindi_is_a_lint_error_and_not_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    hindi = _safety_copy(tmp_path, monkeypatch)
    _edit(hindi, "कृपया अभी तुरंत मेडिकल मदद लें: {emergency_number} पर", "कृपया अभी तुरंत मेडिकल मदद लें:")
    assert any(p.startswith("hi: urgent_help_now: placeholders differ") for p in safety.lint())
    assert "Please get urgent medical help now" in safety.emergency(FACTS, "webchat", lang="hi")


def test_an_unknown_hindi_safety_id_is_a_lint_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hindi = _safety_copy(tmp_path, monkeypatch)
    _edit(hindi, "  - id: hold_short\n", "  - id: hold_shorter\n")
    problems = safety.lint()
    assert any(p.startswith("hi: hold_shorter: no text of that id") for p in problems)
    assert safety.hold_short(FACTS, lang="hi").startswith("Thank you")  # the English, with the Hindi disclaimer


# --- the other replies (actions/texts.py) -----------------------------------------------------------------


@pytest.mark.parametrize("reply_id", sorted(texts.translatable(CLINIC)))
def test_every_reply_renders_in_hindi(reply_id: str) -> None:
    say = texts.translatable(CLINIC)[reply_id]
    hindi, english = say("hi"), say("en")
    assert _devanagari(hindi) and hindi != english and "{" not in hindi
    if safety.disclaimer() in english:
        assert HI_DISCLAIMER in hindi and safety.disclaimer() not in hindi


def test_every_reply_has_a_current_translation() -> None:
    assert translations.lint("hi") == []
    assert set(translations.load("hi")) == set(texts.translatable(CLINIC))


def test_replies_fill_the_clinic_facts_in_hindi() -> None:
    assert CLINIC.name in texts.greet(CLINIC, lang="hi")
    assert str(CLINIC.privacy_url) in texts.consent_request(CLINIC, lang="hi")
    assert CLINIC.formatted_prices() in texts.price_line(CLINIC, lang="hi")
    booking = texts.booking(CLINIC, lang="hi")
    assert str(CLINIC.booking_url) in booking and CLINIC.phone in booking
    info = texts.clinic_info(CLINIC, ["hours", "address", "contact"], lang="hi")
    assert CLINIC.address in info and "पता" in info and "; ".join(CLINIC.opening_hours) in info


@pytest.fixture()
def replies_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "texts.hi.yml"
    shutil.copy(translations.path_for("hi"), path)
    monkeypatch.setattr(translations, "TEXTS_DIR", tmp_path)
    return path


def test_a_stale_reply_is_a_lint_error_and_said_in_english(replies_copy: Path) -> None:
    _edit(replies_copy, 'source_sha: "713bd6ebbce4afa1"', 'source_sha: "0000000000000000"')  # greet
    assert any(p.startswith("greet: stale") for p in translations.lint("hi"))
    assert texts.greet(CLINIC, lang="hi") == texts.greet(CLINIC)


def test_english_changed_in_the_code_is_said_in_english(replies_copy: Path) -> None:
    """An `en` that is no longer what the code writes (here: the code's English edited, simulated by
    editing `en` and its sha) is never served in Hindi, and the lint names it."""
    from actions.safety.texts import source_sha

    old = "Thank you. What would you like to know about mesotherapy?"
    _edit(replies_copy, f'en: "{old}"', 'en: "Thanks. What would you like to know?"')
    _edit(
        replies_copy,
        f'source_sha: "{source_sha(old)}"',
        f'source_sha: "{source_sha("Thanks. What would you like to know?")}"',
    )
    assert any(p.startswith("consent_thanks: `en` is not what") for p in translations.lint("hi"))
    assert texts.consent_thanks(lang="hi") == texts.consent_thanks() == old


def test_a_lost_reply_placeholder_is_a_lint_error(replies_copy: Path) -> None:
    _edit(replies_copy, "फिर मिलेंगे, अपना ध्यान रखें!", "फिर मिलेंगे {name}!")
    assert any(p.startswith("goodbye: placeholders differ") for p in translations.lint("hi"))
    assert texts.goodbye(CLINIC, lang="hi") == texts.goodbye(CLINIC)
