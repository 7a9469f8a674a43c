"""The one source of every safety text (actions/safety/texts.yml): what the patient reads in an
emergency, after it, at a handoff and when a channel answers by itself comes from that file and
nowhere else; the urgent reply names no symptom and promises contact only where the clinic can
make it; the lint catches what a reviewer must fix."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from actions.respond import Reply, Turn, respond
from actions.routing import POLICY
from actions.safety import texts as safety
from actions.safety.personal_medical import REASONS
from actions.safety.warning_signs import SIGN_LABELS, detect_warning_signs
from actions.services import Services
from core.clinic import load_clinic
from core.settings import PROJECT_ROOT, Settings
from tests.rasa_env import run_in_rasa

CLINIC = load_clinic(PROJECT_ROOT / "clinic.yml")
FACTS = safety.ClinicFacts.from_mapping(CLINIC.model_dump(mode="json"))
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=ZoneInfo("Asia/Kolkata"))  # a Tuesday: the clinic is open
PROMISE = CLINIC.business_hours.promise(NOW)
WARNING_SIGNS = "since the injections my throat is swelling and I can't breathe properly"

# Distinct wording put into a temporary copy of the file, to see where it turns up.
EDITS = {
    "Please get urgent medical help now:": "EDITED-URGENT get urgent medical help now:",
    "If you have not yet called {emergency_number}, call now": "EDITED-CALL-NOW call {emergency_number} now",
    '"General information only, not medical advice:': '"EDITED-DISCLAIMER General information only, not medical advice:',
    "Sorry, I couldn't process that just now.": "EDITED-FALLBACK Sorry, that did not work.",
    "can only read text messages": "EDITED-UNREADABLE can only read text",
    "You can close this page; the reply will wait here.": "EDITED-BANNER The reply will wait here.",
    "Get urgent medical help now.": "EDITED-EMERGENCY-TITLE",
}


class _Alerts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, ...]] = []

    def send(self, *args: Any) -> None:
        self.sent.append(tuple(str(a) for a in args))


def services() -> Services:
    """What respond() needs on the safety paths (the retriever is never reached before them)."""
    return Services(
        settings=Settings(),
        clinic=CLINIC,
        retriever=cast(Any, None),
        alerts=cast(Any, _Alerts()),
        topic_titles={},
        clock=lambda: NOW,
    )


def turn(text: str, channel: str = "webchat", **slots: Any) -> Turn:
    return Turn(sender_id="s", text=text, intent="ask_question", channel=channel, slots={"consent": True, **slots})


def text_of(reply: Reply) -> str:
    return "\n".join(m["text"] for m in reply.messages)


@pytest.fixture
def edited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary copy of the reviewed file with EDITS applied, used by everything in this process."""
    text = safety.TEXTS_FILE.read_text(encoding="utf-8")
    for old, new in EDITS.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "texts.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr(safety, "TEXTS_FILE", path)
    return path


# --- the file and its lint -----------------------------------------------------------------------


def test_the_reviewed_file_passes_its_lint():
    assert safety.lint() == []


def test_the_lint_command_exits_non_zero_on_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert safety.main(["lint"]) == 0
    broken = tmp_path / "texts.yml"
    broken.write_text(safety.TEXTS_FILE.read_text().replace("carries_disclaimer: true", "carries_disclaimer: false"))
    monkeypatch.setattr(safety, "TEXTS_FILE", broken)
    assert safety.main(["lint"]) == 1
    assert safety.main([]) == 2


def _mutated(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = safety.TEXTS_FILE.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "texts.yml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '  - id: not_a_clinician\n    where: fragment\n    text: "I am an automated assistant and cannot give personal medical advice."\n    reviewed: {by: "placeholder: clinic medical reviewer", on: "2026-11-30"}',
            '  - id: not_a_clinician\n    where: fragment\n    text: "I am an automated assistant and cannot give personal medical advice."',
            "not_a_clinician: `reviewed.by` is missing",
        ),
        ('on: "2026-11-30"}', 'on: "soon"}', "`reviewed.on` must be a date"),
        (
            "      Thank you, a person from the team will read this and reply here.\n\n      {disclaimer}",
            "      Thank you, a person from the team will read this and reply here.",
            "hold_short: `carries_disclaimer: true` but the disclaimer is not in the text",
        ),
        (
            "  - id: hold_short\n    where: reply\n    carries_disclaimer: true",
            "  - id: hold_short\n    where: reply",
            "hold_short: the reply contract needs the disclaimer",
        ),
        (
            '"{urgent_call_now}"',
            '"Please call for help."',
            "widget_emergency_body: an urgent text must give {emergency_number}",
        ),
        (
            '"A clinician will reply here."',
            '"A clinician will reply {address}."',
            "the widget can only fill",
        ),
        (
            '"Get urgent medical help now."',
            '"Get urgent medical help now. ' + "Really. " * 130 + '"',
            "widget_emergency_title: 1",
        ),
        ('"Get urgent medical help now."', '"Get <b>urgent</b> help now."', "no HTML or Markdown"),
        ('"Get urgent medical help now."', '"[Call now](tel:112)"', "no HTML or Markdown"),
    ],
)
def test_the_lint_reports_what_a_reviewer_must_fix(tmp_path: Path, old: str, new: str, expected: str):
    problems = safety.lint(_mutated(tmp_path, old, new))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("{contact_line}\n\n      {not_a_clinician}", "{clinic_fax}\n\n      {not_a_clinician}", "{clinic_fax}"),
        ("  - id: hold_short\n", "  - id: hold_shorter\n", "missing texts the assistant needs: hold_short"),
        ("    where: widget\n", "    where: website\n", "`where` must be one of"),
        (
            "    carries_disclaimer: true\n",
            "    carries_disclaimer: true\n    carries_disclamer: true\n",
            "unknown keys",
        ),
        ('text: "Get urgent medical help now."', 'text: "Get urgent {help now."', "a brace"),
        (
            'text: "I am an automated assistant and cannot give personal medical advice."',
            'text: "{emergency}"',
            "texts include each other",
        ),
        ("texts: [team_will_contact_you, team_alerted_call_clinic]", "texts: [team_will_phone_you]", "unknown texts"),
        ("  - id: not_a_clinician\n", "  - id: disclaimer\n", "defined twice"),
    ],
)
def test_a_broken_file_is_refused_when_it_is_loaded(tmp_path: Path, old: str, new: str, expected: str):
    with pytest.raises(safety.SafetyTextsError, match=re.escape(expected)):
        safety.load(_mutated(tmp_path, old, new))
    assert any(expected in p for p in safety.lint(_mutated(tmp_path, old, new)))


