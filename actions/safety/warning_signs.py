"""Rule-based detection of the warning signs of a serious reaction after injections.

The rules (vocabulary, patterns, examples, review) live in `catalogue/warning_signs.yml`; this
module compiles them once and applies the detection principles stated there:

- The default is to detect: a missed emergency is the worst possible bug. Every match anywhere in
  the message counts (all of it: `patterns.MAX_CHARS` is what a channel accepts), in any spelling.
- A match is let go only when
  * the same clause clearly DENIES it ("no swelling", "I am not dizzy", Hinglish "koi dikkat nahi");
  * its clause is a GENERAL question about the treatment or about other people ("can mesotherapy
    cause blindness?", "has anyone gone blind from it?") and says nothing about anyone having it
    now, with no call for help in the message;
  * a rule's own guard says so (a history or fear of fainting at needles, a bruise changing colour,
    wishing for lighter skin, asking whether the skin will darken in the sun);
  * for pain, it is described as past and settled ("it hurt a lot yesterday but it's gone now"),
    and nothing in the message says anything is getting worse;
  * it sits in an "if" clause about the future or a question about what might happen later ("if my
    vision ever goes strange, where should I go?", "could my lips swell up afterwards?"), with
    nothing in its sentence saying it is happening now;
  * it happened months or years ago and the message says it was resolved, or the writer calls it a
    long-standing thing unrelated to the treatment;
  * it is one item of a list of denials ("denies SOB, chest pain", "no dizziness or breathing
    trouble", a word per line, Hindi "न ... न");
  * it is someone else's story passed on, or a Hindi or Hinglish conditional in the verb ("chakkar aa
    gaya toh?", "सूज जाए, तो"), with nothing in its sentence saying it is happening now.
  Every other match is a warning sign: when in doubt it stays an emergency.
- The detector raises on a bug (it never swallows an exception): the safety gate
  (`actions/safety/gate.py`) turns an exception into a handoff with a staff alert.

Standard library and PyYAML only; importable from Python 3.10 (Rasa) and 3.11 (action server).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from actions.safety import catalogue as _catalogue
from actions.safety.patterns import Sentences, normalise

__all__ = ["SIGN_IDS", "SIGN_LABELS", "WarningSign", "detect_warning_signs"]

_CAT = _catalogue.load("warning_signs")


@dataclass(frozen=True)
class WarningSign:
    id: str
    """Stable id: the catalogue rule that fired, one of SIGN_IDS."""
    label: str
    """Short patient-facing phrase from the catalogue, e.g. "difficulty breathing"."""
    matched: str
    """The span of the normalised text that matched."""


SIGN_LABELS: dict[str, str] = {rule.id: rule.label for rule in _CAT.rules.values()}
SIGN_IDS: tuple[str, ...] = tuple(SIGN_LABELS)

_Span = tuple[int, int]


def _patterns(rule_id: str, key: str, word_start: bool = True) -> tuple[re.Pattern[str], ...]:
    rule = _CAT.rules[rule_id]
    templates = rule.extra.get(key) or []
    return tuple(_CAT.compile(t, f"rule {rule_id}.{key}", word_start=word_start) for t in templates)


def _one(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))


_MATCHERS: dict[str, tuple[re.Pattern[str], ...]] = {
    rule.id: rule.patterns + rule.devanagari for rule in _CAT.rules.values()
}
_PALPITATIONS = _one(_patterns("chest_pain", "palpitations"))
_PALPITATION_COMPANIONS = _one(_patterns("chest_pain", "palpitation_companions"))
_FEVER = _one(_patterns("infection", "fever"))
_FEVER_PARTNER = _one(_patterns("infection", "fever_partners"))
_PUS = _one(_patterns("infection", "pus"))
_PUS_PARTNER = _one(_patterns("infection", "pus_partners"))
_FEVER_DEVA = _one(_patterns("infection", "devanagari_fever", word_start=False))
_FEVER_PARTNER_DEVA = _one(_patterns("infection", "devanagari_fever_partners", word_start=False))
_MAX_CANDIDATES = 200
"""A rule with more candidate matches than this in one message is reported without checking each
for denial or a general question: no patient writes 200 denials, and when in doubt it is an
emergency. It bounds the work on pathological input."""
_PAIRED_WITHIN = 160
"""A sign made of two findings is reported as one span when they are this close."""

# --- clause structure ------------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(
    r"[!?;:\n]|,(?!\s*(?:like|such\s+as|e\.?g|including|or|etc)\b)|\.(?!\d)|\s-\s|\s+(?:but|though|although|however|lekin|par|magar)\b|।|"
    r"\s(?:लेकिन|पर|मगर|किंतु|परंतु)\s"
)


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between commas, sentence ends and "but") holding text[start:end]."""
    lo = max(0, start - 300)
    for brk in _CLAUSE_BREAK.finditer(text, lo, start):
        lo = brk.end()
    after = _CLAUSE_BREAK.search(text, end, end + 300)
    hi = after.start() if after else min(len(text), end + 300)
    return lo, max(hi, end)


# --- denial -----------------------------------------------------------------------------------------

_NEGATOR_BEFORE = re.compile(
    r"(?:\b(?:no|not|never|without|zero|nor|neither|none|free\s+of|nothing\s+like|denies|deny|denied)\b|"
    r"\b(?:do|does|did|have|has|had|is|are|was|were|am|could|would|should|will)\s+not\b|\bnahi\b|\bnahin\b|\bnhi\b|"
    r"\bkoi\s+nahi\b|\bna\b|(?<![\u0900-\u097f])(?:नहीं|ना\s|न\s|न(?![\u0900-\u097f])))"
    r"(?:\s+(?:any|real|more|further|longer|sign|signs|of|sort|kind|the|a|an|such|at|all|feel|feeling|felt|have|"
    r"hint|trace|bit|single|touch|whatsoever|slightest|least|evidence|symptoms?|"
    r"having|had|get|getting|got|been|experienced?|experiencing|noticed?|see|seeing|seen|notice|really|obvious|"
    r"actual|major|other|serious|severe|new|that|this|much|issue|issues|problem|problems|trouble|with|in|my|his|"
    r"her|koi))*\s*$"
)
"""A negation right before the sign phrase, with only such small words between ("no sign of", "not
feeling", "did not have any"). Wider gaps ("no idea why my lips are swelling") do not deny."""
_WHY_NOT_SUBJECT = re.compile(
    r"\b(?:why|how\s+come)\s+(?:do|does|did|is|are|was|were|will|would|can|could|has|have)\s+not\s+"
    r"(?:the|this|that|these|those|my|his|her|their|our)\s+(?:[\w']+\s+)?$"
)
"""An inverted "why not" question ("why won't the pain stop", "why isn't the swelling going down"):
the negation belongs to the verb after the subject, so the subject (the sign) is there, not denied."""
_NEVER_LIKE_THIS = re.compile(r"[^.!?\n,]{0,40}?\blike\s+(?:this|that|it\s+is\s+now)\b")
_NEVER_BEFORE = re.compile(r"\bnever\s+(?:\w+\s+){0,3}$")
_THIS_OR_SO = re.compile(r"\b(?:this|that|so)\s+(?:\w+\s+)?$")
_THIS_OR_SO_INSIDE = re.compile(r"\b(?:this|that|so)\s")
"""An intensifier, not a denial: "I've never felt this dizzy in my life", "never had chest pain like
this before", "never been this breathless"."""
_CANNOT_WITHOUT = re.compile(
    r"\b(?:cannot|can\s+not|could\s+not|unable\s+to|not\s+able\s+to|barely|hardly)\s+(?:even\s+)?"
    r"(?:[\w']+\s+){1,6}(?:without)\s+(?:the\s+|my\s+|her\s+|his\s+)?(?:[\w']+\s+){0,2}$"
)
"""The sign is there: "she can't say a sentence without wheezing", "can't even sit up without
everything spinning"."""
_NEGATED_COPULA = re.compile(r"\A(?:am|is|are|was|were|feel|feels|felt|feeling|looks?|seems?|got|get|getting)\s+not\b")
"""A span that itself starts "am not / feel not ..." ("i am not dizzy")."""
_NEGATOR_AFTER = re.compile(
    r"[^\s,.!?।]*[\s,]*(?:(?:bhi|bilkul|ekdum|koi|to|toh|ab|zara|jara|bilkul\s+bhi|भी|बिल्कुल|बिलकुल|एकदम|कोई|तो|अब|"
    r"वगैरह|[\w\u0900-\u097f]+-[\w\u0900-\u097f]+)\s*){0,2}"
    r"(?:(?:nahi|nahin|nhi|nai|nahi\s+hai|at\s+all\s+no)\b|नहीं|नही|नहि|ना\b)|"
    r"[^\s,.!?।]*\s*(?:[:\-–]|\?)\s*(?:none|no|nil|nope|zero|negative|not\s+at\s+all)\b|"
    r"[^\s,.!?।]*\s+(?:free|gone\s+completely|nowhere)\b|"
    r"[^\s,.!?।]*\s*(?:या|ya|or)\s+(?:\S+\s+){0,4}?(?:toh\s+|to\s+|तो\s+)?(?:भी\s*)?(?:नहीं|nahi|nhi)"
)
"""Hindi and Hinglish put the negation after the phrase: "saans lene mein koi dikkat nahi"."""
_SIGN_IS_NEGATION = re.compile(r"\A(?:not|cannot|no\s+air|stopped|stops|stop)\b|\A(?:सांस|साँस)\s*(?:नहीं|नही)")
"""Signs whose wording is itself a negation ("not breathing", "cannot see", "सांस नहीं आ रही")."""


