"""Rule-based detection of personal medical questions, which go to a clinician, not to the FAQ.

A question is personal when its answer depends on the person asking: pregnancy or breastfeeding
(in any framing, since the answer always depends on the person), medicines they take or want to
stop, a medical condition they have or ask about for safety, something happening to their body
after their treatment, "is this normal?", which medicine or dose to take, which treatment suits
them, or what is wrong with them.

General questions stay with the FAQ (do people bruise from meso, should aspirin be avoided before a
session, what kind of patient is it meant for), and so do the cosmetic concerns the
treatment is for ("I have melasma, will it help?", hair fall, acne scars, cellulite, fat ...).

Standard library only; importable from Python 3.10 and 3.11.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from actions.safety.patterns import alt, before, gap, normalise

__all__ = ["REASONS", "PersonalMedical", "detect_personal_medical"]

log = logging.getLogger(__name__)

REASONS: tuple[str, ...] = (
    "pregnancy",
    "medicine",
    "condition",
    "dosing",
    "diagnosis",
    "symptom_after_treatment",
    "is_this_normal",
    "treatment_choice",
)
"""Every reason, in the order they are tried: the first that matches is returned."""


@dataclass(frozen=True)
class PersonalMedical:
    reason: str
    """One of REASONS."""
    matched: str
    """The span of the normalised text that matched."""


def _c(*parts: str) -> re.Pattern[str]:
    return re.compile(r"\b" + alt(*parts))


# --- vocabulary -----------------------------------------------------------------------------------

_MED_NAMES = (
    r"(?:blood\s*thinn\w*|khoon\s+patla\s+\w+\s+\w+\s+(?:dawai|dawa|goli)|anti\s*coagulant\w*|anti\s*platelet\w*|"
    r"warfarin|coumadin|acitrom|acenocoumarol|heparin|enoxaparin|clexane|apixaban|eliquis|rivaroxaban|xarelto|"
    r"dabigatran|pradaxa|clopidogrel|plavix|aspirin|ecosprin|disprin|ibuprofen|brufen|combiflam|naproxen|"
    r"diclofenac|nsaids?|pain\s*killers?|paracetamol|crocin|dolo|isotretinoin|isotroin|accutane|roaccutane|sotret|"
    r"tretinoin|retin\s*a|retinoids?|steroids?|prednisolone|prednisone|wysolone|dexamethasone|cortisone|"
    r"insulin|metformin|glycomet|thyroxine|levothyroxine|eltroxin|thyronorm|thyroid\s+(?:medicine|medication|"
    r"tablets?|pills?|meds)|antibiotics?|doxycycline|azithromycin|amoxicillin|augmentin|antidepressants?|ssris?|"
    r"sertraline|fluoxetine|escitalopram|birth\s+control|contraceptive\w*|ocps?|the\s+pill|hrt|hormone\s+"
    r"(?:therapy|tablets?|pills?|replacement|injections?)|spironolactone|finasteride|minoxidil|methotrexate|"
    r"biologics?|immunosuppress\w*|chemo\w*|(?:blood\s+pressure|bp|sugar|diabetes|heart)\s+(?:medicine|medication|"
    r"tablets?|pills?|meds|dawai|goli)|antihistamines?|cetirizine|allegra|fish\s+oil|omega\s*3|supplements?|"
    r"ozempic|semaglutide|wegovy|mounjaro|tirzepatide|blood\s+pressure\s+medicine)"
)
_MED_GENERIC = r"(?:medicines?|medications?|meds|tablets?|pills?|drugs?|dawai|dawaiyan|dawa|davai|dava|goli|goliyan)"
_MED = r"(?:" + _MED_NAMES + "|" + _MED_GENERIC + r")\b"

_COND = (
    r"(?:diabet\w*|arthritis|rheumatoid|lupus|sle|auto\s*immun\w*|eczema|psoriasis|rosacea|keloids?|keloidal|"
    r"cancer|tumou?rs?|chemo\w*|radiotherapy|radiation\s+therapy|heart\s+(?:disease|problems?|conditions?|"
    r"issues?|attack|failure|surgery|patient)|cardiac\s+\w+|pacemaker|stents?|(?:high|low)\s+(?:blood\s+pressure|bp)|"
    r"hypertension|hypertensive|blood\s+pressure|bleeding\s+(?:disorder|problems?|issues?|tendency)|"
    r"clotting\s+(?:disorder|problems?|issues?)|blood\s+(?:disorder|clots?)|ha?emophilia|von\s+willebrand|"
    r"thrombocytopenia|low\s+platelets?|epilep\w*|seizures?|thyroid|hypothyroid\w*|hyperthyroid\w*|hashimoto\w*|"
    r"pcos|pcod|polycystic|hiv|hepatitis|hep\s+[bc]|(?:kidney|renal|liver)\s+(?:disease|problems?|failure|issues?|"
    r"conditions?|transplant)|cirrhosis|dialysis|herpes|cold\s+sores?|fever\s+blisters?|shingles|active\s+infection|"
    r"vitiligo|safed\s+daag|asthma\w*|dermatitis|anaemi\w*|anemi\w*|sickle\s+cell|thalass\w*|multiple\s+sclerosis|"
    r"immunocompromised|weak\s+immun\w*|allerg\w*|infections?|infected|surgery|operation|migraines?|"
    r"sugar\s+(?:problem|patient|issue|disease)|(?:medical|health|chronic)\s+(?:conditions?|problems?|issues?|"
    r"illness\w*|diseases?))\b"
)
"""Medical conditions. Cosmetic concerns the treatment is used for (pigmentation, melasma, hair fall,
acne scars, cellulite, fat, stretch marks, fine lines) are deliberately absent."""

_COND_STRONG = (
    r"(?:diabet\w*|arthritis|rheumatoid|lupus|auto\s*immun\w*|eczema|psoriasis|rosacea|keloids?|cancer|chemo\w*|"
    r"heart\s+(?:disease|problems?|conditions?|issues?|patients?)|pacemaker|(?:high|low)\s+(?:blood\s+pressure|bp)|"
    r"hypertension|bleeding\s+(?:disorder|problems?|issues?)|clotting\s+(?:disorder|problems?)|blood\s+disorder|"
    r"ha?emophilia|epilep\w*|seizures?|thyroid|hypothyroid\w*|hyperthyroid\w*|pcos|pcod|hiv|hepatitis|"
    r"(?:kidney|renal|liver)\s+(?:disease|problems?|failure|issues?)|herpes|cold\s+sores?|active\s+infection|"
    r"vitiligo|safed\s+daag|asthma\w*|allerg(?:y|ies)|allergic\s+to\s+\w+|sugar\s+(?:problem|patients?))\b"
)
"""The conditions that also count when asked about for someone else's safety ("is it safe for
people with lupus"), without a first-person statement."""

