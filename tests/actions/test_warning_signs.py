"""The rule-based warning-sign detector: emergencies in many phrasings are caught, FAQ wording is not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.safety.warning_signs import SIGN_IDS, SIGN_LABELS, WarningSign, detect_warning_signs

PASSAGES = Path(__file__).resolve().parents[2] / "knowledge" / "passages"

FILLER = (
    "Last month I booked a consultation at the clinic near my office and the receptionist was very kind. "
    "We talked about the cost of the sessions, the parking, the opening hours and the products they use. "
    "My sister came along because she is thinking about a facial for her wedding in December. "
)
"""Ordinary chatter used to bury a sign in a long message; on its own it must not fire."""


def _long(sign: str, total: int = 2000) -> str:
    half = (FILLER * (total // len(FILLER) + 1))[: total // 2]
    return f"{half} {sign}. {half}"


POSITIVES: list[tuple[str, str]] = [
    # breathing
    ("I cant breathe", "breathing"),
    ("cant breathe help", "breathing"),
    ("i can't breathe properly since the injections", "breathing"),
    ("its hard to breathe since the session", "breathing"),
    ("having difficulty breathing right now", "breathing"),
    ("I'm short of breath after my treatment", "breathing"),
    ("feeling breathless, my meso was 30 min ago", "breathing"),
    ("my daughter is wheezing after her session", "breathing"),
    ("gasping for air!!!", "breathing"),
    ("CANT BREATHE", "breathing"),
    ("i cnt brethe properly", "breathing"),
    ("trouble breathing 😰😰", "breathing"),
    ("breathing is getting really difficult", "breathing"),
    ("I'm unable to breathe", "breathing"),
    ("not able to breath properly after the jab", "breathing"),
    ("saans nahi aa rahi", "breathing"),
    ("mujhe saans lene mein dikkat ho rahi hai", "breathing"),
    ("saans lene me taklif ho rahi hai meso ke baad", "breathing"),
    ("meri sans phool rahi hai", "breathing"),
    ("I feel like I'm choking", "breathing"),
    # throat / tongue / lips
    ("my throat is swelling", "throat_swelling"),
    ("throat feels like its closing up", "throat_swelling"),
    ("my tongue is swollen and feels thick", "throat_swelling"),
    ("face and tongue are swelling", "throat_swelling"),
    ("my lips are swelling up really fast", "throat_swelling"),
    ("swelling in my throat and it hurts to swallow", "throat_swelling"),
    ("THROAT CLOSING", "throat_swelling"),
    ("tongue swelling up help", "throat_swelling"),
    ("gala sooj gaya hai", "throat_swelling"),
    ("jeebh mein sujan aa gayi hai", "throat_swelling"),
    ("mere hont sooj gaye", "throat_swelling"),
    ("i have trouble swallowing since the injection", "throat_swelling"),
    # hives
    ("i have hives all over my body", "hives"),
    ("rash spreading everywhere after the injection", "hives"),
    ("covered in hives and so itchy", "hives"),
    ("red bumps all over the body since the session", "hives"),
    ("my whole body has broken out in welts", "hives"),
    ("poore body pe daane ho gaye", "hives"),
    # fainting
    ("I fainted after the injections", "fainting"),
    ("i feel faint", "fainting"),
    ("she passed out in the clinic chair", "fainting"),
    ("i'm very dizzy and sweating", "fainting"),
    ("feeling so dizzy i cant stand", "fainting"),
    ("my friend collapsed after her meso", "fainting"),
    ("he is unconscious", "fainting"),
    ("chakkar aa raha hai", "fainting"),
    ("mujhe chakkar aa rahe hai", "fainting"),
    ("wo behosh ho gayi", "fainting"),
    ("i think im going to pass out", "fainting"),
    # chest
    ("chest pain after the session", "chest_pain"),
    ("my chest feels tight", "chest_pain"),
    ("pain in my chest and left arm", "chest_pain"),
    ("seene mein dard ho raha hai", "chest_pain"),
    ("my heart is racing and i feel dizzy", "chest_pain"),
    ("tightness in the chest since this morning", "chest_pain"),
    # skin colour
    ("the skin around the injection turned white", "skin_colour"),
    ("the area went grey", "skin_colour"),
    ("my skin is turning blue near the injection site", "skin_colour"),
    ("the spot turned white and purple", "skin_colour"),
    ("skin looks mottled and dusky", "skin_colour"),
    ("blanching around where they injected", "skin_colour"),
    ("the area is going black", "skin_colour"),
    ("my lips are blue", "skin_colour"),
    ("injection wali jagah neeli pad gayi", "skin_colour"),
    ("why did my cheek turn dark purple", "skin_colour"),
    # vision
    ("my vision is blurry", "vision"),
    ("blurred vision after the under eye injection", "vision"),
    ("i have double vision", "vision"),
    ("i can't see properly from my left eye", "vision"),
    ("loss of vision in one eye", "vision"),
    ("there is a blind spot in my eye", "vision"),
    ("dhundhla dikh raha hai", "vision"),
    ("aankh se kam dikh raha hai", "vision"),
    # infection
    ("high fever and the area is red and hot", "infection"),
    ("pus coming out and it keeps swelling more", "infection"),
    ("red streaks going up from the injection site", "infection"),
    ("bukhar hai aur jagah lal ho gayi", "infection"),
    ("pas aa raha hai aur bukhar bhi hai", "infection"),
    ("fever and the redness is spreading", "infection"),
    ("mavad nikal raha hai aur sujan hai", "infection"),
    # severe pain
    ("severe pain at the injection site", "severe_pain"),
    ("the pain is unbearable", "severe_pain"),
    ("excruciating pain in my cheek", "severe_pain"),
    ("pain getting worse and worse", "severe_pain"),
    ("bahut tez dard ho raha hai", "severe_pain"),
    ("it hurts so much i can't sleep", "severe_pain"),
    ("PAIN IS GETTING WORSE", "severe_pain"),
    # feeling very unwell, in the patient's own words
    ("i feel really unwell since the vitamin injections", "very_unwell"),
    ("something is seriously wrong, please help", "very_unwell"),
    ("my mum says she feels like she is dying", "very_unwell"),
    ("meso ke baad tabiyat bahut kharab hai", "very_unwell"),
    ("मेसो के बाद से तबीयत बहुत खराब है", "very_unwell"),
    # framings that override the general-question exception
    ("can mesotherapy cause this? my throat is swelling", "throat_swelling"),
    ("Is it normal that I can't breathe properly?", "breathing"),
    ("what to do, cant breathe", "breathing"),
    ("help my face and tongue are swelling what do i do", "throat_swelling"),
    ("😭😭 cant breathe 😭", "breathing"),
    ("i  cant\tbreathe\n\nplease", "breathing"),
    ("I can\u2019t breathe", "breathing"),
    ("ＣＡＮＴ ＢＲＥＡＴＨＥ", "breathing"),
    ("i never had trouble breathing before but now i cannot breathe", "breathing"),
    # the guards against cosmetic or hypothetical wording must not hide a real sign
    ("swollen face and cant breathe", "breathing"),
    ("rash on my skin cant breathe", "breathing"),
    ("after hair meso the skin turned white", "skin_colour"),
    ("can you help, my skin turned white", "skin_colour"),
    ("is my skin turning blue?", "skin_colour"),
    ("I am worried because my mother fainted", "fainting"),
    ("Quick question: is it normal that the area went grey after the filler", "skin_colour"),
    # Devanagari
    ("मुझे साँस लेने में दिक्कत हो रही है", "breathing"),
    ("मेरा गला सूज गया है", "throat_swelling"),
    ("चक्कर आ रहा है और कमजोरी है", "fainting"),
    ("सीने में दर्द हो रहा है", "chest_pain"),
    ("बहुत तेज़ दर्द हो रहा है", "severe_pain"),
    ("आँखों से धुंधला दिख रहा है", "vision"),
    ("बुख़ार है और जगह लाल हो गई", "infection"),
    ("पूरे शरीर पर दाने हो गए", "hives"),
    ("इंजेक्शन की जगह की त्वचा नीली पड़ गई", "skin_colour"),
]

LONG_POSITIVES: list[tuple[str, str]] = [
    (_long("oh and by the way right now my throat feels tight and closing"), "throat_swelling"),
    (_long("also i fainted in the car"), "fainting"),
    (_long("since an hour i cant breathe properly"), "breathing"),
    (_long("my vision went blurry in one eye"), "vision"),
]

NEGATIVES: list[str] = [
    "do people usually bruise from meso injections?",
    "How long does the swelling last?",
    "how much downtime should be planned for",
    "my skin is a bit red after the session",
    "it stings a bit",
    "do the injections hurt much",
    "are meso injections painful for most people",
    "any side effects to know of",
    "can I use a sheet mask",
    "can the injections fade my brown spots?",
    "meso for dark circles under my eyes",
    "skin whitening injections price",
    "will I get a glow after the first session",
    "fat dissolving injections for my chin",
    "my hair fall is very bad",
    "let the skin breathe after the session",
    "my skin needs to breathe, can i skip makeup",
    "Can mesotherapy cause difficulty breathing?",
    "What are the warning signs of an allergic reaction like throat swelling?",
    "Is fainting a known risk of mesotherapy?",
    "Can it cause infection with pus?",
    "kya meso se saans phool sakti hai?",
    "Can meso cause chest pain or shortness of breath?",
    "does mesotherapy ever cause blurred vision",
    "kya meso se chakkar aa sakte hai",
    "How common is severe pain after mesotherapy?",
    "is hives all over the body a known reaction",
    "Is it possible to faint during the procedure?",
    "can the lips swell up after face meso?",
    "mesotherapy can cause difficulty breathing?",
    "what are the signs of an infection, like pus and fever?",
    "Is it normal to feel dizzy after mesotherapy?",
    "does the pain get worse after a few days?",
    "no trouble breathing, just a little red",
    "i have no difficulty breathing but my face is a bit swollen",
    "my face is still swollen 5 days after",
    "I have bruises since my treatment, what should I do",
    "my bruise turned purple and then yellow",
    "black and blue marks after the session",
    "will my skin turn dark in the sun after meso?",
    "i want my skin to become white and glowing",
    "will my face turn red",
    "i cant see any difference after 3 sessions",
    "results nahi dikh rahe, fark nahi dikh raha",
    "any double blind studies on meso?",
    "I faint at the sight of needles, is meso ok for me?",
    "my arm went black and blue",
    "i want my skin to turn white",
    "my dark spots have turned darker",
    "does the skin go white after injection",
    "im scared of fainting during the injections",
    "I tend to pass out with injections, can you numb the area first",
    "क्या मेसोथेरेपी से सांस लेने में दिक्कत हो सकती है?",
    "मेसोथेरेपी क्या है",
    "दर्द होता है क्या",
    "i have severe acne and pigmentation",
    "is it safe for dark skin",
    "i have a very high pain tolerance",
    "can i take a pain killer before the session",
    "mesotherapy for chest fat",
    "skin feels tight after the session",
    "my lips look dry",
    "is air travel fine the day after a meso session",
    "clinic ke chakkar kitni baar lagane padenge",
    "I have a fever today, can I still come for my session tomorrow?",
    "dusky skin ke liye meso theek hai?",
    "can i breathe normally during the procedure",
    "glutathione injection for fair skin",
    "mild swelling and redness, how long will it last",
    FILLER,
]


def _kb_variants() -> list[tuple[str, str]]:
    variants = []
    for path in sorted(PASSAGES.glob("**/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        variants += [(data["id"], q) for q in data.get("questions") or []]
    return variants


KB_EMERGENCY_VARIANTS = {
    # risks-03 ("when to worry") lists warning signs as patients type them. Typed on their own, with
    # no question word, each one reads as a patient reporting the sign, and a missed emergency is worse
    # than an emergency reply to someone who was only asking, so the detector is meant to fire here.
    "skin turning white after injection",
    "difficulty breathing after mesotherapy",
    "lips swelling after meso",
    "redness spreading and fever after injections",
    "skin going pale or grey after mesothrapy",
    "hives after the injections",
}


def test_there_are_enough_positive_cases_for_every_sign() -> None:
    assert len(POSITIVES) + len(LONG_POSITIVES) >= 60
    per_id = {sign: sum(1 for _, s in POSITIVES if s == sign) for sign in SIGN_IDS}
    assert all(n >= 4 for n in per_id.values()), per_id


@pytest.mark.parametrize(("text", "sign"), POSITIVES + LONG_POSITIVES, ids=lambda v: str(v)[:40])
def test_warning_sign_is_detected(text: str, sign: str) -> None:
    found = detect_warning_signs(text)
    assert sign in [s.id for s in found], found


@pytest.mark.parametrize("text", NEGATIVES, ids=lambda v: v[:40])
def test_no_warning_sign_in_ordinary_questions(text: str) -> None:
    assert detect_warning_signs(text) == ()


def test_filler_buries_the_sign_in_a_long_message() -> None:
    text = LONG_POSITIVES[0][0]
    assert len(text) >= 2000
    assert detect_warning_signs(FILLER * 5) == ()


def test_no_warning_sign_in_any_knowledge_base_question() -> None:
    variants = _kb_variants()
    assert len(variants) > 500
    fired = [
        f"{pid}: {q!r} -> {[s.id for s in detect_warning_signs(q)]}"
        for pid, q in variants
        if q not in KB_EMERGENCY_VARIANTS and detect_warning_signs(q)
    ]
    assert not fired, "\n".join(fired)


def test_the_allow_listed_variants_are_real_and_still_detected() -> None:
    questions = {q for _, q in _kb_variants()}
    for q in KB_EMERGENCY_VARIANTS:
        assert q in questions, f"no longer in the knowledge base, drop it from the allow-list: {q!r}"
        assert detect_warning_signs(q), q


def test_result_shape_one_entry_per_id_in_text_order() -> None:
    text = "I fainted, then my vision went blurry, now I can't breathe and I feel faint again"
    found = detect_warning_signs(text)
    assert isinstance(found, tuple)
    assert [s.id for s in found] == ["fainting", "vision", "breathing"]
    for s in found:
        assert isinstance(s, WarningSign)
        assert s.label == SIGN_LABELS[s.id]
        assert s.matched and s.matched in text.lower().replace("can't", "cannot")
    with pytest.raises(AttributeError):
        found[0].id = "other"  # type: ignore[misc]


def test_every_id_has_a_short_label() -> None:
    assert set(SIGN_IDS) == {
        "breathing",
        "throat_swelling",
        "hives",
        "fainting",
        "chest_pain",
        "skin_colour",
        "vision",
        "infection",
        "severe_pain",
        "very_unwell",
    }
    assert all(0 < len(label) <= 60 for label in SIGN_LABELS.values())


def test_palpitations_alone_are_not_a_sign_but_count_with_others() -> None:
    assert detect_warning_signs("my heart is racing, i am so excited about my results") == ()
    found = detect_warning_signs("my heart is racing and i cant breathe")
    assert {s.id for s in found} == {"chest_pain", "breathing"}


ODD_INPUTS = [
    None,
    123,
    4.5,
    b"cant breathe",
    ["cant breathe"],
    "",
    " ",
    "\n\t  \r\n",
    "😀😀😀",
    "?!?!...",
    "x" * 10_000,
    "मेसोथेरेपी के बाद क्या करें",
    "\x00\x01\x02\x1b[31m\x7f",
    "\u200b\u200d\ufeff",
]


@pytest.mark.parametrize("value", ODD_INPUTS, ids=lambda v: repr(v)[:30])
def test_odd_input_never_raises(value: object) -> None:
    assert detect_warning_signs(value) == ()  # type: ignore[arg-type]


def test_control_characters_are_dropped_not_fatal() -> None:
    assert [s.id for s in detect_warning_signs("i cant\x00 breathe\x07")] == ["breathing"]


ADVERSARIAL = [
    "a " * 5000,
    "my " * 3300,
    "swelling " * 1100,
    "fever red " * 1000,
    "pus swelling " * 800,
    "i have " * 1400,
    "cannot " * 1400,
    "throat " * 1400,
    "pain pain severe " * 600,
    "turned " * 1400,
    "all over " * 1200,
    ("lorem ipsum " * 900) + "cant breathe",
    "w" + "e" * 9999,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda v: v[:20])
def test_long_and_repetitive_input_is_handled(text: str) -> None:
    # Speed is measured in the benchmark (scripts/bench_turns.py), not asserted here.
    detect_warning_signs(text)