_NEGATION_INSIDE = re.compile(
    r"[,;:.\n]\s*(?:and\s+|or\s+)?(?:no|not|never|without|nahi|nhi|नहीं)\b(?:\s+\S+){0,2}\s*\Z"
)
"""A span that runs over a clause break into a negation is a list of denials ("no blurry vision, no
double vision" matched as "vision, no double")."""
_COPULA_NOT_INSIDE = re.compile(
    r"\b(?:is|are|was|were|feels?|felt|looks?|seems?)\s+not\s+(?:at\s+all\s+|really\s+|very\s+|that\s+)?"
    r"(?:tight|swollen|swelling|puffy|puffed|blue|grey|gray|purple|white|pale|hot|painful|sore|dizzy|blurry|blurred|"
    r"numb|cold|itchy|bleeding|closing|closed|short\s+of|heavy|spinning)\b"
)
"""A span that holds its own denial ("my throat is not tight"); "one eye is not seeing clearly" or
"breathing is not easy" is no denial."""
_NEGATOR_LINE_BEFORE = re.compile(r"(?:\A|[\n,;:.!?])\s*(?:no|not|never|zero|without|nahi|nhi|नहीं)\s*[\n,;:]\s*\Z")
"""One word per line: "no" on the line before the sign ("fine / no / fever / no / swelling")."""
_COORDINATED_DENIAL = re.compile(
    r"(?:\b(?:no|without|never|nor|zero)\s+(?!(?:idea|clue|way|one|doubt|matter|sure)\b)|"
    r"\b(?:have|has|had|did|do|does)\s+not\s+(?:had|have|got|get|seen|noticed|experienced|felt)\s+(?:any\s+)?)"
    r"(?:[\w']+\s+){1,3}(?:or|nor)\s+(?:any\s+|the\s+)?\Z"
)
"""A denial that runs on through "or": "no dizziness or breathing trouble", "without pain or swelling"."""


_LIST_DENIER = re.compile(
    r"\A\s*(?:pt\s+|patient\s+|she\s+|he\s+)?(?:denies|denied|negative\s+for|no\s+(?:signs?|symptoms?|history|complaints?)\s+of|nil|free\s+of)\b"
)
_LIST_OPENER = re.compile(r"\A\s*(?:no|without|never)\b")
_LIST_OR = re.compile(r"\A[^.!?\n]{0,60}?,?\s*(?:or|nor)\s+\w+")


def _denied_in_list(text: str, start: int, end: int, clause: tuple[int, int]) -> bool:
    """An item of a comma list whose first item is a denial: "denies SOB, chest pain, visual
    disturbance", "no fever, swelling or redness". The item itself must be short (a noun phrase)."""
    if len(text[clause[0] : clause[1]].split()) > 3:
        return False
    lo = clause[0]
    for _ in range(8):
        comma = text.rfind(",", max(0, lo - 40), lo)
        if comma < 0 or text[comma + 1 : lo].strip():
            return False  # not directly after a comma ("denies pain, but vision blurry")
        segment = text[
            text.rfind(",", 0, comma) + 1
            if text.rfind(",", max(0, comma - 40), comma) >= 0
            else max(0, comma - 40) : comma
        ]
        segment = re.split(r"[.!?\n:;]", segment)[-1]
        if len(segment.split()) > 4:
            return False
        if _LIST_DENIER.search(segment):
            return True
        if _LIST_OPENER.search(segment):
            return _LIST_OR.match(text, end) is not None
        lo = comma
    return False


_ANY_BEFORE = re.compile(r"(?:\bkoi|कोई)\s*$")
_NA_OPENER = re.compile(r"\s*(?:न|ना)\s")
_NEGATION_LATER = re.compile(r"\b(?:nahi|nahin|nhi)\b|नहीं|नही")


def _denied(text: str, start: int, end: int, clause: tuple[int, int]) -> bool:
    span = text[start:end]
    if _NEGATED_COPULA.match(span):
        return True
    if _SIGN_IS_NEGATION.match(span):
        return False
    if _NEGATION_INSIDE.search(span) or _COPULA_NOT_INSIDE.search(span):
        return True
    before_text = text[clause[0] : start]
    if _CANNOT_WITHOUT.search(before_text[-80:]):
        return False
    if _NEVER_BEFORE.search(before_text[-30:]) and (
        _NEVER_LIKE_THIS.match(text, start)
        or _THIS_OR_SO.search(text, max(clause[0], start - 16), start)
        or _THIS_OR_SO_INSIDE.search(text, start, end)
    ):
        return False
    if not _WHY_NOT_SUBJECT.search(before_text[-80:]) and (
        _NEGATOR_BEFORE.search(before_text[-80:]) or _COORDINATED_DENIAL.search(before_text[-80:])
    ):
        return True
    if not before_text.strip() and _NEGATOR_LINE_BEFORE.search(text[max(0, clause[0] - 16) : clause[0]]):
        return True
    if _denied_in_list(text, start, end, clause):
        return True
    if _NA_OPENER.match(text[clause[0] : start]):
        return True  # "न बुखार है, न स्किन का रंग बदला" (neither ... nor)
    if _ANY_BEFORE.search(before_text[-12:]) and _NEGATION_LATER.search(text, end, clause[1]):
        return True  # "koi ... nahi", "कोई मवाद या गर्माहट नहीं है"
    return _NEGATOR_AFTER.match(text, end, min(len(text), end + 45)) is not None


# --- general questions --------------------------------------------------------------------------

