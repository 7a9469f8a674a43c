"""The personal-medical catalogue (actions/safety/catalogue/personal_medical.yml) as reviewed data:
every rule's examples behave as the reviewer was told, every rule and guard is documented, and a
malformed file is refused instead of silently dropping a pattern."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions.safety import personal_medical as pm
from actions.safety.catalogue import CATALOGUE_DIR, CatalogueError, load
from actions.safety.personal_medical import CATALOGUE, GUARDS, REASONS, compile_rules, detect_personal_medical

sre_constants, sre_parse = pm.sre_constants, pm.sre_parse
RAW = yaml.safe_load((CATALOGUE_DIR / "personal_medical.yml").read_text(encoding="utf-8"))

REQUIRED_RULES = {
    "pregnancy",
    "medicine",
    "condition",
    "dosing",
    "diagnosis",
    "symptom_after_treatment",
    "is_this_normal",
    "treatment_choice",
    "self_injection",
    "product",
    "manipulation",
}

MUST_DETECT = [(rule.id, text) for rule in CATALOGUE.rules.values() for text in rule.must_detect]
MUST_NOT_DETECT = [(rule.id, text) for rule in CATALOGUE.rules.values() for text in rule.must_not_detect]


@pytest.mark.parametrize(("rule_id", "text"), MUST_DETECT, ids=lambda v: str(v)[:40])
def test_every_must_detect_example_is_detected_with_its_rule(rule_id: str, text: str) -> None:
    found = detect_personal_medical(text)
    assert found is not None, f"{rule_id}: not detected: {text!r}"
    assert found.reason == rule_id, f"{rule_id}: detected as {found.reason} ({found.matched!r}): {text!r}"


@pytest.mark.parametrize(("rule_id", "text"), MUST_NOT_DETECT, ids=lambda v: str(v)[:40])
def test_every_must_not_detect_example_is_not_detected(rule_id: str, text: str) -> None:
    found = detect_personal_medical(text)
    assert found is None, f"{rule_id}: {text!r} detected as {found.reason} ({found.matched!r})"


def test_the_catalogue_has_every_required_rule_in_order() -> None:
    assert set(REASONS) == REQUIRED_RULES
    assert tuple(CATALOGUE.rules) == REASONS
    # Self-injection first (its reply warns against injecting), manipulation last (a clinical
    # reason names what the person actually asked).
    assert REASONS[0] == "self_injection" and REASONS[-1] == "manipulation"


@pytest.mark.parametrize("rule_id", sorted(REQUIRED_RULES))
def test_every_rule_is_documented_and_reviewed(rule_id: str) -> None:
    rule = CATALOGUE.rules[rule_id]
    assert 0 < len(rule.label) <= 60 and len(rule.clinical_note) > 60  # labels are shown to staff
    assert len(rule.must_detect) >= 3 and len(rule.must_not_detect) >= 2
    assert rule.reviewed.by and re.fullmatch(r"\d{4}-\d{2}-\d{2}", rule.reviewed.on)


def test_every_guard_is_documented_and_used() -> None:
    used = {name for raw in RAW["rules"] for group in raw.get("guarded") or [] for name in group["rejects"]}
    assert set(GUARDS) == used, f"unused guards: {set(GUARDS) - used}"
    assert all(len(guard.note) > 40 for guard in GUARDS.values())


def test_every_term_is_documented_and_used() -> None:
    templates = _all_templates()
    for name, spec in RAW["terms"].items():
        assert isinstance(spec, dict) and spec.get("note"), name
        assert any("{" + name + "}" in t for t in templates), f"term {name} is not used"


def test_the_catalogue_is_of_a_reviewable_size() -> None:
    patterns = sum(len(r.get("patterns") or []) + len(r.get("devanagari") or []) for r in RAW["rules"])
    patterns += sum(
        len(g.get("patterns") or []) + len(g.get("devanagari") or [])
        for r in RAW["rules"]
        for g in r.get("guarded") or []
    )
    assert 150 <= patterns <= 400, patterns
    assert len(RAW["terms"]) <= 60


DEVANAGARI = re.compile("[\u0900-\u097f]")


def _all_templates() -> list[str]:
    out: list[str] = []
    for spec in RAW["terms"].values():
        out += spec["match"]
    for spec in RAW["guards"].values():
        out += [v for k, v in spec.items() if k in ("before", "after", "message_has", "message_lacks")]
    for raw in RAW["rules"]:
        out += (raw.get("patterns") or []) + (raw.get("devanagari") or [])
        for group in raw.get("guarded") or []:
            out += (group.get("patterns") or []) + (group.get("devanagari") or [])
    return out


def test_devanagari_patterns_are_written_as_the_normaliser_writes_text() -> None:
    """Messages are normalised without nukta and with anusvara for candrabindu ("हूँ" -> "हूं"), and
    NFKC decomposes the precomposed nukta letters: a pattern spelt otherwise could never match."""
    bad = [
        t
        for t in _all_templates()
        if DEVANAGARI.search(t)
        and ("\u093c" in unicodedata.normalize("NFKC", t) or "\u0901" in t or re.search("[\u0958-\u095f]", t))
    ]
    assert not bad


def _unbounded_inside_unbounded(items: Any, inside: bool = False) -> bool:
    for op, av in items:
        children: list[Any] = []
        nested = inside
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            unbounded = av[1] == sre_constants.MAXREPEAT
            if unbounded and inside:
                return True
            children, nested = [av[2]], inside or unbounded
        elif op is sre_constants.SUBPATTERN:
            children = [av[-1]]
        elif op is sre_constants.BRANCH:
            children = list(av[1])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            children = [av[1]]
        if any(_unbounded_inside_unbounded(child, nested) for child in children):
            return True
    return False


def test_no_pattern_nests_an_unbounded_repeat_inside_another() -> None:
    """The shape that makes a regex take exponential or polynomial time on a long message."""
    nested = [
        check.pattern.pattern[:80]
        for rule in pm._RULES
        for check in rule.checks
        if _unbounded_inside_unbounded(sre_parse.parse(check.pattern.pattern))
    ]
    nested += [
        name
        for name, guard in GUARDS.items()
        for p in (guard.before, guard.after, guard.message_has, guard.message_lacks)
        if p is not None and _unbounded_inside_unbounded(sre_parse.parse(p.pattern))
    ]
    assert not nested


# --- a malformed catalogue is refused ----------------------------------------------------------


def _broken(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load((CATALOGUE_DIR / "personal_medical.yml").read_text(encoding="utf-8"))
    edit(data)
    directory = tmp_path / "catalogue"
    directory.mkdir()
    (directory / "personal_medical.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in data["rules"] if r["id"] == rule_id)


BROKEN = {
    "unknown guard": lambda d: _rule(d, "medicine")["guarded"][0]["rejects"].append("modal_befor"),
    "misspelt key": lambda d: _rule(d, "medicine").update(gaurded=_rule(d, "medicine").pop("guarded")),
    "unknown group key": lambda d: _rule(d, "medicine")["guarded"][0].update(pattern=["x"]),
    "guard without note": lambda d: d["guards"]["modal_before"].pop("note"),
    "guard mixing kinds": lambda d: d["guards"]["modal_before"].update(message_has="x"),
    "unknown term": lambda d: _rule(d, "medicine")["patterns"].append("{medd}"),
    "bad regex": lambda d: _rule(d, "condition")["guarded"][0]["patterns"].append("(unclosed"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_malformed_catalogue_is_refused(tmp_path: Path, name: str) -> None:
    directory = _broken(tmp_path, BROKEN[name])
    with pytest.raises(CatalogueError):
        compile_rules(load("personal_medical", directory))


def test_the_shipped_catalogue_compiles_from_a_copy(tmp_path: Path) -> None:
    """The control for the test above: an unedited copy compiles to the same rules."""
    directory = tmp_path / "catalogue"
    directory.mkdir()
    shutil.copy(CATALOGUE_DIR / "personal_medical.yml", directory / "personal_medical.yml")
    rules = compile_rules(load("personal_medical", directory))
    assert tuple(r.id for r in rules) == REASONS
    assert [len(r.checks) for r in rules] == [len(r.checks) for r in pm._RULES]


# Found by red-teaming the whole routing (2026-12-03): a named medicine outside the "I take / my X /
# on X" frame, and the Hinglish "may I take, skip or stop it". Tests, not catalogue examples (those
# train the learned detector).
MEDICINE_NAMED = [
    "Glimepiride 2 mg every morning. Can I get the scalp injections?",
    "Shelcal, Neurobion and Evion I take, any issue with face meso?",
    "taking januvia and thyrox, booked meso for saturday",
    "sir me dard hai session ke baad, crocin le lu kya?",
    "Telma ki goli session wale din band kar du?",
    "aaj subah combiflam li thi, shaam ko meso karwa sakti hu?",
]
MEDICINE_GENERAL = [
    "which painkiller can I take after the session?",
    "how much paracetamol should I take after meso?",
    "medicine band karna padega kya meso se pehle?",
    "dard ki goli le sakte hain kya meso ke baad?",
    "should aspirin be avoided before a session?",
]


@pytest.mark.parametrize("text", MEDICINE_NAMED, ids=lambda v: v[:30])
def test_a_named_medicine_the_writer_takes_goes_to_a_clinician(text: str) -> None:
    found = detect_personal_medical(text)
    assert found is not None and found.reason == "medicine"


@pytest.mark.parametrize("text", MEDICINE_GENERAL, ids=lambda v: v[:30])
def test_a_general_medicine_question_is_not_read_as_one(text: str) -> None:
    found = detect_personal_medical(text)
    assert found is None or found.reason != "medicine"


# The rest of that report's personal questions answered, one class each (reason expected).
MORE_PERSONAL = [
    ("dosing", "how much lipolytic solution would my belly need per session?"),
    ("self_injection", "amazon se meso kit mangwaya, khud scalp pe kaise lagau?"),
    ("condition", "thyriod patient, 41, can I get the face meso?"),
    ("product", "koi achhi cream batao mere dry skin ke liye session ke baad"),
]
MORE_GENERAL = [
    "how much time does one session take?",
    "meso ke baad kaunsa sunscreen accha hai?",
    "koi achha sunscreen batao general mein",
]


@pytest.mark.parametrize(("reason", "text"), MORE_PERSONAL, ids=lambda v: str(v)[:30])
def test_more_personal_questions_from_red_teaming_go_to_a_clinician(reason: str, text: str) -> None:
    found = detect_personal_medical(text)
    assert found is not None and found.reason == reason


@pytest.mark.parametrize("text", MORE_GENERAL, ids=lambda v: v[:30])
def test_their_general_twins_stay_general(text: str) -> None:
    assert detect_personal_medical(text) is None
