"""Rule-based detection of the warning signs of a serious reaction after injections.

The default is to detect: a missed emergency is the worst possible bug, so any symptom phrase
counts, however it is written (Hinglish, typos, capitals, no punctuation, buried in a long
message). The one exception is a clearly general question that names a sign without anyone
having it ("Can mesotherapy cause difficulty breathing?"): when the whole message has no
first-person marker and no urgency marker, a sign inside a sentence that opens like a question
("can / does / is / what ...", Hinglish "kya ...") or that asks about causes or risks ("... can
cause ...", "signs of ...", "ho sakta hai kya") is left to the FAQ. Negation is not handled,
apart from a tight "no trouble breathing".

Ordinary side effects (mild redness, stinging, bruising, short-lived swelling) and cosmetic
topics ("dark spots", "skin whitening", "let the skin breathe") are not warning signs.

Standard library only; importable from Python 3.10 and 3.11.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from actions.safety.patterns import FIRST_PERSON, URGENCY, Sentences, alt, before, gap, normalise

__all__ = ["SIGN_IDS", "SIGN_LABELS", "WarningSign", "detect_warning_signs"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarningSign:
    id: str
    """Stable id, one of SIGN_IDS."""
    label: str
    """Short patient-facing phrase, e.g. "difficulty breathing"."""
    matched: str
    """The span of the normalised text that matched."""


SIGN_LABELS: dict[str, str] = {
    "breathing": "difficulty breathing",
    "throat_swelling": "swelling of the throat, tongue or lips",
    "hives": "hives or a rash spreading over the body",
    "fainting": "fainting or feeling very dizzy",
    "chest_pain": "chest pain or tightness",
    "skin_colour": "skin turning pale, grey, blue, purple or dark",
    "vision": "changes in your vision",
    "infection": "fever or signs of a spreading infection",
    "severe_pain": "severe or quickly worsening pain",
}
SIGN_IDS: tuple[str, ...] = tuple(SIGN_LABELS)

# --- vocabulary -----------------------------------------------------------------------------------

_BREATH = r"(?:brea?th\w*|breeth\w*|brath\w*|breat(?:e|es|ing|in)\b)"
"""breath, breathe, breathing, breathless, breth, brething, breating, breeth ..."""
_SAANS = r"(?:saa?ns\w*|swa+s\w*|shwa+s\w*)"
_IN = r"(?:me|mein|mai|main|mei|men|m)"
_SWELL = r"(?:swell\w*|swoll?en|swolen|sweling|puff\w*|bloat\w*|balloon\w*|blow\w*\s+up|blew\s+up)"
_AIR_TIGHT = r"(?:closing|closed|close\s+up|clos\w+\s+up|tight\w*|constrict\w*|thick\w*|blocked|narrow\w*)"
_SOOJ = r"(?:sooj\w*|suj\w*|sooz\w*|phool\w*|phul\w*|fool\s+ga\w*|band\s+ho\w*)"
_GALA = r"(?:gala|gale|galaa|jeebh|jeeb|jibh|jeebh?|zuban|zubaan|hont|honth|hoth|hooth|honto|honthon|hothon|hoth)"
_PAIN = r"(?:pain(?!\s*kill|\s*reli|\s*free|\s*less)(?:s|ful|fully)?|hurt\w*|ach(?:e|es|ing)|dard|burning|throbbing)"
_PAIN_NOT_AFTER = r"(?!\s+(?:tolerance|threshold|killers?|relief|relievers?|management|free))"
_COLOUR = (
    r"(?:white|whitish|pale|paler|grey|gray|greyish|grayish|ashen|ashy|blue|bluish|blueish|purple|purplish|"
    r"violet|black|blackish|dark|darker|dusky|mottled)"
)
_COLOUR_LOOK = r"(?:white|whitish|pale|grey|gray|greyish|grayish|ashen|blue|bluish|purple|purplish|dusky|mottled)"
_NOT_COSMETIC_AFTER = (
    r"(?!\s*(?:spots?|circles?|marks?|patch\w*|heads?|tan\b|pigment\w*|skin\s+tone|complexion|bruis\w*|"
    r"and\s+blue\b))"
)


def _c(*parts: str) -> re.Pattern[str]:
    return re.compile(r"\b" + alt(*parts))


# --- patterns, per sign ---------------------------------------------------------------------------

_PATTERNS: dict[str, tuple[re.Pattern[str], ...]] = {
    "breathing": (
        _c(r"cannot" + gap(2) + r"\s+" + _BREATH),
        _c(
            r"(?:hard|difficult|difficulty|difficulties|dificult\w*|trouble|troubles|struggl\w*|problems?|"
            r"issues?|painful|hurts?|cannot)\s+(?:to\s+|in\s+|with\s+|while\s+|when\s+)?(?:\w+\s+)?" + _BREATH
        ),
        _c(
            _BREATH + r"\s+(?:is\s+|are\s+|feels?\s+|getting\s+|gets\s+|has\s+become\s+|became\s+|becoming\s+){0,2}"
            r"(?:very\s+|really\s+|so\s+|too\s+|a\s+bit\s+|more\s+)?"
            r"(?:difficult\w*|hard|trouble|problems?|issues?|heavy|laboured|labored|shallow|tight|weird\s+and\s+tight)\b"
        ),
        _c(r"short(?:ness)?\s+(?:of\s+)?breath\w*", r"out\s+of\s+breath", r"breathless\w*"),
        _c(r"(?:not|stopped|stops|stop)\s+breathing"),
        _c(r"wheez\w*", r"chok(?:e|es|ed|ing)\b", r"gasp\w*", r"suffocat\w*", r"cannot\s+get\s+(?:enough\s+)?air"),
        _c(r"air\s+(?:is\s+)?not\s+(?:going|coming|getting)\s+in", r"struggling\s+for\s+air", r"hard\s+to\s+get\s+air"),
        _c(_SAANS + gap(2) + r"\s+(?:nahi|nhi|nai|na)\s+(?:aa|a|le|li|ja)\b"),
        _c(
            _SAANS
            + r"\s+(?:lene|lena|leni|lete)\s+"
            + _IN
            + r"?\s*(?:\w+\s+)?(?:dikk?at|takl[ei]+f|taklee?f|pareshani|problem|mushkil|dikat)"
        ),
        _c(_SAANS + gap(3) + r"\s+(?:dikk?at|takl[ei]+f|taklee?f|pareshani|mushkil)"),
        _c(_SAANS + r"\s+(?:\w+\s+)?(?:phool|fool|phul|ful|ruk|atak|band)\w*"),
        _c(r"dam\s+ghut\w*", r"ghutan\b", r"ghut\s+rah\w*"),
    ),
    "throat_swelling": (
        _c(
            r"(?:throat|tongue|tounge|tung|airways?|windpipe|gala|gale)"
            + gap(4)
            + r"\s+(?:"
            + _SWELL
            + "|"
            + _AIR_TIGHT
            + r")"
        ),
        _c(r"(?:lips?|mouth|tongue|throat)" + gap(3) + r"\s+" + _SWELL),
        _c(_SWELL + gap(4) + r"\s+(?:throat|tongue|tounge|lips?)\b"),
        _c(r"(?:difficult\w*|trouble|hard|cannot|pain\w*|problems?)\s+(?:to\s+|in\s+|with\s+|when\s+)?swall?ow\w*"),
        _c(_GALA + gap(3) + r"\s+" + _SOOJ),
        _c(r"(?:sujan|soojan|sujaan|soojh?an)" + gap(3) + r"\s+" + _GALA + r"\b"),
    ),
    "hives": (
        _c(
            r"(?:hives|hive|urticaria|welts?|rash\w*|red\s+(?:spots|bumps|patches|blotches)|blotch\w*|"
            r"itchy\s+(?:bumps|spots|patches)|raised\s+bumps|daane|dane|chakatte|chakte|pitti)"
            + gap(5)
            + r"[\s,]+(?:all\s+over(?![\s,]+(?:the\s+|my\s+|his\s+|her\s+)?(?:face|scalp|forehead|cheeks?|chin|"
            r"neck|head|jaw\w*|area|injection|spot|site|treated))|(?:whole|entire|full)\s+body|"
            r"over\s+(?:my|the|his|her)\s+(?:whole\s+|entire\s+)?body|everywhere|spreading|spread\w*|"
            r"(?:poore|pure|pura|poora|sare|saare)\s+(?:body|sharir|shareer|badan|jism)|sab\s+jagah|har\s+jagah)"
        ),
        _c(
            r"(?:(?:whole|entire|full)\s+body|all\s+over\s+(?:my\s+|the\s+)?body|everywhere|"
            r"(?:poore|pure|pura|poora|sare|saare)\s+(?:body|sharir|shareer|badan|jism)|sab\s+jagah|har\s+jagah)"
            + gap(5)
            + r"[\s,]+(?:hives|urticaria|welts?|rash\w*|daane|dane|chakatte|chakte|pitti)"
        ),
        _c(
            r"(?:covered|breaking|broke|broken|break)\s+(?:out\s+)?(?:in|with)\s+(?:\w+\s+)?(?:hives|welts|rash\w*|bumps)"
        ),
    ),
    "fainting": (
        _c(r"faint(?:ed|ing|ness)\b"),
        _c(
            r"(?:feel|feels|feeling|felt|going\s+to|gonna|about\s+to|might|almost|nearly|may|will|could)\s+"
            r"(?:\w+\s+)?faint\b"
        ),
        _c(r"pass(?:ed|ing|es)?\s+out\b", r"black(?:ed|ing)?\s+out\b", r"collaps\w*"),
        _c(r"unconscious\w*", r"(?:lost|losing|lose)\s+consciousness", r"unresponsive", r"not\s+responding"),
        _c(
            r"(?:very|really|so|extremely|super|too|severely|badly|quite)\s+(?:\w+\s+)?"
            r"(?:dizz\w*|light\s*headed\w*|woozy)"
        ),
        _c(
            r"(?:feel|feels|feeling|felt|am|is|getting|got|became|keep\s+getting)\s+(?:\w+\s+)?"
            r"(?:dizz\w*|light\s*headed\w*|woozy)"
        ),
        _c(r"dizz\w*\s+(?:and|with|&)\s+(?:\w+\s+)?(?:faint|weak|sweat\w*|nause\w*|vomit\w*|light\s*headed|confused)"),
        _c(r"(?:head|room)\s+(?:is\s+)?spinning"),
        _c(r"chakk?a?r\s+(?:\w+\s+)?(?:aa|a|aaya|aya|aaye|aye|aate|ate|aati|aata)\b"),
        _c(r"sar\s+(?:\w+\s+)?gh?oo?m\w*", r"behosh\w*", r"behos\w*", r"behoshi"),
    ),
    "chest_pain": (
        _c(
            r"chest" + gap(2) + r"\s+(?:pain\w*|tight\w*|pressure|hurts?|hurting|ache|aching|heavy|heaviness|"
            r"discomfort|squeez\w*|burning|crushing)"
        ),
        _c(
            r"(?:pain\w*|tight\w*|pressure|heaviness|ache|aching|discomfort|squeezing)"
            + gap(2)
            + r"\s+(?:in|on|across|around)\s+(?:my\s+|the\s+|his\s+|her\s+)?chest"
        ),
        _c(r"tight\s+chest"),
        _c(
            r"(?:seene|sine|seena|sina|chhati|chaati|chati|chhaati)\s+(?:" + _IN + r"\s+)?(?:\w+\s+)?"
            r"(?:dard|dabav|dabaav|jalan|bhari\w*|bhaari\w*|pain)"
        ),
    ),
    "skin_colour": (
        _c(
            r"(?:turn\w*|went|go|goes|going|gone|became|become|becoming|becomes|changed|changing)"
            r"(?:[\s,]+(?!to\b|make\b|for\b|into\b|with\b|from\b)[\w']+){0,2}?[\s,]+"
            + _COLOUR
            + r"\b"
            + _NOT_COSMETIC_AFTER
        ),
        _c(
            r"(?:skin|area|spot|site|patch|lips?|nose|tip|cheeks?|face|forehead|chin|fingers?|toes?|it)"
            + gap(2)
            + r"\s+(?:looks?|looking|appears?|appearing|seems?)(?:\s+\w+)?\s+"
            + _COLOUR_LOOK
            + r"\b"
            + _NOT_COSMETIC_AFTER
        ),
        _c(
            r"(?:skin|area|lips?|nose|fingers?|toes?|tip)" + gap(3) + r"\s+(?:is|are|was|were)\s+(?:\w+\s+)?"
            r"(?:grey|gray|greyish|grayish|ashen|blue|bluish|purple|purplish|dusky|mottled)\b" + _NOT_COSMETIC_AFTER
        ),
        _c(
            r"(?:area|spot|site|patch)\s+(?:is|are|was|were)\s+(?:\w+\s+)?(?:white|whitish|pale)\b"
            + _NOT_COSMETIC_AFTER
        ),
        _c(r"blanch\w*", r"mottl\w*", r"livedo\w*"),
        _c(
            r"(?:white|whitish|pale|grey|gray|blue|bluish)\s+and\s+(?:cold|numb)",
            r"(?:cold|numb)\s+and\s+(?:white|pale|grey|gray|blue)\b",
        ),
        _c(
            r"(?:neela|neeli|neele|nila|nili|safed|safaid|safe?id|sufaid)\s+(?:\w+\s+)?(?:pad|padh|ho)\s+(?:\w+\s+)?(?:gay\w*|rah\w*|gai)"
        ),
    ),
    "vision": (
        _c(
            r"(?:blurr?y|blurr?ed|blurring|blur|hazy|cloudy|double|fuzzy|dim|dimmed|loss\s+of|lost|losing|lose|"
            r"decreased|reduced|poor|changes?\s+(?:in|to)|problems?\s+with|trouble\s+with)\s+(?:my\s+|the\s+|of\s+)?"
            r"(?:vision|eyesight|sight)\b"
        ),
        _c(
            r"(?:vision|eyesight)" + gap(2) + r"\s+(?:blurr?\w*|hazy|cloudy|dim\w*|double|gone|going|lost|loss|"
            r"dark\w*|black\w*|fuzzy|weird|strange|changed|changing|problem\w*|affected|worse|blank)"
        ),
        _c(
            r"cannot\s+see\b(?:\s+(?:properly|clearly|well|anything|straight|out\s+of|from|with|through|at\s+all)\b|\s*(?:[.!?,\n]|$))"
        ),
        _c(
            r"blind\s+spots?",
            r"blindness",
            r"(?:go|going|gone|went|become|became|turning|partially|half)\s+blind\b",
            r"blind\s+in\s+(?:one|my|the|left|right)",
        ),
        _c(
            r"eyes?" + gap(3) + r"\s+(?:blurr?\w*|hazy|cloudy|fuzzy)",
            r"(?:seeing|see|seen)\s+(?:double|spots|stars|flashes)",
        ),
        _c(r"dh?undh?l[aie]\w*", r"dh?undh?la\w*"),
        _c(r"a+n?kh\w*\s+(?:se\s+|" + _IN + r"\s+)?(?:\w+\s+)?(?:kam|nahi|nhi|dh?undh?l\w*)\s+(?:\w+\s+)?dikh\w*"),
        _c(r"dikh\w*\s+(?:\w+\s+)?(?:nahi|nhi|na)\s+(?:de|rah)\w*\s+(?:\w+\s+)?a+n?kh\w*"),
    ),
    "severe_pain": (
        _c(
            r"(?:severe\w*|unbearable|unbarable|excruciating|extreme\w*|intense|terrible|horrible|horrific|awful|"
            r"agoni[sz]\w*|worst|insane|crazy)" + gap(2) + r"[\s,]+" + _PAIN + r"\b" + _PAIN_NOT_AFTER
        ),
        _c(
            _PAIN + r"\b" + _PAIN_NOT_AFTER + gap(3) + r"[\s,]+(?:unbearable|unbarable|excruciating|severe|intense|"
            r"extreme|terrible|horrible|awful|agoni\w*|killing\s+me|too\s+much|out\s+of\s+control)"
        ),
        _c(
            _PAIN + r"\b" + gap(3) + r"\s+(?:getting|gets|got|growing|becoming|keeps\s+getting|is\s+getting)\s+"
            r"(?:\w+\s+)?(?:worse|stronger|more\s+intense|unbearable)"
        ),
        _c(_PAIN + r"\b" + gap(2) + r"\s+(?:increas\w*|worsen\w*|spreading)"),
        _c(r"worse\s+and\s+worse\s+" + _PAIN, _PAIN + r"\s+(?:\w+\s+){0,3}worse\s+and\s+worse"),
        _c(
            r"hurts?\s+(?:so|really|very|too|soo)\s+(?:much|bad\w*)",
            r"hurting\s+(?:so|really|very|too)\s+(?:much|bad\w*)",
        ),
        _c(r"(?:bahut|bohot|bahot|bhot|bht|bohat)\s+(?:\w+\s+)?(?:tez|zyada|jyada|zada|jada)?\s*dard"),
        _c(r"(?:tez|bhayankar|bhayanak|asahniya|asehniya)\s+dard", r"dard\s+(?:\w+\s+)?(?:badh|barh|badhta|badhti)\w*"),
        _c(r"dard\s+(?:\w+\s+)?bardasht\s+(?:\w+\s+)?(?:nahi|nhi|na|se\s+bahar)"),
    ),
}

# Devanagari (Hindi script). The text has no nukta and uses anusvara for candrabindu (see patterns);
# \b is not used because Python does not count the vowel signs as word characters.
_GAP_DEVA = r"[^.!?\n]{0,30}?"
_DEVANAGARI: dict[str, re.Pattern[str]] = {
    "breathing": re.compile(r"(?:सांस|श्वास)" + _GAP_DEVA + r"(?:नहीं|नही|दिक्कत|तकलीफ|फूल|रुक|घुट)|दम\s*घुट"),
    "throat_swelling": re.compile(
        r"(?:गला|गले|जीभ|होंठ|होठ)" + _GAP_DEVA + r"(?:सूज|फूल)|सूजन" + _GAP_DEVA + r"(?:गले|जीभ|होंठ|होठ)"
    ),
    "hives": re.compile(
        r"(?:पूरे|सारे)\s*(?:शरीर|बदन|body)" + _GAP_DEVA + r"(?:दाने|चकत्ते|पित्ती|रैश)|"
        r"(?:दाने|चकत्ते|पित्ती|रैश)" + _GAP_DEVA + r"(?:पूरे|सारे)\s*(?:शरीर|बदन|body)"
    ),
    "fainting": re.compile(r"बेहोश|चक्कर\s*(?:आ|आय)"),
    "chest_pain": re.compile(r"(?:सीने|सीना|छाती)" + _GAP_DEVA + r"(?:दर्द|दबाव|जकड|भारी)"),
    "skin_colour": re.compile(r"(?:नीली|नीला|नीले|सफेद|काली|काला)\s*(?:पड|हो\s*गय)"),
    "vision": re.compile(r"धुंधल|आंख" + _GAP_DEVA + r"(?:नहीं|कम)\s*दिख|दिखाई\s*(?:नहीं|कम)"),
    "severe_pain": re.compile(r"बहुत\s*(?:तेज|ज्यादा|जयादा|अधिक)?\s*दर्द|असहनीय|दर्द" + _GAP_DEVA + r"(?:बढ|बर्दाश्त\s*नहीं)"),
}
_FEVER_DEVA = re.compile(r"बुखार|ज्वर")
_FEVER_PARTNER_DEVA = re.compile(r"लाल|पस(?![\u0900-\u097f])|पीप|मवाद|सूजन|फैल")

# Infection signs are co-occurrences, checked across the whole message.
_RED_STREAKS = _c(
    r"red\s+(?:streak\w*|lines?)",
    r"streak\w*\s+(?:of\s+)?red",
    r"(?:redness|red|infection|lali|laali)" + gap(2) + r"\s+(?:is\s+|are\s+)?spread\w*",
    r"spread\w*\s+(?:\w+\s+)?(?:redness|infection)",
)
_FEVER = _c(
    r"fever\w*",
    r"feverish",
    r"(?:high|running\s+a|running)\s+temp\w*",
    r"chills\b",
    r"rigors\b",
    r"bu+kh?a+r\w*",
    r"bhukh?ar\w*",
    r"jwar",
)
_FEVER_PARTNER = _c(
    r"red\w*\b",
    r"lal\b",
    r"laal\b",
    r"hot\b",
    r"warm\b",
    r"spread\w*",
    r"pus\b",
    r"puss\b",
    r"pas\b",
    r"mava+d\b",
    r"mawa+d\b",
    r"ooz\w*",
    r"discharge",
    r"swell\w*",
    r"swoll?en",
    r"sooj\w*",
    r"suj\w*",
    r"infect\w*",
    r"streak\w*",
    r"worse\w*",
    r"throbbing",
)
_PUS = _c(
    r"pus\b",
    r"puss\b",
    r"pas\s+(?:aa|nikal|bhar|ho|jama)\w*",
    r"mava+d\b",
    r"mawa+d\b",
    r"ooz\w*",
    r"yellow\s+discharge",
)
_PUS_PARTNER = _c(
    r"swell\w*",
    r"swoll?en",
    r"sooj\w*",
    r"suj\w*",
    r"worse\w*",
    r"worsen\w*",
    r"fever\w*",
    r"bu+kh?a+r\w*",
    r"spread\w*",
    r"hot\b",
    r"painful",
    r"pain\b",
    r"throbbing",
    r"bigger",
    r"growing",
    r"increas\w*",
    r"dard\b",
)
_PAIRED_WITHIN = 160
"""A sign made of two findings is reported as one span when they are this close."""

_PALPITATIONS = _c(
    r"heart" + gap(2) + r"\s+(?:racing|pounding|beating\s+(?:\w+\s+)?(?:fast|hard)|fluttering|skipping|palpitat\w*)",
    r"palpitat\w*",
    r"dil" + gap(2) + r"\s+(?:dhadak\w*|dhak\w*|tez)",
)
_PALPITATION_COMPANIONS = _c(
    r"dizz\w*",
    r"light\s*headed",
    r"sweat\w*",
    r"nause\w*",
    r"vomit\w*",
    r"faint\w*",
    r"breath\w*",
    r"chakk?a?r",
    r"ghabrahat",
)

_NO_BREATHING_PROBLEM = re.compile(r"\b(?:no|not|without|never|zero)\s+$")
_BRUISE_BEFORE = re.compile(
    r"\b(?:bruis\w*|neel|pigment\w*|spots|tan|tanning|melasma|marks?|patches|circles|freckles|scars?|hair|"
    r"underarms?|elbows?|knees?)\b(?:\s+[\w']+){0,2}\s+$"
)
"""A colour change of a bruise or of a cosmetic concern ("my pigmentation went darker") is not a sign."""
_WISH_BEFORE = re.compile(
    r"(?:\bto\s+|\b(?:want|wants|wanted|wish|hope|desire)\s+(?:my\s+|the\s+|our\s+)?(?:skin|face|complexion|colou?r)\s+"
    r"(?:would\s+|could\s+|to\s+|will\s+)?)$"
)
"""Wishing for a lighter skin tone ("i want my skin to turn white") is a cosmetic question."""
_BASE_FORM_CHANGE = frozenset({"turn", "turns", "go", "goes", "become", "becomes", "change", "changes"})

_FEAR_BEFORE = re.compile(
    r"\b(?:(?:scared|afraid|worried|fear|fearful|nervous|anxious|phobia|history|tendency)\s+(?:of|about)\s+(?:\w+\s+)?|"
    r"(?:tend|prone|used)\s+to\s+|(?:usually|always|often|sometimes|easily)\s+)$"
)
"""Fear or a history of fainting ("scared of fainting", "i usually pass out") is a question about the procedure."""
_AT_THE_SIGHT = re.compile(
    r"(?:\s+[\w']+){0,3}?\s+(?:at\s+the\s+sight\s+of|when\s+i\s+see|seeing)\s+(?:\w+\s+)?(?:needles?|blood|injections?)"
)
_FILLERS = r"(?:hi|hello|hey|ok|okay|so|and|but|also|well|doctor|doc|dr|sir|madam|maam|mam|quick|question|one|query|doubt|hmm|um)"
_QUESTION_OPENER = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,3}"
    r"(?:can|could|does|do|did|is|are|was|were|will|would|should|shall|may|might|must|what|whats|which|when|"
    r"how|why|who|where|kya|kyaa|kaise|kab|kyun|kyu|kis|kaun)\b(?!\s+not\b)|\A[\W_]*क्या"
)
_FUTURE_OPENER = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,3}(?:will|would|can|could|does|do|should|might|may|how)\b"
)
_REPORTED_EVENT = re.compile(
    r"\b(?:turned|went|became|has\s+become|have\s+become|started|happened|fainted|collapsed|passed\s+out|"
    r"swelled|blew\s+up|broke\s+out|ho\s+gay\w*|ho\s+gai|aa\s+gay\w*)\b"
)
"""A change that has happened or is happening: the sentence reports a sign instead of asking about one."""
_GENERAL_CUE_BEFORE = re.compile(
    r"\b(?:cause|causes|caused|causing|lead\s+to|leads\s+to|result\s+in|trigger\w*|risks?\s+of|signs?\s+of|"
    r"symptoms?\s+of|such\s+as|chance\s+of|chances\s+of)\b"
)
_GENERAL_CUE_ANYWHERE = re.compile(
    r"\b(?:sakt[aie]|sakte)\s+(?:hai|he|h|hain)\b|\b(?:hota|hoti|hote)\s+(?:hai|he|h)\s+kya\b|\bho\s+sakt|"
    r"सकत[ाीे]|(?:होता|होती|होते)\s*है\s*क्या"
)


def _is_general_question(text: str, sentences: Sentences, start: int, end: int) -> bool:
    lo, hi = sentences.around(start, end)
    sentence = text[lo:hi]
    if _REPORTED_EVENT.search(sentence):
        return False  # "is it normal that the area went grey?" reports something that happened
    if _QUESTION_OPENER.search(sentence):
        return True
    if _GENERAL_CUE_BEFORE.search(text, lo, start):
        return True
    return _GENERAL_CUE_ANYWHERE.search(sentence) is not None


def _first_span(pattern: re.Pattern[str], text: str, reject=None) -> tuple[int, int] | None:
    for m in pattern.finditer(text):
        if reject is not None and reject(m.start(), m.end()):
            continue
        return m.start(), m.end()
    return None


def _paired(text: str, first: re.Pattern[str], partner: re.Pattern[str]) -> tuple[int, int] | None:
    """The first `first` finding that has a `partner` finding elsewhere in the message."""
    partners = [(p.start(), p.end()) for p in partner.finditer(text)]
    if not partners:
        return None
    for m in first.finditer(text):
        best: tuple[int, int] | None = None
        for p in partners:
            if p[0] < m.end() and p[1] > m.start():
                continue  # the same words
            if best is None or abs(p[0] - m.start()) < abs(best[0] - m.start()):
                best = p
        if best is not None:
            lo, hi = min(m.start(), best[0]), max(m.end(), best[1])
            if hi - lo <= _PAIRED_WITHIN:
                return lo, hi
            return m.start(), m.end()
    return None


def _candidates(text: str) -> dict[str, tuple[int, int]]:
    """The first span per sign id, before the general-question exception."""
    found: dict[str, tuple[int, int]] = {}

    def reject_breathing(start: int, end: int) -> bool:
        return before(text, start, _NO_BREATHING_PROBLEM, 12)

    def reject_colour(start: int, end: int) -> bool:
        if before(text, start, _BRUISE_BEFORE, 60) or before(text, start, _WISH_BEFORE, 60):
            return True
        if "black and blue" in text[start : end + 5]:
            return True  # the everyday word for a bruise
        # "will my skin turn dark in the sun?" asks about the future, while "can you help, it turned
        # white" reports a change: only the base form of the verb after a question opener is let go
        if text[start:end].split(" ", 1)[0] not in _BASE_FORM_CHANGE:
            return False
        lo, hi = Sentences(text).around(start, end)
        return _FUTURE_OPENER.search(text[lo:hi]) is not None

    def reject_fainting(start: int, end: int) -> bool:
        # a history of fainting at needles is a question about the procedure, not a collapse now
        return before(text, start, _FEAR_BEFORE, 40) or _AT_THE_SIGHT.match(text, end) is not None

    rejects = {"breathing": reject_breathing, "skin_colour": reject_colour, "fainting": reject_fainting}
    for sign, patterns in _PATTERNS.items():
        spans = [s for p in patterns if (s := _first_span(p, text, rejects.get(sign))) is not None]
        if sign in _DEVANAGARI and (s := _first_span(_DEVANAGARI[sign], text)) is not None:
            spans.append(s)
        if spans:
            found[sign] = min(spans)

    infection = [
        s
        for s in (
            _first_span(_RED_STREAKS, text),
            _paired(text, _FEVER, _FEVER_PARTNER),
            _paired(text, _PUS, _PUS_PARTNER),
            _paired(text, _FEVER_DEVA, _FEVER_PARTNER_DEVA),
        )
        if s is not None
    ]
    if infection:
        found["infection"] = min(infection)

    if "chest_pain" not in found:
        racing = _first_span(_PALPITATIONS, text)
        if racing is not None and (found or _PALPITATION_COMPANIONS.search(text)):
            found["chest_pain"] = racing
    return found


def detect_warning_signs(text: str) -> tuple[WarningSign, ...]:
    """Warning signs of a serious reaction in a patient's message, one per id, in text order.

    Returns an empty tuple when there are none, and for anything that is not a non-empty string.
    """
    try:
        norm = normalise(text)
        if not norm:
            return ()
        found = _candidates(norm)
        if not found:
            return ()
        if not FIRST_PERSON.search(norm) and not URGENCY.search(norm):
            sentences = Sentences(norm)
            found = {k: v for k, v in found.items() if not _is_general_question(norm, sentences, *v)}
        ordered = sorted(found.items(), key=lambda item: item[1])
        return tuple(WarningSign(id=k, label=SIGN_LABELS[k], matched=norm[a:b]) for k, (a, b) in ordered)
    except Exception:  # pragma: no cover - a detector must never break the conversation
        log.exception("warning-sign detector failed; treating the message as having no sign")
        return ()