_FILLERS = (
    r"(?:hi|hello|hey|ok|okay|so|and|but|also|well|doctor|doc|dr|sir|madam|maam|mam|quick|question|one|query|"
    r"doubt|hmm|um|just|curious|wondering|please|pls|general|btw|i\s+(?:was|am)\s+(?:just\s+)?(?:wondering|curious))"
)
_GENERAL_OPENER = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,4}"
    r"(?:(?:has|have|had|did|does|do)\s+(?:any|anyone|anybody|someone|somebody|people|patients|clients|you|ever)\b|"
    r"(?:can|could|will|would|might|may|does|do|did|is|are|should)\s+(?:meso\w*|mezo\w*|it|this|that|the|these|those|"
    r"they|injections?|treatment|procedure|people|someone|anyone|one|a\s+person|you|patients?)\b|"
    r"(?:what|which|how|why|who|where)\b|"
    r"when\b(?!\s+(?:i|she|he|we|they)\s+(?:\w+ed|woke|got|came|saw|went|took|was|were|stood|sat|ate|felt)\b)|"
    r"is\s+(?:it|there)\b|are\s+there\b|any\s+(?:risk|chance|cases?)\b|"
    r"(?:are|is|do|does|can|will)\s+(?:your|the\s+(?:doctors?|staff|clinic|nurses?)|doctors?|staff)\b|"
    r"kya\b|kyaa\b|kaise\b|kab\b|kyun\b|kyu\b|kis\b|kaun\b|क्या|कैसे|किस|कौन|"
    r"is\s+(?!this\b|that\b|it\b)(?:\w+\s+){1,3}(?:normal|common|usual|expected|dangerous|serious|a\s+(?:warning\s+)?sign)\b)"
)
"""A clause that opens as a question about the treatment or about people in general."""
_GENERAL_CUE = re.compile(
    r"\b(?:cause|causes|caused|causing|lead\s+to|leads\s+to|result\s+in|trigger\w*|risks?\s+of|signs?\s+of|"
    r"symptoms?\s+of|such\s+as|chance\s+of|chances\s+of|possible|possibility|side\s+effects?|"
    r"ever(?!\s+since)|known|reported|common|rare|likely|usually|normally|in\s+general|generally|hypothetically|"
    r"can\s+make|can\s+cause|make\s+(?:you|people|someone|the\s+skin)|read\s+that|heard\s+that|is\s+it\s+true|"
    r"myths?|rumou?rs?|stories|online|on\s+the\s+internet|google\w*|deal\s+with|in\s+case|"
    r"if\s+(?:it|they|this|that|someone|anyone|somebody|a\s+patient|a\s+person)\s+(?:happens?|does|gets?|has)|"
    r"if\s+(?:someone|anyone|somebody|a\s+patient|a\s+person)|kisi\s+ko|agar|whether|wondering|"
    r"asks?|asked|asking|(?:want|wants|wanted|would\s+like)\s+to\s+know|curious|heard\s+(?:about|of)|read\s+(?:about|of)|"
    r"horror|friend\s+of\s+a\s+friend|not\s+(?:had|having|got)\s+(?:it|any|them)\s+(?:yet|so\s+far)|"
    r"just\s+(?:researching|reading\s+up|asking|curious|checking))\b|अगर|किसी\s*को|"
    r"\b(?:hota|hoti|hote)\s+(?:hai|he|h|hain)\b|\b(?:jaata|jata|jaati|jati|jaate|jate)\s+(?:hai|he|h|hain)\b|"
    r"(?:जाता|जाती|जाते)\s*(?:है|हैं)|\b(?:nahi|nhi)\s+(?:hota|hoti|hote)\b|(?:होता|होती|होते)\s*(?:है|हैं)|"
    r"\b(?:sakt[aie]|sakte)\s+(?:hai|he|h|hain)\b|\b(?:hota|hoti|hote)\s+(?:hai|he|h)\s+kya\b|\bho\s+sakt|"
    r"सकत[ाीे]|(?:होता|होती|होते)\s*है\s*क्या"
)
_PRESENT_STATE = re.compile(
    r"\b(?:my|mine|his|her|their|our|mera|meri|mere|uska|uski|uske)\s+"
    r"(?!(?:main\s+|only\s+|one\s+|big\s+|real\s+)?(?:question|query|doubt|concern|worry|worries|fear|fears|"
    r"curiosity|understanding|reading|research)\b)(?:[\w']+\s+){0,3}?"
    r"(?:is|are|has|have|feels?|feeling|looks?|looking|went|gone|got|keeps?|started|became|turned|seems?|hai|ho)\b|"
    r"\b(?:i|she|he|they|we|mum|mom|mother|husband|wife|son|daughter|sister|brother|friend|patient|client)\s+"
    r"(?:am|is|are|was|were|feel|feels|felt|feeling|have|has|had|cannot|started|got|just|suddenly|"
    r"fainted|collapsed|passed)\b(?!\s+(?:writing|asking|wondering|enquiring|inquiring|curious|planning|thinking|"
    r"considering|interested|looking\s+(?:into|for|at)|going\s+to|reading|hoping|trying|keen|new\s+to|about\s+to\s+book))|"
    r"\bdid\s+(?:my|his|her|their|our)\b|"
    r"मुझे|मेरी|मेरा|मेरे|हो\s*रह|हो\s*गय|"
    r"\b(?:rah[aie]|rh[aie])\s+(?:hai|hain|hoon|hu|he|h|thi|tha)\b|\b(?:nahi|nhi)\s+(?:rah[aie]|rh[aie])\b|\bho\s+(?:gaya|gayi|gai|gaye)\b"
)
_WHY_HAPPENING = re.compile(
    r"\b(?:why|how\s+come|what\s+is\s+making)\s+(?:(?:is|are|does|do|has|have|will|would)(?:\s+not)?\s+)?"
    r"(?:the|this|that|these|those|it)\s+(?:[\w']+\s+){0,2}?"
    r"(?:getting|turning|going|go|becoming|spreading|swelling|throbbing|burning|hurting|bleeding|still|keeps?|"
    r"stop|blurry|blurred|numb|not\s+(?:working|helping|going|stopping|settling|easing|calming))\b|"
    r"\b(?:why|how\s+come)\s+(?:is|are|does|do)\s+(?:the|this|that|my|his|her|their|our)\s+"
    r"(?:left\s+|right\s+|whole\s+|treated\s+|injected\s+)?(?:skin|area|spot|site|patch|lips?|nose|cheeks?|face|"
    r"forehead|chin|scalp|temple|jaw\w*|neck|eyes?|arms?|legs?|tummy|belly|stomach|throat|tongue)\s+"
    r"(?:(?:feel|feels|look|looks)\s+)?(?:so|this|that|still)\b"
)
"""A "why" (or "how come") question about something happening now, to a thing the writer points at
("why is the lip swelling up so fast", "why are the painkillers not working", "how come the cheek is
turning blue", "why won't the pain stop"), or why a part of the body the writer points at is so
painful or still swollen ("why is the area so painful, it is unbearable"): not a general question, though it opens like one ("why do the injections cause swelling in some people?" stays general)."""
_NOW = re.compile(
    r"\b(?:right\s+now|currently|at\s+the\s+moment|since\s+(?:the|my|yesterday|this|last|\d)|after\s+(?:my|her|his)|"
    r"today|tonight|this\s+morning|abhi|ab\s+)\b"
)
"""It is happening now, to someone ("... since the injections"), anywhere in the clause."""
"""Someone has it now ("my vision is blurry", "she has fainted", "since the session")."""
_CALL_FOR_HELP = re.compile(
    r"\b(?:help|urgent\w*|(?<!your\s)emergency(?!\s+(?:plan|plans|number|numbers|contact|protocol|kit|procedure|line|services\s+number))|ambulance|hospital|a\s*&\s*e|er\b|casualty|sos|asap|please\s+(?:reply|respond)|"
    r"what\s+(?:should|do|can)\s+(?:i|we)\s+do|what\s+to\s+do|kya\s+kar(?:u|un|oon|e|en)|bachao|madad|turant|jaldi)\b|मदद|बचाओ|जल्दी|क्या\s*करूं"
)
_REPORTED_EVENT = re.compile(
    r"\b(?:turned|went|became|has\s+become|have\s+become|started|happened|fainted|collapsed|passed\s+out|"
    r"swelled|blew\s+up|broke\s+out|ho\s+gay\w*|ho\s+gai|aa\s+gay\w*|is\s+getting|are\s+getting)\b"
)
_ABOUT_OTHERS = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,4}(?:has|have|had|did|does|do)\s+(?:any|anyone|anybody|someone|"
    r"somebody|people|patients|clients|ever)\b"
)