_SOMEONE = (
    r"(?:he|she|they|who|mom|mum|mother|father|dad|husband|wife|sister|brother|friend|son|daughter|aunt|uncle|"
    r"grandmother|grandfather|partner|fiance|fiancee|patient|client)"
)
"""Someone the patient asks for: their answer still depends on that person."""

_TREAT = (
    r"(?:meso\w*|mezo\w*|botox|fillers?|prp|gfc|lasers?|lipo\w*|micro\s*needling|dermapen|peels?|"
    r"skin\s+boosters?|hydrafacial|threads?|surgery|hifu|cryo\w*|coolsculpting)"
)
_SESSION = r"(?:session|treatment|injections?|meso\w*|mezo\w*|appointment|sitting|procedure|jabs?|shots?|therapy)"
_SYMPTOM = (
    r"(?:swell\w*|swoll?en|puff\w*|bruis\w*|lumps?|lumpy|bumps?|bumpy|nodules?|knots?|hard(?:ness)?|red|redness|"
    r"rash\w*|itch\w*|pain(?:s|ful|fully)?|sore(?:ness)?|tender\w*|burn\w*|sting\w*|bleed\w*|bled|scabs?|marks?|spots?|"
    r"blisters?|pimples?|breakouts?|breaking\s+out|broke\s+out|peel\w*|numb\w*|tingl\w*|hurts?|hurting|ach\w*|"
    r"discolou?r\w*|patch\w*|dark\w*|headaches?|fever\w*|nause\w*|infect\w*|shedding|dents?|uneven|"
    r"allerg\w*|reaction|irritat\w*|dryness|flak\w*|sujan|soojan|dard|khujli|neel|daag|daane|dane|gaa?nth|lal|"
    r"pus|ooz\w*|hair\s+fall|hair\s+loss|hairfall)\b"
)
_MODAL_BEFORE = re.compile(
    r"\b(?:can|could|should|shall|may|might|must|will|would|do|does|did|to|what\s+if|whether)\s+$"
)
_TELLING_BEFORE = re.compile(
    r"\b(?:tell|telling|told|inform|informing|mention|mentioning|disclose|disclosing|list|about|share|bring)"
    r"(?:\s+\w+){0,3}\s+$"
)
_WHAT_IF_BEFORE = re.compile(r"\bwhat\s+if\s+$")
_CAUSE_BEFORE = re.compile(
    r"\b(?:cause|causes|causing|caused|trigger\w*|lead\s+to|leads\s+to|give|gives|risk\s+of|risks\s+of|chance\s+of|"
    r"get|getting)(?:\s+\w+){0,2}\s+$"
)
_WHEN_BEFORE = re.compile(r"\bwhen\s+$")
_AFTER_BEFORE = re.compile(r"\b(?:after|post|since)\s+(?:my\s+|the\s+|her\s+|a\s+)?$")
_STRETCH_MARKS = re.compile(r"\bstretch\s*marks?\b")
_PREGNANCY_MARKS_AFTER = re.compile(r"\s*(?:stretch\s*marks?|marks?)\b")
_RESULTS = re.compile(
    r"\b(?:results?|difference|improvement|change|effect|progress|fark|farak|glow|regrowth|fat\s+loss|"
    r"weight\s+loss|inch\s+loss)\b"
)
_BODY_SYMPTOM = re.compile(r"\b" + _SYMPTOM)
_TREATMENT_REF = re.compile(
    r"\b(?:(?:after|since|following|post|from)\s+(?:my\s+|the\s+|this\s+|that\s+|last\s+|first\s+|second\s+|"
    r"1st\s+|2nd\s+|yesterday'?s?\s+|today'?s?\s+){0,3}(?:\w+\s+)?" + _SESSION + r"|"
    r"(?:\d+|a|one|two|three|four|five|six|seven|few|couple\s+of|several)\s+(?:days?|weeks?|hours?|din|hafte)\s+"
    r"(?:ago|after|later|back|since|se|baad|bad)|"
    r"(?:my|the|this|last|yesterday'?s?)\s+"
    + _SESSION
    + r"|"
    + _SESSION
    + r"\s+(?:\w+\s+)?(?:ke|k)\s+(?:baad|bad)|(?:ke|k)\s+(?:baad|bad)\s+se)"
)
"""A reference to the person's own treatment ("after my session", "5 days after", "meso ke baad")."""

