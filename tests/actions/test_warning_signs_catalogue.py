"""The reviewed catalogue is what the detector does: every rule's must-detect examples fire that
rule, every must-not-detect example fires nothing, and the red-flag corpus's training split is
fully caught by the rules alone (the held-out split is measured, not tuned, in docs/safety)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.safety import catalogue
from actions.safety.lint import lint_catalogue
from actions.safety.warning_signs import SIGN_IDS, detect_warning_signs

CAT = catalogue.load("warning_signs")
CORPUS = Path(__file__).resolve().parents[2] / "actions" / "safety" / "corpus"
EXAMPLES = [(rule.id, text) for rule in CAT.rules.values() for text in rule.must_detect]
COUNTER_EXAMPLES = [(rule.id, text) for rule in CAT.rules.values() for text in rule.must_not_detect]


def test_the_catalogue_defines_every_sign_with_review_metadata() -> None:
    assert tuple(CAT.rules) == SIGN_IDS
    for rule in CAT.rules.values():
        assert rule.label and rule.clinical_note and rule.reviewed.by and rule.reviewed.on, rule.id


@pytest.mark.parametrize(("rule_id", "text"), EXAMPLES, ids=lambda v: str(v)[:40])
def test_must_detect(rule_id: str, text: str) -> None:
    assert rule_id in {s.id for s in detect_warning_signs(text)}


@pytest.mark.parametrize(("rule_id", "text"), COUNTER_EXAMPLES, ids=lambda v: str(v)[:40])
def test_must_not_detect(rule_id: str, text: str) -> None:
    assert detect_warning_signs(text) == ()


def test_the_lint_passes_and_would_catch_a_broken_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [
        i
        for i in lint_catalogue("warning_signs", lambda t: {s.id for s in detect_warning_signs(t)})
        if i.level == "error"
    ] == []
    broken = [i for i in lint_catalogue("warning_signs", lambda t: set()) if i.level == "error"]
    assert len(broken) >= len(EXAMPLES)


def test_an_unknown_term_in_a_pattern_is_refused_at_load(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(
        "kind: x\nterms: {}\nrules:\n  - id: r\n    patterns: ['{no_such_term}']\n", encoding="utf-8"
    )
    with pytest.raises(catalogue.CatalogueError, match="unknown term"):
        catalogue.load("bad", tmp_path)


def _split(split: str, label: str) -> list[dict[str, str]]:
    rows = []
    for path in sorted((CORPUS / split).glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["label"] == label]


RULE_GAPS = frozenset(
    {
        "t3-em-en-0031", "t3-em-en-0043", "t3-em-en-0062", "t3-em-in-0018", "t3-em-in-0029",
        "t3-em-in-0041", "t3-em-in-0086", "t3-em-in-0096",
    }
)  # fmt: skip
"""Training emergencies the rules do not catch yet: 8 of the 240 written on 2026-12-02 (the `fresh3_`
files; the rules caught 184 of them when they were written and 232 after the classes they showed were
covered). They are left to the learned detector until a rule covers their class without false alarms;
the list may only shrink (docs/safety/safety-case.md)."""


def test_every_training_emergency_is_caught_by_the_rules() -> None:
    missed = {r["id"] for r in _split("train", "emergency") if not detect_warning_signs(r["text"])}
    assert missed <= RULE_GAPS, sorted(missed - RULE_GAPS)
    assert missed == RULE_GAPS, f"now caught by the rules, remove from RULE_GAPS: {sorted(RULE_GAPS - missed)}"


def test_false_alarms_on_the_training_general_messages_stay_under_two_percent() -> None:
    general = _split("train", "general")
    alarms = [r["id"] for r in general if detect_warning_signs(r["text"])]
    assert len(alarms) <= 0.02 * len(general), alarms


# The shared terms (`painkiller`, `vomit`, `many_times`) read the same words in every pattern that uses
# them: a painkiller named in English that does not help, vomiting with dizziness or counted in
# Hinglish. Kept here, not as catalogue examples, because those also train the learned detector.
TERM_CASES = [
    ("severe_pain", "crocin has not helped at all and the cheek is throbbing since the session"),
    ("severe_pain", "took two dolo tablets, no help, the jaw pain is climbing"),
    ("very_unwell", "she threw up and now she is so dizzy she cannot stand"),
    ("very_unwell", "ultiyan 4 baar ho chuki hain session ke baad"),
    ("very_unwell", "nine times he has been sick since the injections"),
    # "nothing happened" after a painkiller, in Hinglish, as "no effect" already was
    ("severe_pain", "combiflam khayi thi, kuch bhi nahi hua, gaal abhi bhi throb kar raha hai"),
    # a score out of ten: the score counts, not the ten it is out of
    ("severe_pain", "the pain in my jaw is 2/10 in the morning and 9/10 by night"),
]
TERM_COUNTER_CASES = [
    "is it ok to take crocin if it hurts after the session?",
    "ultimately I went 3 times to the clinic and the results were good",
    # asking whether a painkiller helps is not saying that it does not
    "does dolo not help with the sting during the session?",
    "will paracetamol not help with the sting during the session?",
    "kya paracetamol lene se kuch nahi hota sting me?",
    # a low score out of ten is not severe pain
    "day 3, a dull ache about 2/10, otherwise fine, when can I exercise?",
    "tenderness 1 out of 10 on the scalp, is a hair wash ok?",
]


# Hindi words that share their first letters with a sign word: the knee (घुटना, घुटनों) with
# suffocation (घुटन, "दम घुटना"), and the mother-in-law (सास, सासू माँ) with a misspelt breath (सास).
HOMOGRAPHS_LET_GO = [
    "मेरी दादी के घुटनों में सूजन रहती है, क्या वो मेसो करवा सकती हैं?",
    "घुटना मुड़ता नहीं है पुरानी चोट से, क्लिनिक में लिफ्ट है?",
    "सासू माँ को घुटनों की वजह से ज़्यादा चलने में दिक्कत होती है, पार्किंग पास में है?",
    "मेरी सास जी को सीढ़ियाँ चढ़ने में परेशानी है इसलिए नीचे वाला कमरा चाहिए",
]
HOMOGRAPHS_STAY = [
    ("breathing", "सेशन के बाद से सांस घुटने लगी है"),
    ("breathing", "अचानक घुटन सी हो रही है, हवा कम लग रही है"),
    ("breathing", "इंजेक्शन के बाद सास लेने में दिक्कत हो रही है"),
    ("breathing", "मम्मी का दम घुट रहा है"),
]


# Classes a red-team session found with no pattern at all (2026-12-03): the brain (a fit, not
# knowing where one is, not responding, coming round, one side of the face), a named reaction said
# as happening now, readings off a home monitor, vomiting counted by the clock, swelling by size.
# Examples are tests, not catalogue examples (those train the learned detector).
NEW_CLASSES_STAY = [
    ("very_unwell", "my dad is having a fit on the sofa, he had the scalp injections at noon"),
    ("very_unwell", "she keeps asking the same thing and does not know where she is"),
    ("very_unwell", "he's breathing but he won't respond to us"),
    ("very_unwell", "I just came round on the bathroom floor"),
    ("very_unwell", "the left side of her face has dropped and she can't lift her arm"),
    ("very_unwell", "I think I'm going into anaphylaxis, my whole body is tingling"),
    ("very_unwell", "her blood pressure is 78/45 on our home machine"),
    ("very_unwell", "he has been throwing up for 5 hours since the fat dissolving"),
    ("breathing", "the finger monitor shows oxygen 88 and she looks blue"),
    ("throat_swelling", "my top lip is three times its normal size"),
    # a blocked vessel without "turned": a colour with cold or numbness, blisters with a colour
    ("skin_colour", "the injected spot on my nose is cold and numb"),
    ("skin_colour", "my cheek is purple and icy since the session"),
    ("skin_colour", "little blisters coming up and the skin around them is dusky"),
    ("skin_colour", "gaal pe jahan injection laga wahan skin kaali aur thandi hai"),
    # headache, pain by comparison, a fit said as "fitting"
    ("severe_pain", "worst headache of my life since the scalp session"),
    ("severe_pain", "headache and my neck is stiff, had meso this morning"),
    ("severe_pain", "it hurts like hell where the jab went in"),
    ("very_unwell", "help, she is fitting on the floor"),
    # a relative relaying what they feel now, in Hinglish
    ("breathing", "mummy kehti hai unko saans nahi aa rahi theek se"),
    ("chest_pain", "didi kehti hai unke seene mein dard hai, kya karein?"),
]
NEW_CLASSES_LET_GO = [
    "I have epilepsy, my last seizure was in 2019. Can I still have meso?",
    "had a seizure 10 years ago, nothing since, is meso ok for me?",
    "how would I know if I'm having an allergic reaction after the session?",
    "my bp is 85/55 usually, is that a problem for meso?",
    "my BP is 85/55 normally, can I still book?",
    "she won't respond to my messages about the booking, can you call her?",
    "he didn't respond to the last course at all, is a different cocktail worth it?",
    "my mum didn't recognise me with the new hair, haha",
    "does the clinic keep an epipen on site?",
    "is an oxygen facial 90 minutes long?",
    "my hands are always cold and numb in winter, is meso ok?",
    "ice pack made it cold and numb for a bit",
    "the area was white and cold from the ice pack, fine now",
    "I get terrible headaches from stress, can meso cause headaches?",
    "the session hurt like hell but it was worth it, all fine now",
    "the dress is fitting well after the fat dissolving lol",
    "mummy kehti hai ki unko pichle saal chakkar aaya tha, kya meso safe hai?",
]


@pytest.mark.parametrize(
    ("rule_id", "text"), TERM_CASES + HOMOGRAPHS_STAY + NEW_CLASSES_STAY, ids=lambda v: str(v)[:40]
)
def test_the_sign_is_read(rule_id: str, text: str) -> None:
    """Shared terms in every pattern that uses them, the sign word beside its homographs, and the
    classes the red team found without a pattern."""
    assert rule_id in {s.id for s in detect_warning_signs(text)}


@pytest.mark.parametrize("text", TERM_COUNTER_CASES + HOMOGRAPHS_LET_GO + NEW_CLASSES_LET_GO, ids=lambda v: str(v)[:40])
def test_its_twin_is_not_an_emergency(text: str) -> None:
    """A shared term does not widen into other words, a word that only begins like a sign word is not
    the sign, and the red-team classes' twins stay calm."""
    assert detect_warning_signs(text) == ()
