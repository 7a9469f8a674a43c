"""The rule-based personal-medical detector: questions about one person's body, medicines or choices
go to a clinician; general FAQ questions do not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.safety.personal_medical import REASONS, PersonalMedical, detect_personal_medical

PASSAGES = Path(__file__).resolve().parents[2] / "knowledge" / "passages"

GENERAL_PASS_RATE = 0.97
"""Share of general FAQ variants (outside contraindications) that must not be flagged as personal."""

POSITIVES: list[tuple[str, str]] = [
    # pregnancy, in any framing
    ("I am pregnant, can I still get meso?", "pregnancy"),
    ("is mesotherapy ok during pregnancy", "pregnancy"),
    ("can pregnant women have the face injections", "pregnancy"),
    ("i'm breastfeeding my 4 month old", "pregnancy"),
    ("currently nursing, is hair meso fine", "pregnancy"),
    ("we are trying to conceive next year", "pregnancy"),
    ("i am expecting a baby in june", "pregnancy"),
    ("main pregnant hoon, meso karwa sakti hoon?", "pregnancy"),
    ("garbhvati mahila meso karwa sakti hai kya", "pregnancy"),
    ("I'm 3 months postpartum and want to start", "pregnancy"),
    ("PREGNANT. SAFE??", "pregnancy"),
    ("मैं गर्भवती हूँ, क्या मेसोथेरेपी करवा सकती हूँ?", "pregnancy"),
    # medicines
    ("I take blood thinners", "medicine"),
    ("i'm on warfarin", "medicine"),
    ("I am on aspirin daily", "medicine"),
    ("im on isotretinoin for acne right now", "medicine"),
    ("I finished accutane last month", "medicine"),
    ("i am taking steroids for my asthma", "medicine"),
    ("i take insulin twice a day", "medicine"),
    ("i'm on metformin", "medicine"),
    ("I take thyroid medicine every morning", "medicine"),
    ("I'm currently on antibiotics for a tooth", "medicine"),
    ("I take antidepressants, does that matter", "medicine"),
    ("i'm on the birth control pill", "medicine"),
    ("mai blood thinner leti hoon", "medicine"),
    ("मैं खून पतला करने की दवा लेती हूँ", "medicine"),
    ("should I stop my aspirin before the session", "medicine"),
    ("can I skip my blood pressure tablets that day", "medicine"),
    ("my dermatologist prescribed me roaccutane", "medicine"),
    ("my husband is on blood thinners, can he get it done", "medicine"),
    # conditions
    ("I have diabetes", "condition"),
    ("i am diabetic, is it safe", "condition"),
    ("I have rheumatoid arthritis", "condition"),
    ("i suffer from psoriasis on my scalp", "condition"),
    ("I've got lupus", "condition"),
    ("is mesotherapy safe for diabetics?", "condition"),
    ("is it safe for people with epilepsy", "condition"),
    ("I'm allergic to lidocaine", "condition"),
    ("I have a pacemaker", "condition"),
    ("i have high blood pressure", "condition"),
    ("i had chemotherapy last year", "condition"),
    ("I get cold sores a lot", "condition"),
    ("with hepatitis can i get mesotherapy", "condition"),
    ("mujhe sugar hai, meso ho sakta hai?", "condition"),
    ("मुझे डायबिटीज़ है", "condition"),
    ("I have PCOS and hair thinning", "condition"),
    ("my thyroid is not under control", "condition"),
    ("i have keloids, is face meso risky for me", "condition"),
    ("I have a bleeding disorder", "condition"),
    ("had surgery on my knee 2 weeks ago, can I come", "condition"),
    ("I have an active infection on my cheek", "condition"),
    ("meso for my mother who has diabetes", "condition"),
    # symptoms after the person's own treatment
    ("the bumps left by my session 10 days ago still hurt a lot", "symptom_after_treatment"),
    ("my face is still swollen 5 days after", "symptom_after_treatment"),
    ("I have bruises since my treatment, what should I do", "symptom_after_treatment"),
    ("I got a rash after my mesotherapy", "symptom_after_treatment"),
    ("itching after my session won't stop", "symptom_after_treatment"),
    ("meso ke baad mere face pe daane aa gaye", "symptom_after_treatment"),
    ("my scalp has been sore since the injections 3 days ago", "symptom_after_treatment"),
    ("i noticed small hard bumps after my treatment", "symptom_after_treatment"),
    # is this normal
    ("is this normal?", "is_this_normal"),
    ("is that normal", "is_this_normal"),
    ("should I be worried", "is_this_normal"),
    ("should I be concerned about it", "is_this_normal"),
    ("is it normal that my cheek feels numb", "is_this_normal"),
    ("kya yeh normal hai", "is_this_normal"),
    # dosing
    ("which pain killer can i take tonight", "dosing"),
    ("what cream should I apply on the bumps", "dosing"),
    ("how many mg of ibuprofen is ok", "dosing"),
    ("what dosage is right for me", "dosing"),
    ("how much paracetamol should I take", "dosing"),
    ("kaunsi dawai lu", "dosing"),
    # treatment choice
    ("which treatment is best for me", "treatment_choice"),
    ("what should I get for my skin", "treatment_choice"),
    ("do I need mesotherapy or botox", "treatment_choice"),
    ("am I a good candidate", "treatment_choice"),
    ("is mesotherapy right for me", "treatment_choice"),
    ("is meso suitable for me?", "treatment_choice"),
    ("mere liye kaunsa treatment sahi hai", "treatment_choice"),
    # diagnosis
    ("tell me whats gone wrong with my cheek", "diagnosis"),
    ("what is this rash", "diagnosis"),
    ("do I have an infection", "diagnosis"),
    ("can you tell me what this is", "diagnosis"),
    ("can you diagnose it from a photo", "diagnosis"),
]

NEGATIVES: list[str] = [
    "could I take a painkiller on the morning of my session?",
    "Should I avoid aspirin before the treatment?",
    "Does the cocktail contain medicines?",
    "is minoxidil used in hair mesotherapy?",
    "I have melasma, will it help?",
    "i have hair fall, will meso help",
    "i have acne scars on my cheeks",
    "i have cellulite on my thighs",
    "i have stretch marks after pregnancy",
    "i have a double chin",
    "i have dark circles and dull skin",
    "my skin is dull, will meso help",
    "I have a wedding next month, when should I start?",
    "i have a question about keloid treatment",
    "do people usually bruise from meso injections?",
    "How long does swelling last after mesotherapy?",
    "Is redness normal after mesotherapy?",
    "What is the difference between mesotherapy and Botox?",
    "Which is better for fat, mesotherapy or liposuction?",
    "which type of patient is meso meant for",
    "how many sessions do I need",
    "explain what meso actually involves",
    "can mesotherapy cause cancer?",
    "what medicines are in the cocktail",
    "how often should I use sunscreen after",
    "what cream is used for numbing",
    "how many days off work will i need",
    "price for the full course?",
    "no result after 2 sessions, is that normal?",
    "what should i tell the doctor about my medicines",
    "will my face get red",
    "can i massage my face after the session",
    "does meso work for pigmentation",
    "is mesotherapy safe",
    "what are the side effects",
    "can meso be done on dark skin",
    "is it painful",
    "",
]


def _kb_variants() -> list[tuple[str, str, str, str]]:
    variants = []
    for path in sorted(PASSAGES.glob("**/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for q in data.get("questions") or []:
            variants.append((data["id"], data["topic"], data["audience_safety"], q))
    return variants


def test_there_are_enough_positive_cases_for_every_reason() -> None:
    assert len(POSITIVES) >= 40
    per_reason = {r: sum(1 for _, reason in POSITIVES if reason == r) for r in REASONS}
    assert all(n >= 4 for n in per_reason.values()), per_reason


@pytest.mark.parametrize(("text", "reason"), POSITIVES, ids=lambda v: str(v)[:40])
def test_personal_medical_question_is_detected(text: str, reason: str) -> None:
    found = detect_personal_medical(text)
    assert found is not None, text
    assert found.reason == reason, found


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda v: v[:40] or "empty")
def test_general_question_is_not_personal(text: str) -> None:
    assert detect_personal_medical(text) is None


def test_general_knowledge_base_questions_are_not_personal() -> None:
    general = [
        (pid, q) for pid, topic, safety, q in _kb_variants() if safety == "general" and topic != "contraindications"
    ]
    assert len(general) > 500
    fired = [(pid, q, detect_personal_medical(q)) for pid, q in general]
    fired = [(pid, q, f) for pid, q, f in fired if f is not None]
    rate = 1 - len(fired) / len(general)
    report = "\n".join(f"  {pid}: {q!r} -> {f.reason} ({f.matched!r})" for pid, q, f in fired)
    print(f"{len(fired)} of {len(general)} general variants flagged as personal:\n{report}")
    assert rate >= GENERAL_PASS_RATE, f"only {rate:.1%} pass; flagged:\n{report}"


def test_personal_phrasings_in_the_contraindications_passages_are_caught() -> None:
    """The contraindications passages mix general wording ("who should not get mesotherapy",
    "warfarin and meso therapy") with personal wording; pregnancy is personal in every framing."""
    variants = [(pid, q) for pid, topic, _, q in _kb_variants() if topic == "contraindications"]
    pregnancy = [q for pid, q in variants if pid == "contraindications-02"]
    assert pregnancy
    assert all(detect_personal_medical(q) is not None for q in pregnancy)
    personal = [q for _, q in variants if q.startswith(("i have", "i take", "should i stop my", "can i do"))]
    assert personal
    assert all(detect_personal_medical(q) is not None for q in personal), personal


def test_result_shape() -> None:
    found = detect_personal_medical("I\u2019m on WARFARIN")
    assert isinstance(found, PersonalMedical)
    assert found.reason in REASONS
    assert found.matched == "i am on warfarin"
    with pytest.raises(AttributeError):
        found.reason = "other"  # type: ignore[misc]


def test_the_first_reason_in_order_wins() -> None:
    found = detect_personal_medical("I'm pregnant and on aspirin, is this normal?")
    assert found is not None and found.reason == "pregnancy"


ODD_INPUTS = [
    None,
    123,
    4.5,
    b"i am pregnant",
    {"text": "i am pregnant"},
    "",
    " ",
    "\n\t  \r\n",
    "😀😀😀",
    "x" * 10_000,
    "मेसोथेरेपी के बाद क्या करें",
    "\x00\x01\x02\x1b[31m\x7f",
    "\u200b\u200d\ufeff",
]


@pytest.mark.parametrize("value", ODD_INPUTS, ids=lambda v: repr(v)[:30])
def test_odd_input_never_raises(value: object) -> None:
    assert detect_personal_medical(value) is None  # type: ignore[arg-type]


ADVERSARIAL = [
    "a " * 5000,
    "my " * 3300,
    "i have " * 1400,
    "i am on my " * 900,
    "which what how much " * 500,
    "after my session " * 600,
    "swollen red lumps " * 600,
    "pregnant " * 1100,
    "is it normal that my " * 500,
    ("lorem ipsum " * 900) + "i am pregnant",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda v: v[:20])
def test_long_and_repetitive_input_is_handled(text: str) -> None:
    # Speed is measured in the benchmark (scripts/bench_turns.py), not asserted here.
    detect_personal_medical(text)