_HYPOTHETICAL = re.compile(
    r"\b(?:if|in\s+case|suppose|supposing|what\s+if)\s+(?:someone|somebody|anyone|a\s+patient|a\s+person|"
    r"people|one)\b|\bwhat\s+should\s+(?:someone|somebody|a\s+patient|a\s+person|one|people)\b"
)
"""A question about a hypothetical person, not about the writer or someone they describe."""
_POPULATION = re.compile(
    r"\b(?:for|in|to|with)\s+(?:some|most|many|all|other|a\s+lot\s+of|lots\s+of)\s+(?:people|patients|clients|women|men|"
    r"of\s+them|of\s+us)\b|\bfor\s+(?:everyone|everybody|anyone|anybody|every\s+(?:patient|person|client))\b"
)
"""A question about how it goes for people in general ("is the pain unbearable for everyone?")."""
_POINTED = re.compile(
    r"\b(?:this|that)\s+(?:much|many|bad|badly|big|swollen|short|purple|blue|white|grey|gray|pale|dizzy|breathless|"
    r"tight|painful|sore|red|hot|puffy|blurry|numb|cold|huge|dark)\b|"
    r"\bitn[aie]\s+(?:\w+\s+)?(?:gay[aei]|gai|ho\s+(?:gay|gai|rah)\w*|rah[aie])\b|इतन[ाीे]\s*(?:\S+\s*)?(?:ग[एयईा]|हो\s*ग|हो\s*रह|रह)"
)
"""The writer points at what they have ("is it normal to feel this short of breath?", "this much
chest tightness", "honth itne sooj gaye"): a question about their own sign, not a general one."""
_OWN_NOW = re.compile(
    r"\bmine\s+(?:is|was|has|have|started|began|keeps?|looks?|feels?|seems?|got|went|turned|just)\b|"
    r"\bhad\s+(?:my|her|his)\s+(?:\w+\s+){0,3}?(?:done|session|injections?|treatment|meso\w*|jabs?)\s+(?:\w+\s+){0,2}?"
    r"(?:\d+|an?|one|two|three|four|few|a\s+few)\s+(?:hours?|hrs?|mins?|minutes)\s+ago\b|"
    r"\bmujhe\s+abhi\b|\babhi\s+(?:ho\s+rah|bhi\s+ho)|\b(?:happening|going\s+on)\s+(?:to\s+me\s+)?right\s+now\b|मुझे\s*अभी"
)
"""Elsewhere in the message, the writer says it is theirs and now ("... mine started an hour ago",
"had my face done 2 hrs ago", "mujhe abhi ho raha hai")."""


def _general_question(text: str, clause: tuple[int, int], end: int, calls_for_help: bool) -> bool:
    if calls_for_help:
        return False
    part = text[clause[0] : clause[1]]
    if _HYPOTHETICAL.search(part):
        return True  # "what should someone do if they feel very unwell?"
    if _PRESENT_STATE.search(text, clause[0], end) or _NOW.search(part):
        return False  # someone has it (what follows the finding is another statement: "... and I cannot decide")
    if _POPULATION.search(part):
        return True  # "... is the pain unbearable for everyone?" asks how it goes for people in general
    if _POINTED.search(part) or _OWN_NOW.search(text):
        return False  # "is it normal to feel this short of breath?", "... mine started an hour ago"
    if _WHY_HAPPENING.search(part):
        return False  # "why is the lip swelling up so fast?" asks why it is happening to them
    if _ABOUT_OTHERS.search(part):
        return True  # "has anyone gone blind from it?" asks about other people's experience
    if _REPORTED_EVENT.search(part):
        return False  # "is it normal that the area went grey?" reports something that happened
    return _GENERAL_OPENER.search(part) is not None or _GENERAL_CUE.search(part) is not None


# --- settled pain -------------------------------------------------------------------------------

_SETTLED = re.compile(
    r"\b(?:gone(?=\s*(?:now|away|completely|today|by|this|overnight|down|[.,!?;]|$))|went\s+away|settled|settling|subsided|subsiding|eased|easing|fading|faded|calmed|passed|"
    r"went\s+off|wore\s+off|worn\s+off|cleared|resolved|normal\s+now|back\s+to\s+normal|gone\s+down|going\s+down|"
    r"down\s+now|settled\s+down|calmer|lasted\s+(?:a|one|two|few)\s+(?:minute|second|moment)\w*|for\s+a\s+(?:minute|moment|second)|"
    r"within\s+(?:a|one|two|a\s+few|few)\s+(?:minute|second|moment)s?|"
    r"for\s+(?:a\s+few|few|two|three|four|five|ten|\d+)\s+(?:minutes|mins|seconds|secs)|"
    r"(?:much\s+|a\s+lot\s+|way\s+)?(?<!\bbe\s)better(?!\s+(?:to|if|than|option|idea|for|not)\b)|fine\s+now|ok\s+now|okay\s+now|"
    r"improving|improved|disappeared|stopped(?!\s+(?:working|helping|doing|the|taking|using|applying|my|her|his))|over\s+now|no\s+more|theek|thik|kam\s+ho)\b|"
    r"ठीक|कम\s*हो"
)
_WORSENING = re.compile(
    r"\b(?:worse|worsening|worsen\w*|increas\w*|rising|spreading|more\s+and\s+more|getting\s+(?:bad|stronger)|"
    r"not\s+(?:getting\s+)?better|still\s+(?:bad|severe|terrible|awful)|badh\w*|barh\w*|"
    r"stopped\s+(?:working|helping)|not\s+(?:working|helping)|no\s+longer\s+(?:working|helping))\b|बढ"
)
_SETTLES: dict[str, re.Pattern[str] | None] = {
    rid: (
        _CAT.compile(str(rule.extra["settles"]), f"rule {rid}.settles")
        if isinstance(rule.extra.get("settles"), str)
        else None
    )
    for rid, rule in _CAT.rules.items()
    if rule.extra.get("settles")
}
"""Rules whose finding may be a mild effect that has already settled; a string value narrows it to
findings matching that pattern (dizziness, not a collapse)."""


def _settled(rule_id: str, text: str, start: int, end: int) -> bool:
    if rule_id not in _SETTLES:
        return False
    only = _SETTLES[rule_id]
    if only is not None and not only.search(text, start, end):
        return False
    sentence = Sentences(text).around(start, end)
    return _SETTLED.search(text, sentence[0], sentence[1]) is not None and not _WORSENING.search(text)


# --- rule-specific guards (named in the catalogue's `rejects`) -----------------------------------

_BRUISE_BEFORE = re.compile(
    r"\b(?:bruis\w*|neel)\b(?:\s+[\w']+){0,4}\s+$|"
    r"\b(?:pigment\w*|spots|tan|tanning|melasma|marks?|patches|circles|freckles|scars?|hair|"
    r"underarms?|elbows?|knees?)\b(?:\s+[\w']+){0,2}\s+$"
)
_WISH_BEFORE = re.compile(
    r"(?:\bto\s+|\b(?:want|wants|wanted|wish|hope|desire)\s+(?:my\s+|the\s+|our\s+)?(?:skin|face|complexion|colou?r)\s+"
    r"(?:would\s+|could\s+|to\s+|will\s+)?)$"
)
_BASE_FORM_CHANGE = frozenset({"turn", "turns", "go", "goes", "become", "becomes", "change", "changes"})
_FUTURE_OPENER = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,3}(?:will|would|can|could|does|do|should|might|may|how)\b"
)
_FEAR_BEFORE = re.compile(
    r"\b(?:(?:scared|afraid|worried|fear|fearful|nervous|anxious|phobia|history|tendency)\s+(?:of|about)\s+(?:\w+\s+)?|"
    r"(?:tend|prone|used)\s+to\s+|(?:usually|always|often|sometimes|easily)\s+(?:get\s+|feel\s+|go\s+)?(?:a\s+)?)$"
)
_FEAR_AFTER_HI = re.compile(
    r"(?:[\u0900-\u097f]|\w)*\s*(?:होने\s*|hone\s+)?(?:के\s*नाम\s*से|से|ke\s+naam\s+se|se)\s*(?:ही\s*|hi\s+)?"
    r"(?:\S+\s*){0,2}?(?:डर|घबरा|dar\b|darr|ghabra)"
)
"""Afraid of fainting or of being put under, in Hindi ("बेहोशी के नाम से ही उन्हें डर लगता है",
"behosh hone se darr lagta hai"): a fear, not a faint."""
_AT_THE_SIGHT = re.compile(
    r"(?:\s+[\w']+){0,3}?\s+(?:at\s+the\s+sight\s+of|when\s+i\s+see|seeing)\s+(?:\w+\s+)?(?:needles?|blood|injections?)"
)
_NO_BREATHING_PROBLEM = re.compile(r"\b(?:no|not|without|never|zero)\s+$")
_STRESS_SUBJECT = re.compile(
    r"\b(?:queue|exams?|crowd|traffic|deadlines?|workload|job|office|rules|pressure|family|in\s*laws|waiting|wedding\s+prep\w*)\b"
    r"(?:\s+[\w']+){0,5}\s+$"
)
"""Stress that "is suffocating me": a figure of speech."""
_HEARSAY = re.compile(
    r"\b(?:told\s+(?:me|us)|tells\s+(?:me|us)|said|says|heard|apparently|according\s+to|forwarded|forward|"
    r"shared|mentioned|posted|(?:was|were|is|are)\s+telling|(?:was|were|is|are)\s+talking\s+about|"
    r"(?:watched|watching|saw|seen|read|reading)\s+(?:a|an|this|that|some|the)\s+(?:\w+\s+)?(?:video|reel|post|story|"
    r"article|clip|tiktok|thread|news))\b"
)
_STRANGER = re.compile(
    r"\b(?:someone|somebody)\s+(?:she|he|i|they|we)\s+knows?\b|"
    r"\ba\s+(?:customer|client|woman|lady|man|guy|girl|friend\s+of|student|colleague|co-?worker|neighbou?r|relative|"
    r"classmate|teacher|aunty|auntie)(?:'?s)?\b|"
    r"\b(?:her|his|their)\s+(?:sister|brother|friend|cousin|mum|mom|mother|aunt|uncle|colleague|neighbou?r)\b|"
    r"\b(?:friend|colleague|neighbou?r|cousin)'?s\s+(?:daughter|son|sister|brother|mum|mom|mother|wife|husband|friend|aunt)\b"
)