# --- patterns, per reason ------------------------------------------------------------------------

_Rule = tuple[re.Pattern[str], "Callable[[str, int, int], bool] | None"]


def _pregnancy_reject(text: str, start: int, end: int) -> bool:
    """Pregnancy as the cause of stretch marks ("stretch marks after pregnancy") is a cosmetic topic."""
    if not text.startswith("pregnan", start):
        return False
    return before(text, start, _AFTER_BEFORE, 20) or _PREGNANCY_MARKS_AFTER.match(text, end) is not None


def _postpartum_reject(text: str, start: int, end: int) -> bool:
    """After a delivery the answer depends on the person (breastfeeding?), unless the question is
    about the stretch marks the pregnancy left ("delivery ke baad stretch marks")."""
    return _STRETCH_MARKS.search(text) is not None


_PREGNANCY: tuple[_Rule, ...] = (
    (
        _c(
            r"pregnan\w*",
            r"preggers",
            r"breast\s*feed\w*",
            r"nursing\s+(?:mother|mom|mum|my|a|baby|an|mama)\b",
            r"(?:i\s+am|currently|still|while|am|i\s+was)\s+nursing\b",
            r"lactat\w*",
            r"(?:doodh|dudh)\s+(?:\w+\s+)?pila\w*",
            r"feeding\s+(?:my\s+|the\s+|a\s+)?(?:baby|child|infant|newborn|son|daughter)\b",
            r"(?:baby|bachche|bacche|bachhe)\s+ko\s+(?:doodh|dudh|feed)\w*",
            r"trying\s+(?:to\s+)?(?:conceive|for\s+a\s+(?:baby|child|kid)|for\s+kids|to\s+get\s+pregnant)",
            r"ttc\b",
            r"conceiv\w*",
            r"ivf\b",
            r"planning\s+(?:for\s+)?(?:a\s+|our\s+|my\s+)?(?:baby|child|second\s+baby|family)\b",
            r"fertility\s+treatment",
            r"expecting\s+(?:a\s+baby|a\s+child|twins|my\s+first|our\s+first|baby)\b",
            r"(?:i\s+am|we\s+are|she\s+is)\s+expecting\b",
            r"garbh\w*",
            r"pet\s+se\s+(?:hoon|hu|hun|hai|h)\b",
        ),
        _pregnancy_reject,
    ),
    (re.compile(r"गर्भ|प्रेग्नें|प्रेगनें|स्तनपान|दूध\s*पिला"), None),
    (
        _c(
            r"postpartum",
            r"post\s+partum",
            r"after\s+(?:my\s+)?delivery",
            r"delivery\s+ke\s+(?:baad|bad)",
            r"gave\s+birth",
            r"new\s+(?:mom|mum|mother)\b",
            r"c\s*section",
            r"caesarean",
        ),
        _postpartum_reject,
    ),
)