def test_unreadable_file_is_refused(tmp_path: Path):
    with pytest.raises(safety.SafetyTextsError, match="cannot read"):
        safety.load(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("texts: [", encoding="utf-8")
    with pytest.raises(safety.SafetyTextsError, match="cannot read"):
        safety.load(tmp_path / "bad.yml")


def test_clinic_values_are_filled_in_once_and_never_expanded():
    facts = safety.ClinicFacts.from_mapping({"name": "{disclaimer} Clinic", "phone": 12345, "emergency_number": " "})
    text = safety.hold(facts, promise=PROMISE)
    assert "{disclaimer} Clinic" in text  # the clinic's own braces stay as written
    assert safety.ClinicFacts().emergency_number in text  # a blank value keeps the safe default
    assert "12345" in safety.emergency(facts, "webchat")


def test_every_handoff_reason_of_the_detector_has_its_own_first_sentence():
    assert set(REASONS) <= set(safety.HANDOFF_REASONS)
    firsts = {
        reason: safety.handoff(FACTS, reason, promise=PROMISE).split(". ")[0] for reason in safety.HANDOFF_REASONS
    }
    assert len(set(firsts.values())) == len(firsts)
    assert safety.handoff(FACTS, "no-such-reason", promise=PROMISE) == safety.handoff(
        FACTS, "personal", promise=PROMISE
    )


# --- one source: every consumer shows the edited copy --------------------------------------------


def test_respond_uses_the_one_source(edited: Path):
    svc = services()
    emergency = text_of(respond(turn(WARNING_SIGNS), "answer", svc))
    assert "EDITED-URGENT" in emergency and "EDITED-DISCLAIMER" in emergency
    hold = text_of(respond(turn("hello?", handoff=True, handoff_reason="emergency"), "answer", svc))
    assert "EDITED-CALL-NOW" in hold and "EDITED-DISCLAIMER" in hold
    handoff = text_of(respond(turn("I want to talk to a person please"), "human", svc))
    assert "EDITED-DISCLAIMER" in handoff
    ordinary_hold = text_of(respond(turn("hello?", handoff=True, hold_notices=1.0), "answer", svc))
    assert "EDITED-DISCLAIMER" in ordinary_hold


def test_the_widget_texts_come_from_the_one_source(edited: Path):
    served = safety.widget_texts()
    assert "EDITED-BANNER" in served["handoff_body"]
    assert served["emergency_title"] == "EDITED-EMERGENCY-TITLE"
    assert "EDITED-CALL-NOW" in served["emergency_body"]  # included texts are written out
    assert served["disclaimer"].startswith("EDITED-DISCLAIMER")
    assert "{emergency_number}" in served["urgent_note"]  # the widget fills (and links) the number


RASA_SCRIPT = r"""
import asyncio, json, sys
from pathlib import Path
from actions.safety import texts
texts.TEXTS_FILE = Path(sys.argv[1])
from bot.channels import common, webchat

async def config():
    blueprint = webchat.WebChatInput().blueprint(None)
    handler = next(r.handler for r in blueprint._future_routes if r.uri == "/config")
    return json.loads((await handler(None)).body)

print(json.dumps({
    "disclaimer": common.DISCLAIMER,
    "fallback_urgent": common.fallback_reply("s", sys.argv[2]),
    "fallback": common.fallback_reply("s", "hello"),
    "unreadable": common.unreadable_text("a photo"),
    "config": asyncio.run(config()),
}))
"""


@pytest.mark.slow
def test_the_rasa_channels_use_the_one_source(edited: Path):
    """In the Rasa server's own environment (Python 3.10): the channel fallback, the unreadable-media
    reply and the web chat's config all show the edited copy."""
    done = run_in_rasa(RASA_SCRIPT, str(edited), WARNING_SIGNS, timeout=300)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["disclaimer"].startswith("EDITED-DISCLAIMER")
    urgent_text, urgent_meta = out["fallback_urgent"][0]["text"], out["fallback_urgent"][1]["custom"]["meta"]
    assert "EDITED-URGENT" in urgent_text and "EDITED-DISCLAIMER" in urgent_text
    assert urgent_meta["kind"] == "emergency" and urgent_meta["disclaimer"] is True
    assert CLINIC.emergency_number in urgent_text
    assert "EDITED-FALLBACK" in out["fallback"][0]["text"] and "EDITED-DISCLAIMER" in out["fallback"][0]["text"]
    assert "EDITED-UNREADABLE" in out["unreadable"] and CLINIC.emergency_number in out["unreadable"]
    texts = out["config"]["texts"]
    assert "EDITED-BANNER" in texts["handoff_body"] and texts["emergency_title"] == "EDITED-EMERGENCY-TITLE"
    assert out["config"]["emergency_number"] == CLINIC.emergency_number


def _literal_sentences() -> set[str]:
    """Every sentence-like piece of the reviewed texts that has no placeholder in it (25+ characters)."""
    current = safety.current()
    pieces: set[str] = set()
    for t in current:
        for literal in safety.PLACEHOLDER.split(current.expanded[t.id])[::2]:
            for piece in re.split(r"(?<=[.!?:;])\s+|\n+", literal):
                if len(piece.strip()) >= 25:
                    pieces.add(piece.strip())
    return pieces


def test_no_safety_wording_is_written_anywhere_else():
    pieces = _literal_sentences()
    assert any("General information only" in p for p in pieces) and any("emergency department" in p for p in pieces)
    sources = [
        path
        for folder in ("actions", "bot", "widget", "knowledge", "core", "console")
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in (".py", ".js", ".html") and path.parent != Path(safety.__file__).parent
    ]
    sources += [p for p in Path(safety.__file__).parent.glob("*.py") if p.name != "texts.py"]
    assert len(sources) > 20
    found = [
        (str(path.relative_to(PROJECT_ROOT)), piece)
        for path in sources
        for piece in pieces
        if piece in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert found == [], "safety wording written outside actions/safety/texts.yml: take it from actions.safety.texts"


# --- what the patient reads -----------------------------------------------------------------------


def test_the_urgent_reply_names_no_symptom_and_keeps_the_sign_for_staff():
    svc = services()
    for message in (WARNING_SIGNS, "my vision went blurry after the injections", "I fainted after my session"):
        signs = detect_warning_signs(message)
        assert signs, message
        reply = respond(turn(message), "answer", svc)
        assert reply.meta.kind == "emergency"
        text = text_of(reply).lower()
        assert not [label for label in SIGN_LABELS.values() if label.lower() in text], text
        assert all(s.id in reply.meta.reason for s in signs)  # the rule ids, for staff
        assert CLINIC.emergency_number in text_of(reply)


@pytest.mark.parametrize(
    ("channel", "contactable"),
    [("telegram", True), ("whatsapp", True), ("webchat", False), ("rest", False), ("cmdline", False), ("", False)],
)
def test_contact_is_promised_only_where_the_clinic_can_make_it(channel: str, contactable: bool):
    svc = services()
    emergency = text_of(respond(turn(WARNING_SIGNS, channel=channel), "answer", svc))
    hold = text_of(respond(turn("hello?", channel=channel, handoff=True, handoff_reason="emergency"), "answer", svc))
    for text in (emergency, hold):
        assert ("contact you" in text) is contactable, text
        if not contactable:
            assert f"call {CLINIC.phone}" in text  # how to reach the clinic instead


def test_after_an_emergency_every_reply_repeats_the_call_now_line():
    svc = services()
    call_now = safety.current().render("urgent_call_now", FACTS)
    for count in range(POLICY.hold_notice_every + 2):
        reply = respond(
            turn("is someone there?", handoff=True, handoff_reason="emergency", hold_notices=float(count)),
            "answer",
            svc,
        )
        text = text_of(reply)
        assert call_now in text and CLINIC.emergency_number in text
        assert "will reply here" not in text and "closed now" not in text  # no promise instead of urgent care
        assert safety.disclaimer() in text and reply.meta.disclaimer and reply.meta.handoff
        assert reply.slots["hold_notices"] == count + 1


def test_an_ordinary_hold_is_full_then_short():
    svc = services()
    texts = [
        text_of(
            respond(turn("any news?", handoff=True, handoff_reason="medicine", hold_notices=float(n)), "answer", svc)
        )
        for n in range(POLICY.hold_notice_every + 1)
    ]
    full, short = safety.hold(FACTS, promise=PROMISE), safety.hold_short(FACTS)
    assert texts == [full] + [short] * (POLICY.hold_notice_every - 1) + [full]
    assert all(safety.disclaimer() in t for t in texts)
    assert "If you have not yet called" not in full