_HEARSAY_HI = re.compile(
    r"\b(?:padha|padhi|suna|suni|youtube|instagram|kehti|kehte|keh\s+rahi\s+thi|bata\s+rahi\s+thi)\b|"
    r"\b(?:video|reel)\s+(?:\w+\s+)?(?:mein|me|par|pe)\s+dekh|"
    r"पढ़ा|पढा|सुना|वीडियो\s*(?:में|पर)?\s*देख|इंस्टाग्राम|यूट्यूब|कह\s*रह[ीे]\s*थ[ीे]|कहत[ीे]\s*(?:है|हैं)"
)
_HI_CONDITIONAL = re.compile(
    r"\b(?:jaaye|jaye|jae|aaye|aye|uthe|lage|lagey|pade|ho)\s+(?:toh|to)\b|\b(?:gaya|gayi|hua)\s+(?:toh|to)\s*\?|"
    r"\b(?:maan\s+lijiye|maan\s+lo|bhagwan\s+na\s+kare|god\s+forbid)\b|"
    r"(?:जाए|जाये|आए|आये|उठे|लगे|पड़े|पडे|हो)\s*,?\s*तो(?![\u0900-\u097f])|मान\s*लीजिए|भगवान\s*न\s*करे"
)
_HI_PROGRESSIVE = re.compile(r"\b(?:rah[aie]|rh[aie])\s+(?:hai|hain|hoon|hu|he|h)\b|रह[ाीे]\s*(?:है|हैं|हूं|हूँ)|अभी|\babhi\b")
_HI_PLUPERFECT = re.compile(r"\b(?:tha|thi)\b|(?<![\u0900-\u097f])(?:था|थी|थे)(?![\u0900-\u097f])")
"""The Hindi past perfect ("aaya tha", "हुआ था"); not Hinglish "the", which is also the English article."""
_PROGRESSIVE_NOW = re.compile(r"\b(?:is|am|are)\s+(?:\w+\s+)?\w+ing\b")
"""Something going on as the patient writes ("my lips are swelling up")."""


_FAMILY_RELAY = re.compile(
    r"\b(?:mummy|mumm?y|maa|mom|papa|dad|didi|bhaiya|bhai|behen|bahen|dadi|nani|pati|husband|wife|beta|beti|sasu\w*|saas)\s+"
    r"(?:\w+\s+)?(?:kehti|kehte|keh\s+rah\w*|bol\s+rah\w*|bolti|bolte)\b"
)
_THIRD_PERSON_NOW_HI = re.compile(
    r"\b(?:unko|unke|unki|unhe|use|usko|uske|uski)\b(?!(?:\s+\w+){0,6}\s+(?:tha|thi|the)\b)"
)
"""A relative relaying what they feel now ("mummy kehti hai unko saans nahi aa rahi"): a report about
them, not hearsay."""
_HI_PROGRESSIVE_BARE = re.compile(r"\b(?:aa|ho|lag|dikh|kar|badh|phail)\s+(?:rah[aie]|rh[aie])\b")


def _hindi_hypothetical(text: str, start: int, end: int) -> bool:
    """Hindi and Hinglish put "if" in the verb ("chakkar aa gaya toh?", "सूज जाए, तो"): a sign in such a
    clause, or in hearsay ("मेरी बहन कह रही थी कि ... नीली पड़ जाती है"), with nothing happening now."""
    lo, hi = Sentences(text).around(start, end)
    if _HI_PROGRESSIVE.search(text, lo, hi) or _PRESENT_DEIXIS.search(text, lo, hi):
        return False
    if _HI_PROGRESSIVE_BARE.search(text, lo, hi) and not _HI_CONDITIONAL.search(text, lo, hi):
        return False  # "saans nahi aa rahi theek se": happening now, "hai" dropped
    if _FAMILY_RELAY.search(text, lo, hi) and _THIRD_PERSON_NOW_HI.search(text, lo, hi):
        return False  # "didi kehti hai unke seene mein dard hai"
    return _HI_CONDITIONAL.search(text, lo, hi) is not None or _HEARSAY_HI.search(text, lo, hi) is not None


_SOURCE_OF_STORY = re.compile(
    r"\bmy\s+(?:\w+\s+)?(?:friend|colleague|cousin|neighbou?r|aunt|uncle|boss|teacher|coworker|co-worker)\s+"
    r"(?:said|says|told|tells|mentioned|heard|was\s+telling)\b"
)
"""The one who passed a story on ("my friend said her sister went blind..."): not the writer's own."""


def _hearsay(text: str, start: int, end: int) -> bool:
    """Someone else's story passed on ("a customer told me her sister's lips swelled up after a
    treatment somewhere"), with nothing about the writer or their family now."""
    lo, hi = Sentences(text).around(start, end)
    return (
        _HEARSAY.search(text, lo, hi) is not None
        and _STRANGER.search(text, lo, hi) is not None
        and _PRESENT_DEIXIS.search(text, lo, hi) is None
        and re.search(r"\bmy\b", _SOURCE_OF_STORY.sub(" ", text[max(lo, start - 40) : start])) is None
    )