def _modal_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _MODAL_BEFORE, 20)


def _telling_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _TELLING_BEFORE, 40)


_MEDICINE: tuple[_Rule, ...] = (
    (
        _c(
            r"(?:i|we)\s+(?:am\s+|have\s+been\s+|was\s+|had\s+been\s+|also\s+|currently\s+|still\s+|already\s+|"
            r"regularly\s+|daily\s+|just\s+|recently\s+|usually\s+){0,3}(?:take|takes|taking|took|on|using|use|used|"
            r"started|start|starting|stopped|finished|completed|prescribed|given|put\s+on|consuming|consume|pop|"
            r"popping)\s+(?:\w+\s+){0,3}?" + _MED
        ),
        _modal_reject,
    ),
    (
        _c(
            r"(?:stop|stopping|stopped|start|starting|skip|skipping|pause|pausing|continue|continuing|change|"
            r"changing|switch|switching|discontinue|quit|quitting|hold|holding|avoid|avoiding|take|taking|leave|"
            r"band|chhod|chod)\s+(?:\w+\s+){0,2}?(?:my|mera|meri|mere|apni|apna)\s+(?:\w+\s+){0,2}?" + _MED
        ),
        None,
    ),
    (_c(r"(?:my|mera|meri|mere)\s+(?:\w+\s+){0,2}?" + _MED), _telling_reject),
    (re.compile(r"(?:दवा|दवाई|गोली|गोलियां)[^.!?\n]{0,20}?(?:लेती|लेता|ले\s*रही|ले\s*रहा|खाती|खाता)"), None),
    (_c(r"(?:prescribed|gave|given|put|started)\s+me\s+(?:on\s+)?(?:\w+\s+){0,2}?" + _MED), None),
    (
        _c(
            _SOMEONE + r"\s+(?:is\s+|are\s+|was\s+|has\s+been\s+|also\s+|currently\s+){0,2}(?:on|taking|takes|took|"
            r"uses|using|started|stopped)\s+(?:\w+\s+){0,2}?" + _MED
        ),
        None,
    ),
    (_c(r"(?:currently|presently|already|been)\s+(?:on|taking|using)\s+(?:\w+\s+){0,2}?" + _MED), None),
    (
        _c(
            r"(?:" + _MED_NAMES + "|" + _MED_GENERIC + r")\s+(?:\w+\s+){0,2}?(?:leti|leta|le\s+rah\w*|le\s+rh\w*|"
            r"kha\s+rah\w*|khati|khata|chal\s+rah\w*|chalti|chalta)\b"
        ),
        None,
    ),
)


def _condition_statement_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _MODAL_BEFORE, 20) or before(text, start, _WHAT_IF_BEFORE, 20)


def _cause_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _CAUSE_BEFORE, 40)