_EXPECTED_BEFORE = re.compile(
    r"\b(?:thought|expected|expecting|worried|afraid|scared|feared|fear|imagined|anxious|nervous|concerned|"
    r"terrified|paranoid|frightened|panicking)\s+(?:that\s+)?"
    r"(?:i|she|he|we|they|it)?\s*(?:would|might|will|could|was\s+going\s+to|were\s+going\s+to)\s+(?:\w+\s+){0,4}$"
)
"""An expectation, not an event: "I thought I'd feel faint but I didn't"."""
_FIGURATIVE = re.compile(
    r"\b(?:when\s+i\s+saw|when\s+i\s+see|seeing|looking\s+at|at\s+the\s+(?:price|bill|cost|results?|quote)|"
    r"(?:dekh|sun|padh)\s*(?:ke|kar|kr)|(?:price|bill|cost|results?|quote|offer|before\s+and\s+after)\b)"
    r"(?:\s+[\w']+){0,3}\s+$|देख\s*(?:के|कर)\s*(?:\S+\s+){0,2}$|सुन\s*(?:के|कर)\s*(?:\S+\s+){0,2}$"
)
_WAITING_BEFORE = re.compile(
    r"(?:\bintez?aa?r|\bintjar|\bwait\w*|इंतजार|इंतज़ार)\s*(?:mein|me|में|ki|की)?\s*(?:\S+\s+){0,2}$"
)
"""Waiting as a figure of speech: "intezaar mein dam ghut raha hai" (the wait is suffocating)."""
"""A figure of speech about a price or a result ("price sun ke chakkar aa gaye", "I nearly fainted when
I saw the results"): checked only when nothing in the message says anything is wrong now."""
_AFTER_FIGURATIVE = re.compile(
    r"(?:\s+[\w']+){0,3}?\s+(?:when\s+(?:i|he|she|they|we|you)\s+(?:saw|see|sees|heard|hear|looked\s+at|"
    r"got\s+(?:the\s+|my\s+|your\s+|a\s+)?(?:bill|quote|price|results?|invoice|estimate|message|email|text))|"
    r"when\s+(?:[\w']+\s+){0,3}(?:said|says|told|tells|showed|shows|asked|mentioned|quoted|called\s+me)\b|"
    r"at\s+the\s+(?:price|bill|cost|results?|quote)|(?:dekh|sun)\s*(?:ke|kar))"
)
_AFTER_READING = re.compile(
    r"(?:\s+[\w']+){0,3}?\s+(?:reading|hearing|watching|seeing)\s+(?:the|your|my|that|this|a|his|her)\b"
)
"""Moved by something read or heard ("a lump in my throat reading your card"); never for a sign of
sight ("seeing double reading the screen" is what the eyes do)."""
_AFTER_CIRCUMSTANCE = re.compile(
    r"\s+on\s+(?:his|her|my|their|the|a)\s+(?:tea|coffee|chai|water|food|drink|dinner|lunch|breakfast|wine|sandwich)\b|"
    r"(?:\s+[\w']+){0,3}?\s+(?:waiting|queuing|queueing|in\s+(?:the\s+)?(?:queue|traffic)|stuck\s+in\s+traffic)\b"
)
"""Choking on tea, suffocating in a queue: a figure of speech unless the sentence ties the sign to
the treatment ("wheezing in the queue at the pharmacy, had meso an hour ago")."""


_TREATMENT_LINK = _CAT.compile(
    r"{since_treatment}|had\s+(?:my\s+|the\s+|her\s+|his\s+)?(?:\w+\s+)?(?:meso\w*|sessions?|injections?|jabs?|treatment)\s+"
    r"(?:\w+\s+){0,3}ago\b",
    "treatment link",
)
"""The sign tied to the treatment (the catalogue's `since_treatment`: "coming home from your clinic",
or "had meso an hour ago"): not a figure of speech, whatever else the sentence says."""
_IMPERSONAL_BEFORE = re.compile(r"\b(?:you|one|nobody|no\s+one|people|anyone)\s+(?:\w+\s+)?$")
""""you honestly cannot see anything (the marks)" is about how the skin looks, not about sight."""

_CONDITIONAL_BEFORE = re.compile(
    r"\b(?:if|in\s+case|incase|suppose|supposing|what\s+if|agar|maan\s+lo|man\s+lo|maano)\b|अगर|यदि|मान\s*लो"
)
_PRESENT_DEIXIS = re.compile(
    r"\b(?:this|these|now|right\s+now|currently|already|still|since|today|tonight|this\s+morning|started|"
    r"(?:is|am|are)\s+\w+ing|has\s+been|have\s+been|abhi|ho\s+raha|ho\s+rahi|ho\s+gaya|ho\s+gayi)\b|अभी|हो\s*रह|हो\s*गय"
)
_ASKS_WHAT_TO_DO = re.compile(
    r"\?|\b(?:what|where|who|whom|how|when|should|shall|will|would|can|could|do\s+i|kya|kaun|kahan|kaise)\b|क्या|कहां|कौन"
)


def _conditional(text: str, start: int, end: int) -> bool:
    """The sign sits in an "if" clause about the future, with nothing saying it is happening now:
    "if my vision ever goes strange after the facial, where should I go?"."""
    lo, hi = Sentences(text).around(start, end)
    openers = list(_CONDITIONAL_BEFORE.finditer(text, lo, start))
    opener = openers[-1] if openers else None
    if opener is None or _PRESENT_DEIXIS.search(text, lo, hi):
        return False
    return (
        _ASKS_WHAT_TO_DO.search(text, end, hi) is not None
        or _ASKS_WHAT_TO_DO.search(text, lo, opener.start()) is not None
    )


_REMOTE_PAST = re.compile(
    r"\b(?:\d+|a\s+few|few|many|several|two|three|four|five|six|ten|some)\s+(?:years?|yrs?|months?)\s+(?:ago|back|before)\b|"
    r"\b(?:years?|months)\s+(?:ago|back)\b|\blast\s+(?:year|month)\b|\b(?:19[5-9]\d|20[01]\d|202[0-4])\b|"
    r"\bas\s+a\s+(?:baby|toddler|teenager)\b|\bin\s+(?:19|20)\d\d\b|"
    r"\bback\s+in\s+(?:college|school|uni|university|the\s+day|\d{4})\b|\bas\s+a\s+(?:child|kid|teen\w*|student)\b|"
    r"\bwhen\s+i\s+was\s+(?:young|little|a\s+(?:kid|child|teen\w*|student)|\d+)\b|\blong\s+(?:time\s+)?ago\b|"
    r"\b(?:saal|sal|saalon|salon|mahine|mahina|mahino)\s+(?:pehle|pahle|phle)\b|\bkai\s+saal\b|कई\s*साल|सालों\s*पहले|\bbachpan\b|साल\s*पहले|महीने\s*पहले|बचपन|"
    r"\blast\s+(?:january|february|march|april|may|june|july|august|september|october|november|december|summer|winter)\b|"
    r"\b(?:pichhle|pichle|pichhli)\s+(?:saal|sal|baar|mahine|year|month)\b|पिछले\s*(?:साल|महीने|बार|जनवरी|फरवरी|मार्च|अप्रैल|मई|जून|जुलाई|अगस्त|सितंबर|अक्टूबर|नवंबर|दिसंबर)|पिछली\s*बार"
)
_RESOLVED = re.compile(
    r"\b(?:healed|sorted|resolved|cleared|recovered|turned\s+out|all\s+(?:checked|clear)|checked\s+and\s+clear|"
    r"checked\s+(?:everything|it\s+out|me\s+over|me\s+out)|grown\s+out\s+of|grew\s+out\s+of|outgrew|settled|"
    r"(?:have|has)\s+not\s+since|not\s+since|never\s+since|i\s+am\s+fine|fine\s+with|history\s+(?:for|of)|"
    r"(?:for|on)\s+the\s+form|all\s+resolved|was\s+(?:a\s+|just\s+)?(?:panic\s+attack|acidity|gas|anxiety|nothing)|"
    r"no\s+(?:issues?|problems?|trouble)(?:\s+since)?|never\s+(?:again|since)|fine\s+(?:ever\s+)?since|since\s+then|"
    r"went\s+away|gone\s+now|fine\s+now|ok\s+now|okay\s+now|theek\s+ho\s+gay\w*|aaram\s+se|phir\s+kabhi\s+nahi|"
    r"(?:sab|ab)\s+(?:theek|thik|badhiya)|(?:uske|iske)\s+baad\s+kabhi\s+nahi)\b|ठीक\s*हो\s*गय|फिर\s*कभी\s*नहीं|आराम\s*से|"
    r"(?:उसके|इसके)\s*बाद\s*कभी\s*नहीं"
)
_NOW_OR_TREATMENT = re.compile(
    r"\b(?:now\s+(?:my|i|she|he|it|the|her|his|their|there)\b|right\s+now|currently|today|tonight|this\s+morning|since\s+(?:the|my|her|his)\s+(?:session|injections?|treatment|meso\w*)|"
    r"after\s+(?:the|my|her|his)\s+(?:session|injections?|treatment|meso\w*)|(?<!never\s)again|abhi)\b|अभी"
)


_MODAL_FUTURE_OPENER = re.compile(
    r"\A[\W_]*(?:" + _FILLERS + r"\b[\W_]*){0,3}(?:could|will|would|might|may|can|is\s+it\s+possible\s+that)\s+"
    r"(?:my|i|she|he|it|they|her|his|their|we)\b"
)
_FUTURE_CUE = re.compile(
    r"\b(?:afterwards?|after\s+(?:the|it|a|my|her|his|each|every)|later|ever|during|be\s+able|at\s+all|a\s+lot|tomorrow|"
    r"next\s+(?:day|week|session)|the\s+day\s+after)\b"
)
_UNRELATED = re.compile(
    r"\b(?:unrelated|nothing\s+to\s+do\s+with|not\s+related\s+to|has\s+nothing\s+to\s+do|for\s+years|since\s+childhood|"
    r"since\s+i\s+was\s+(?:a\s+)?(?:kid|child|young))\b"
)