_NO_QUESTION_WORD = r"(?!question|questions|doubt|doubts|query|queries|wedding|function|party)"
_CONDITION: tuple[_Rule, ...] = (
    (
        _c(
            r"i\s+(?:have|had|got|get|suffer|am\s+suffering|have\s+been\s+suffering|was\s+diagnosed|am\s+diagnosed|"
            r"have\s+been\s+diagnosed|am\s+being\s+treated|also\s+have|still\s+have|recently\s+had|just\s+had|"
            r"have\s+had|have\s+got|suffered|live)\b(?:[\s,]+" + _NO_QUESTION_WORD + r"[\w']+){0,4}?\s+" + _COND
        ),
        _condition_statement_reject,
    ),
    (
        _c(
            r"i\s+am\s+(?:a\s+|an\s+)?(?:\w+\s+)?(?:diabetic|epileptic|asthmatic|hypertensive|anaemic|anemic|"
            r"allergic|hiv\s+positive|immunocompromised|(?:a\s+)?(?:cancer|heart|thyroid|diabetes|sugar|bp|kidney|"
            r"liver|lupus|pcos|pcod|asthma|dialysis)\s+(?:patient|survivor))\b"
        ),
        _condition_statement_reject,
    ),
    (_c(r"(?:my|mera|meri|mere)\s+(?:\w+\s+)?" + _COND), _cause_reject),
    (
        _c(
            _SOMEONE + r"\s+(?:has|have|had|suffers\s+from|is\s+suffering\s+from|was\s+diagnosed\s+with|"
            r"has\s+been\s+diagnosed\s+with|is|gets)\s+(?:\w+\s+){0,2}?" + _COND
        ),
        _cause_reject,
    ),
    (
        re.compile(
            r"(?:मुझे|मेरी|मेरा|मेरे|मैं)[^.!?\n]{0,25}?(?:डायबिटीज|शुगर|मधुमेह|बीपी|ब्लड\s*प्रेशर|थायराइड|एलर्जी|"
            r"कैंसर|दिल\s*की\s*बीमारी|हार्ट|मिर्गी|अस्थमा|सोरायसिस|एक्जिमा|हेपेटाइटिस)"
        ),
        None,
    ),
    (
        _c(
            r"(?:mujhe|mujhko|muje|meko|mereko)\s+(?:\w+\s+){0,2}?(?:" + _COND + r"|sugar|bp)",
            r"(?:" + _COND + r"|sugar|bp)\s+(?:\w+\s+)?(?:hai|he|h)\s+(?:mujhe|mujhko|muje|meko|to|toh|isliye)\b",
        ),
        None,
    ),
    (
        _c(
            r"(?:people|persons?|someone|somebody|patients?|those|anyone|women|men|ladies|individuals?|one|adults|"
            r"girls?|guys?|child|children)\s+(?:with|having|who\s+(?:have|has|suffer\s+from)|suffering\s+from|"
            r"diagnosed\s+with)\s+(?:a\s+|an\s+)?(?:\w+\s+)?" + _COND_STRONG
        ),
        None,
    ),
    (
        _c(
            r"(?:diabet\w*|sugar|bp|thyroid|heart|cancer|kidney|liver|lupus|pcos|pcod|hiv|epilepsy|asthma|psoriasis|"
            r"eczema|arthritis|autoimmune|allergy|vitiligo|keloid|herpes|hepatitis|bleeding|dialysis)\s+"
            r"(?:patients?|sufferers?|survivors?|wale|wali)\b",
            r"(?:diabetics|epileptics|asthmatics|ha?emophiliacs)\b",
        ),
        None,
    ),
    (
        _c(
            r"(?:safe|ok|okay|fine|suitable|allowed|advisable|recommended|possible|risky|dangerous|contraindicated|"
            r"can\s+i|can\s+we|can\s+someone|can\s+one|can\s+you)\b(?:\s+\w+){0,5}?\s+(?:for|with|if|in|during)\s+"
            r"(?:\w+\s+){0,3}?" + _COND_STRONG
        ),
        _cause_reject,
    ),
    (
        _c(
            _COND_STRONG + r"(?:\s+\w+){0,4}?\s+(?:safe|safety|ok|okay|allowed|suitable|chalega|can\s+i|can\s+we|"
            r"can\s+they|can\s+someone|kar\s+sak\w*|karwa\s+sak\w*|karva\s+sak\w*|karwana|contraindicat\w*)\b"
        ),
        _cause_reject,
    ),
    (
        _c(
            r"with\s+(?:a\s+|an\s+|my\s+)?(?:\w+\s+)?"
            + _COND_STRONG
            + r"(?:\s+\w+){0,4}?\s+(?:can|could|is|should|may)\b"
        ),
        None,
    ),
    (
        _c(
            r"recent(?:ly)?\s+(?:\w+\s+)?(?:surgery|operation|c\s*section)",
            r"(?:surgery|operation)"
            + gap(4)
            + r"\s+(?:last|\d+|a|few|one|two|three)\s+(?:\w+\s+)?(?:weeks?|months?|days?)\b",
            r"(?:had|underwent|got)\s+(?:a\s+|an\s+|my\s+)?(?:\w+\s+)?(?:surgery|operation)\b",
        ),
        None,
    ),
)

_DOSING: tuple[_Rule, ...] = (
    (
        _c(
            r"(?:which|what|kaun\s*s[aie]|konsi|kaunsi|konsa|kaunsa)\s+(?:\w+\s+){0,2}?(?:painkillers?|pain\s+killers?|"
            r"medicines?|medications?|meds|tablets?|pills?|creams?|ointments?|antibiotics?|drugs?|gels?|"
            r"antihistamines?|dawai|dawa|goli|lotion|injections?)\s+(?:\w+\s+){0,2}?(?:(?:should|can|do|must|would|"
            r"shall)\s+(?:i|we)\s+|to\s+)(?:take|use|apply|put|have|pop|give)\b",
            r"(?:which|what|kaun\s*s[aie]|konsi|kaunsi|konsa|kaunsa)\s+(?:\w+\s+){0,2}?(?:painkiller|pain\s+killer|"
            r"medicine|tablet|cream|dawai|dawa|goli|ointment)\s+(?:lu|loon|lun|lena|leni|lagau|lagaun|lagana|khau|"
            r"khaun|khana|le\s+sakt\w*|use\s+kar\w*)\b",
        ),
        None,
    ),
    (
        _c(
            r"how\s+(?:much|many)\s+(?:\w+\s+){0,3}?(?:mg|milligrams?|ml|tablets?|pills?|doses?|capsules?|drops|"
            r"units|puffs)\b",
            r"how\s+(?:much|many)\s+(?:\w+\s+){0,2}?(?:should|can)\s+i\s+take\b",
            r"kitn[aie]\s+(?:mg|goli|goliyan|tablet\w*|dose)",
        ),
        None,
    ),
    (
        _c(
            r"(?:what|which|right|correct|how\s+much|safe|max\w*)\s+(?:\w+\s+)?(?:dose|dosage)\b(?=.*\b(?:i|me|my)\b)",
            r"(?:dose|dosage|doses)\s+(?:\w+\s+)?(?:for\s+me|for\s+my|should\s+i|do\s+i|can\s+i)",
        ),
        None,
    ),
    (
        _c(
            r"do\s+i\s+need\s+(?:to\s+(?:take|use|apply)\s+)?(?:any\s+|an?\s+|some\s+)?(?:painkillers?|antibiotics?|"
            r"medicines?|medication|tablets?|pills?|ointment|antihistamines?|steroids?)",
            r"should\s+i\s+(?:take|start|use)\s+(?:an?\s+|some\s+|any\s+)?(?:antibiotics?|antihistamines?|steroids?|"
            r"medicines?|medication|tablets?|pills?)",
        ),
        None,
    ),
)


def _when_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _WHEN_BEFORE, 10)


def _results_reject(text: str, start: int, end: int) -> bool:
    """ "No result after 2 sessions, is that normal?" is the results-timeline FAQ, not a symptom."""
    return _RESULTS.search(text) is not None and _BODY_SYMPTOM.search(text) is None


_IS_THIS_NORMAL: tuple[_Rule, ...] = (
    (
        _c(
            r"(?:is|are)\s+(?:this|that|these|those)\s+(?:\w+\s+)?(?:normal|common|expected|usual|serious|"
            r"dangerous|worrying|concerning|a\s+(?:bad|good)\s+sign|something\s+to\s+worry|ok|okay|fine)\b"
        ),
        _results_reject,
    ),
    (
        _c(
            r"is\s+it\s+(?:\w+\s+)?normal\s+(?:that\s+|for\s+|to\s+|if\s+|when\s+)?(?:\w+\s+){0,2}?(?:my|i|mine|mere|meri)\b"
        ),
        None,
    ),
    (
        _c(
            r"should\s+i\s+(?:be\s+)?(?:worried|worry|concerned|panic|panicking|be\s+scared|be\s+alarmed)",
            r"do\s+i\s+need\s+to\s+(?:worry|be\s+worried|panic)",
            r"am\s+i\s+(?:ok|okay|fine|alright|all\s+right)\b",
        ),
        _when_reject,
    ),
    (
        _c(
            r"(?:ye|yeh|yah|ya|aisa|esa|aise|ise|is\s+tarah)\s+(?:\w+\s+){0,2}?normal\s+(?:hai|he|h|hota|hoti)\b",
            r"normal\s+(?:hai|he|h)\s+(?:kya\s+)?(?:ye|yeh|yah)\b",
            r"ghabra\w*\s+(?:ki\s+)?(?:baat|zarurat|jarurat)",
            r"chinta\s+(?:ki\s+)?(?:baat|karni|karu|karun)",
        ),
        None,
    ),
)