def _future_question(text: str, start: int, end: int) -> bool:
    """A question about what might happen later ("could my lips swell up afterwards?", "will she be
    able to breathe ok lying flat during it?"), with nothing saying it is happening now."""
    lo, hi = Sentences(text).around(start, end)
    sentence = text[lo:hi]
    clause = _clause(text, start, end)
    return (
        sentence.rstrip().endswith("?")
        and (
            _MODAL_FUTURE_OPENER.search(sentence) is not None
            or _MODAL_FUTURE_OPENER.search(text[clause[0] : clause[1]]) is not None
        )
        and _FUTURE_CUE.search(sentence) is not None
        and _PRESENT_DEIXIS.search(sentence) is None
    )


def _unrelated(text: str, start: int, end: int) -> bool:
    """The writer says it is a known, long-standing thing unrelated to the treatment ("gets migraines
    with blurred vision sometimes, unrelated")."""
    lo, hi = Sentences(text).around(start, end)
    return _UNRELATED.search(text, lo, hi) is not None and _WORSENING.search(text) is None


def _remote_past(text: str, start: int, end: int) -> bool:
    """Something that happened years or months ago and was resolved ("I fainted once at a blood test
    back in college, no trouble since"), with nothing in its sentence about now or the treatment."""
    lo, hi = Sentences(text).around(start, end)
    if not _REMOTE_PAST.search(text, lo, hi) or _NOW_OR_TREATMENT.search(text, lo, hi):
        return False
    if _WORSENING.search(text) is not None:
        return False
    if _PROGRESSIVE_NOW.search(text, lo, hi) or _HI_PROGRESSIVE.search(text, lo, hi):
        return False  # "I had meso in 2021, my lips are swelling up fast"
    # resolved, or told in the Hindi past perfect ("pichhli baar thoda chakkar aaya tha")
    return _RESOLVED.search(text) is not None or _HI_PLUPERFECT.search(text, end, hi) is not None


def _before(text: str, start: int, pattern: re.Pattern[str], window: int) -> bool:
    return pattern.search(text, max(0, start - window), start) is not None


_PATTERN_NOT_COLOUR = re.compile(
    r"(?:crazy\s*paving|cobweb|spider\s*web|fishnet|mottl|livedo|necros|blanch|lacy|net\s*like|marble)"
)


def _reject_colour(text: str, start: int, end: int) -> bool:
    if _PATTERN_NOT_COLOUR.match(text, start):
        return False  # a pattern on the skin is never a bruise or a wish
    if _before(text, start, _BRUISE_BEFORE, 60) or _before(text, start, _WISH_BEFORE, 60):
        return True
    if "black and blue" in text[start : end + 5]:
        return True  # the everyday word for a bruise
    if text[start:end].split(" ", 1)[0] not in _BASE_FORM_CHANGE:
        return False  # "it turned white" reports a change
    lo, hi = Sentences(text).around(start, end)
    return _FUTURE_OPENER.search(text[lo:hi]) is not None  # "will my skin turn dark in the sun?"


_MARK = re.compile(r"\b(?:marks?|spots?|nishaa?n\w*|daag\w*|dhabb\w*)\b|निशान|दाग|धब्ब")
_FADING = re.compile(
    r"\b(?:fading|faded|fades|almost\s+gone|nearly\s+gone|going\s+away|gone\s+now|healing|"
    r"(?:turning|turned|going|gone|now|getting)\s+(?:a\s+bit\s+|more\s+)?(?:yellow\w*|green\w*)|yellow\w*\s+now|"
    r"(?:ab|abhi)\s+(?:\w+\s+)?(?:peela|peeli|pila|pili)|(?:peela|peeli|pila|pili)\s+(?:pad|ho)\w*|"
    r"halka\s+ho|halki\s+ho|kam\s+ho|chala\s+gaya|chali\s+gayi|mit\s+raha|mit\s+gaya)\b|"
    r"(?:पीला|पीली|पीले)\s*(?:पड|हो)|अब\s*(?:\S+\s*)?(?:पीला|पीली)|हल्का\s*हो|हल्की\s*हो|कम\s*हो|चला\s*गया|मिट"
)
_MARK_GROWING = re.compile(
    r"\b(?:spread\w*|bigger|growing|grows|grown|worse\w*|darker|black\w*|cold|numb|pain\w*\s+(?:is\s+)?(?:getting|increas\w*)|"
    r"badh\w*|barh\w*|phail\w*|fail\w*|thand\w*|kaala|kaali|kala|kali)\b|बढ|फैल|ठंड|काल"
)


def _reject_fading_bruise(text: str, start: int, end: int) -> bool:
    """A small blue or purple mark that is fading or going yellow is a healing bruise ("a small
    bluish mark, almost gone now", "neela nishaan tha, ab peela"), unless anything in the message says
    it is growing, spreading, darkening, cold or more painful."""
    lo, hi = Sentences(text).around(start, end)
    if not _MARK.search(text, max(lo, start - 40), min(len(text), end + 15)):
        return False
    if _MARK_GROWING.search(text):
        return False
    return _FADING.search(text, lo, min(len(text), hi + 80)) is not None


_COLD_WORD = re.compile(r"\b(?:cold|icy|numb|freezing|thand\w*)\b")
_COLD_EXPLAINED = re.compile(
    r"\b(?:ice|iced|icing|ice\s*packs?|cold\s*packs?|cold\s+compress\w*|numbing|anaesthe\w*|anesthe\w*|lidocaine|"
    r"winter|always|usually|raynaud\w*|aircon|ac\b|barf)\b"
)


def _reject_explained_cold(text: str, start: int, end: int) -> bool:
    """Cold or numb skin explained by ice, a numbing cream or a lifelong habit ("the ice pack made it
    cold and numb for a bit", "my hands are always cold and numb in winter"): not a blocked vessel."""
    if not _COLD_WORD.search(text, start, min(len(text), end + 20)):
        return False
    lo, hi = Sentences(text).around(start, end)
    return _COLD_EXPLAINED.search(text, lo, hi) is not None


def _reject_impersonal_sight(text: str, start: int, end: int) -> bool:
    return text.startswith("cannot see", start) and _before(text, start, _IMPERSONAL_BEFORE, 30)


def _reject_fainting(text: str, start: int, end: int) -> bool:
    return (
        _before(text, start, _FEAR_BEFORE, 40)
        or _AT_THE_SIGHT.match(text, end) is not None
        or _FEAR_AFTER_HI.match(text, end) is not None
    )


_GUARDS: dict[str, Callable[[str, int, int], bool]] = {
    "bruise_or_cosmetic_colour": _reject_colour,
    "wish_for_lighter_skin": lambda text, start, end: False,  # part of _reject_colour, named for reviewers
    "future_colour_question": lambda text, start, end: False,  # part of _reject_colour, named for reviewers
    "fear_or_history_of_fainting": _reject_fainting,
    "fading_bruise": _reject_fading_bruise,
    "explained_cold": _reject_explained_cold,
    "impersonal_cannot_see": _reject_impersonal_sight,
}
for _rule in _CAT.rules.values():
    for _name in _rule.extra.get("rejects") or []:
        if _name not in _GUARDS:
            raise _catalogue.CatalogueError(f"warning_signs.yml: rule {_rule.id}: unknown guard {_name!r}")


def _guards(rule_id: str) -> tuple[Callable[[str, int, int], bool], ...]:
    return tuple(_GUARDS[name] for name in _CAT.rules[rule_id].extra.get("rejects") or [])


_RULE_GUARDS = {rid: _guards(rid) for rid in _CAT.rules}


# --- detection ----------------------------------------------------------------------------------


def _affirmed(text: str, start: int, end: int) -> bool:
    """The finding at text[start:end] is not denied in its clause."""
    return not _denied(text, start, end, _clause(text, start, end))