_DIAGNOSIS: tuple[_Rule, ...] = (
    (
        _c(
            r"whats?\s+(?:is\s+|has\s+)?(?:gone\s+)?(?:wrong|happening|going\s+on)\s+(?:with|to)\s+(?:my|me)\b",
            r"what\s+happened\s+to\s+my\b",
            r"what\s+(?:is|are)\s+(?:this|these|that|those)\s+(?:\w+\s+)?(?:rash\w*|bumps?|lumps?|spots?|marks?|"
            r"things?|patch\w*|swelling|redness|pimples?|blisters?|nodules?|dots?|growths?|sores?|discharge)\b",
            r"what\s+(?:is|are)\s+(?:this|these|that)\s+(?:on|near|under|in)\s+my\b",
            r"do\s+i\s+have\s+(?:a\s+|an\s+)?(?:\w+\s+)?(?:infection|allerg\w*|reaction|granuloma|abscess|herpes|"
            r"disease|condition|cancer|eczema|psoriasis|fungal|cellulitis|necrosis)",
            r"(?:is|could|might)\s+(?:this|it|my\s+\w+)\s+(?:be\s+)?(?:an?\s+)?(?:\w+\s+)?(?:infection|infected|"
            r"allergic\s+reaction|allergy|abscess|granuloma|necrosis|cellulitis|fungal)\b",
            r"can\s+you\s+(?:please\s+)?(?:tell|say)\s+(?:me\s+)?what\s+(?:this|it|that)\s+is",
            r"(?:can|could)\s+you\s+(?:please\s+)?diagnose",
            r"diagnos\w*\s+(?:me|my|this)\b",
            r"please\s+diagnose",
            r"(?:look|see|check)\s+(?:at\s+)?(?:my|this|the|attached)\s+(?:photo|picture|pic|image|selfie)",
            r"mujhe\s+kya\s+(?:hua|ho\s+gaya)",
            r"(?:ye|yeh)\s+kya\s+ho\s+gaya",
        ),
        None,
    ),
)


def _symptom_reject(text: str, start: int, end: int) -> bool:
    return before(text, start, _MODAL_BEFORE, 20) or _TREATMENT_REF.search(text) is None


_SYMPTOM_AFTER: tuple[_Rule, ...] = (
    (
        _c(
            r"(?:my|mere|meri|mera)\s+(?:\w+\s+){0,3}?(?:is|are|was|were|has|have|got|gets|feels?|felt|looks?|"
            r"became|become|turned|still|keeps?|hurts?|started|seems?|remains?|hai|hain|ho\s+gay\w*|ho\s+rah\w*|"
            r"pe|par|per|me|mein|mai)\b(?:[\s,]+[\w']+){0,4}?[\s,]+" + _SYMPTOM
        ),
        _symptom_reject,
    ),
    (
        _c(
            _SYMPTOM + r"(?:[\s,]+[\w']+){0,3}?[\s,]+(?:from|since|after|of|following|by)\s+(?:my|mere|meri)\s+"
            r"(?:\w+\s+){0,2}?" + _SESSION
        ),
        None,
    ),
    (
        _c(
            r"i\s+(?:have|had|got|get|developed|noticed|see|am\s+getting|am\s+having|still\s+have|now\s+have|feel|"
            r"felt|am\s+seeing|am\s+feeling|keep\s+getting|woke\s+up\s+with|have\s+got|have\s+been\s+having|"
            r"have\s+been\s+getting|bruised|swelled|bled|broke\s+out|reacted)\b(?:[\s,]+[\w']+){0,3}?[\s,]+" + _SYMPTOM
        ),
        _symptom_reject,
    ),
    (
        _c(
            r"(?:mujhe|mujhko|muje|meko)\s+(?:\w+\s+){0,3}?" + _SYMPTOM,
            _SYMPTOM + r"\s+(?:\w+\s+){0,2}?(?:ho\s+gay\w*|ho\s+rah\w*|aa\s+gay\w*|hai\s+abhi|ab\s+tak)",
        ),
        _symptom_reject,
    ),
)