def _paired(text: str, first: re.Pattern[str], partner: re.Pattern[str]) -> list[_Span]:
    """Spans of a `first` finding that has a different `partner` finding nearby in the message
    (each of the two affirmed, not denied: "no fever, no redness" is not a sign)."""
    partners = [(p.start(), p.end()) for p in partner.finditer(text)]
    if not partners:
        return []
    spans: list[_Span] = []
    affirmed: dict[_Span, bool] = {}

    def ok(span: _Span) -> bool:
        if span not in affirmed:
            affirmed[span] = _affirmed(text, *span)
        return affirmed[span]

    for checked, m in enumerate(first.finditer(text)):
        if checked >= _MAX_CANDIDATES:
            return [(m.start(), m.end())]  # more candidates than any patient writes: fail closed
        if not ok((m.start(), m.end())):
            continue
        others = sorted(
            (p for p in partners if not (p[0] < m.end() and p[1] > m.start())), key=lambda p: abs(p[0] - m.start())
        )
        best = next((p for p in others[:_MAX_CANDIDATES] if ok(p)), None)
        if best is None:
            continue
        lo, hi = min(m.start(), best[0]), max(m.end(), best[1])
        spans.append((lo, hi) if hi - lo <= _PAIRED_WITHIN else (m.start(), m.end()))
        break
    return spans


def _inflammation_groups() -> tuple[int, int, tuple[re.Pattern[str], ...]]:
    spec = _CAT.rules["infection"].extra.get("inflammation") or {}
    latin = spec.get("groups") or {}
    deva = spec.get("devanagari_groups") or {}
    groups = []
    for name in sorted(set(latin) | set(deva)):
        parts = [f"(?:{p.pattern})" for p in (_CAT.compile(t, "inflammation") for t in latin.get(name, []))]
        parts += [
            f"(?:{p.pattern})" for p in (_CAT.compile(t, "inflammation", word_start=False) for t in deva.get(name, []))
        ]
        groups.append(re.compile("|".join(parts)))
    return int(spec.get("window", 160)), int(spec.get("min_groups", 3)), tuple(groups)


_INFLAMMATION_WINDOW, _INFLAMMATION_MIN, _INFLAMMATION = _inflammation_groups()


def _inflamed(text: str) -> list[_Span]:
    """Local signs of a spreading infection seen together: at least `min_groups` different kinds
    (redness, heat, swelling or hardness, getting worse or bigger, pus) within one window."""
    found: list[tuple[int, int, int]] = []  # (start, end, group)
    for g, pattern in enumerate(_INFLAMMATION):
        found += [(m.start(), m.end(), g) for m in pattern.finditer(text)]
    found.sort()
    affirmed: dict[int, bool] = {}
    lo = windows = 0
    for hi in range(len(found)):
        while found[hi][0] - found[lo][0] > _INFLAMMATION_WINDOW:
            lo += 1
        window = found[lo : hi + 1]
        if len({g for _, _, g in window}) < _INFLAMMATION_MIN:
            continue
        windows += 1
        if windows > _MAX_CANDIDATES:
            return [(found[lo][0], found[hi][1])]  # fail closed on pathological input
        for i in range(lo, hi + 1):
            if i not in affirmed:
                affirmed[i] = _affirmed(text, found[i][0], found[i][1])
        if len({found[i][2] for i in range(lo, hi + 1) if affirmed[i]}) >= _INFLAMMATION_MIN:
            return [(found[lo][0], found[hi][1])]
    return []


def _spans(rule_id: str, text: str) -> list[_Span]:
    spans = [(m.start(), m.end()) for p in _MATCHERS[rule_id] for m in p.finditer(text)]
    if rule_id == "infection":
        spans += _paired(text, _FEVER, _FEVER_PARTNER)
        spans += _paired(text, _PUS, _PUS_PARTNER)
        spans += _paired(text, _FEVER_DEVA, _FEVER_PARTNER_DEVA)
        spans += _inflamed(text)
    return sorted(set(spans))


def _kept(rule_id: str, text: str, span: _Span, calls_for_help: bool) -> bool:
    start, end = span
    if (
        rule_id == "breathing"
        and _before(text, start, _NO_BREATHING_PROBLEM, 12)
        and not _before(text, start, _CANNOT_WITHOUT, 80)
    ):
        return False
    if rule_id == "breathing" and text.startswith("suffocat", start) and _before(text, start, _STRESS_SUBJECT, 50):
        return False
    if any(guard(text, start, end) for guard in _RULE_GUARDS[rule_id]):
        return False
    if _before(text, start, _EXPECTED_BEFORE, 60):
        return False
    if _before(text, start, _WAITING_BEFORE, 40):
        return False
    if not calls_for_help and _figurative(rule_id, text, start, end):
        return False
    clause = _clause(text, start, end)
    if _denied(text, start, end, clause):
        return False
    if (
        _conditional(text, start, end)
        or _remote_past(text, start, end)
        or _future_question(text, start, end)
        or _unrelated(text, start, end)
        or _hearsay(text, start, end)
        or _hindi_hypothetical(text, start, end)
    ):
        return False
    if _list_item(text, clause):
        clause = Sentences(text).around(start, end)  # one item of a list ("gangrene, blindness, ...")
    if _general_question(text, clause, end, calls_for_help):
        return False
    return not _settled(rule_id, text, start, end)


def _figurative(rule_id: str, text: str, start: int, end: int) -> bool:
    if _before(text, start, _FIGURATIVE, 60) or _AFTER_FIGURATIVE.match(text, end):
        return True  # "I nearly fainted when I saw the bill"
    if rule_id != "vision" and _AFTER_READING.match(text, end):
        return True
    if _AFTER_CIRCUMSTANCE.match(text, end):
        return not _TREATMENT_LINK.search(text, *Sentences(text).around(start, end))
    return False


def _list_item(text: str, clause: tuple[int, int]) -> bool:
    """The clause is one short item of a comma list of short items ("horror stories, gangrene,
    blindness, disfigurement"): a general question is then judged on the whole sentence."""
    if len(text[clause[0] : clause[1]].split()) > 2:
        return False
    before = text[max(0, clause[0] - 40) : clause[0]].rstrip()
    after = text[clause[1] : clause[1] + 40].lstrip()
    neighbour_before = before.endswith(",") and len(re.split(r"[,.!?;:\n]", before[:-1])[-1].split()) <= 2
    neighbour_after = after.startswith(",") and len(re.split(r"[,.!?;:\n]", after[1:])[0].split()) <= 2
    return neighbour_before or neighbour_after


def _calls_for_help(text: str, span: _Span) -> bool:
    """A call for help near the finding ("help", "urgent", "what do I do"): then nothing near it is
    read as a general question or a figure of speech."""
    return _CALL_FOR_HELP.search(text, max(0, span[0] - 200), span[1] + 200) is not None


def detect_warning_signs(text: str) -> tuple[WarningSign, ...]:
    """Warning signs of a serious reaction in a patient's message, one per rule id, in text order.

    Returns an empty tuple when there are none, and for anything that is not a non-empty string.
    Raises on a bug: the caller (the safety gate) must treat an exception as a possible emergency.
    """
    norm = normalise(text)
    if not norm:
        return ()
    found: dict[str, _Span] = {}
    for rule_id in _MATCHERS:
        spans = _spans(rule_id, norm)
        if len(spans) > _MAX_CANDIDATES:
            found[rule_id] = spans[0]
            continue
        for span in spans:
            if _kept(rule_id, norm, span, _calls_for_help(norm, span)):
                found[rule_id] = span
                break

    if "chest_pain" not in found:
        for m in _PALPITATIONS.finditer(norm):
            span = (m.start(), m.end())
            if (found or _PALPITATION_COMPANIONS.search(norm)) and _kept(
                "chest_pain", norm, span, _calls_for_help(norm, span)
            ):
                found["chest_pain"] = span
                break
    ordered = sorted(found.items(), key=lambda item: item[1])
    return tuple(WarningSign(id=k, label=SIGN_LABELS[k], matched=norm[a:b]) for k, (a, b) in ordered)