_TREATMENT_CHOICE: tuple[_Rule, ...] = (
    (
        _c(
            r"(?:which|what)\s+(?:\w+\s+){0,2}?(?:treatments?|procedures?|options?|therapy|therapies|one|package|"
            r"plan|is)\s+(?:\w+\s+){0,2}?(?:best|better|right|suitable|good|ideal|recommended|suits?)\s+(?:for\s+)?"
            r"(?:me|my)\b",
            r"(?:which|what)\s+(?:\w+\s+)?(?:treatment|procedure|option)\s+suits?\s+(?:me|my)\b",
            r"what\s+(?:should|would|do|can)\s+(?:i|you)\s+(?:\w+\s+)?(?:get|do|choose|go\s+for|recommend|suggest|"
            r"advise)\s+(?:\w+\s+){0,2}?for\s+(?:me|my)\b",
            r"(?:recommend|suggest|advise)\s+(?:\w+\s+){0,2}?(?:for\s+me|for\s+my)\b",
            r"(?:recommend|suggest|advise)\s+me\s+(?:a|the|which|what|some|any)\s+(?:\w+\s+)?(?:treatments?|procedures?|"
            r"options?|therapy|plan|package|cream|medicine|meso\w*)\b",
            r"do\s+i\s+(?:really\s+)?need\s+(?:a\s+|an\s+)?" + _TREAT + r"\s+or\s+(?:a\s+|an\s+)?" + _TREAT,
            r"am\s+i\s+(?:a\s+|an\s+)?(?:good|right|suitable|ideal|eligible|ok|okay|fit|proper|correct)\s+"
            r"(?:candidate|patient|person|fit|for)\b",
            r"(?:is|will|would)\s+(?:\w+\s+){0,3}?(?:right|suitable|good|safe|ok|okay|appropriate|ideal)\s+for\s+me\b",
            r"(?:mere|mujhe|meri|mera|hamare)\s+(?:liye|lie|liya)\s+(?:\w+\s+){0,2}?(?:kaun\s*s[aie]|konsa|kaunsa|"
            r"konsi|kaunsi|kya|best|sahi|theek|thik|accha|achha|acha)\b",
            r"for\s+my\s+(?:skin\s+type|skin|face|hair|case|condition|problem|body)\s*,?\s+(?:which|what)\b",
        ),
        None,
    ),
)

_RULES: tuple[tuple[str, tuple[_Rule, ...]], ...] = (
    ("pregnancy", _PREGNANCY),
    ("medicine", _MEDICINE),
    ("condition", _CONDITION),
    ("dosing", _DOSING),
    ("diagnosis", _DIAGNOSIS),
    ("symptom_after_treatment", _SYMPTOM_AFTER),
    ("is_this_normal", _IS_THIS_NORMAL),
    ("treatment_choice", _TREATMENT_CHOICE),
)
assert tuple(r for r, _ in _RULES) == REASONS


def _first_match(text: str, rules: tuple[_Rule, ...]) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for pattern, reject in rules:
        for m in pattern.finditer(text):
            if reject is not None and reject(text, m.start(), m.end()):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), m.end())
            break
    return best


def detect_personal_medical(text: str) -> PersonalMedical | None:
    """The reason a message is a personal medical question, or None for a general question.

    Reasons are tried in the order of REASONS and the first that matches is returned; None also
    for anything that is not a non-empty string.
    """
    try:
        norm = normalise(text)
        if not norm:
            return None
        for reason, rules in _RULES:
            span = _first_match(norm, rules)
            if span is not None:
                return PersonalMedical(reason=reason, matched=norm[span[0] : span[1]])
        return None
    except Exception:  # pragma: no cover - a detector must never break the conversation
        log.exception("personal-medical detector failed; treating the message as general")
        return None
