"""A patient's requests about their own data (issue 16): "delete my data", "forget me", and "what do you
keep about me?", in English, Hinglish and Hindi, on every channel.

Recognised by the words' shape, not by listed sentences: an erase verb applied to the patient's own data
or to the patient ("forget me", "delete my chat", "mera data delete karo", "मेरा डेटा हटा दो"), or a
question about what is kept, stored or seen of it. A treatment question that happens to share a verb
("will it remove my dark circles?") is no request: the object must be the patient's data or the patient.

The erasure itself runs in the staff console (console/patient_requests.py), after the patient confirms:
the dialogue cannot delete the conversation it is writing to."""

from __future__ import annotations

import enum
import re

from core.text_clean import clean_text


class DataRequest(enum.Enum):
    ERASE = "erase"
    WHAT_IS_KEPT = "what_is_kept"


_MINE = r"(?:my|mine|our|this|these|the|all(?:\s+of)?\s+my|all\s+the|any\s+of\s+my|every)"
_DATA = (
    r"(?:data|personal\s+data|info|information|details|messages?|msgs?|chats?|chat\s+history|conversations?|"
    r"history|records?|texts?|number|phone\s+number|contact\s+details|everything|transcripts?|account)"
)
_ERASE = r"(?:delete|erase|remove|wipe|clear|destroy|purge|get\s+rid\s+of|forget|scrub|deleted|erased|removed|wiped)"

_ENGLISH_ERASE = re.compile(
    rf"""\b(?:
        {_ERASE}\s+(?:{_MINE}\s+)?{_DATA}\b                                   # delete my data, erase this chat
      | {_ERASE}\s+(?:about\s+)?me\b(?!\s+(?:not|how|what|if|whether|when|why))    # forget me, delete me
      | {_ERASE}\s+(?:everything|all)\s+(?:you\s+(?:have|hold|keep|know|stored?)\s+)?(?:about|on|of)\s+me\b
      | {_MINE}\s+{_DATA}\s+(?:to\s+be\s+|be\s+|is\s+|are\s+)?(?:deleted|erased|removed|wiped|forgotten|cleared)
      | right\s+to\s+(?:be\s+forgotten|erasure)
      | (?:don'?t|do\s+not|stop)\s+(?:keep|keeping|store|storing|sav(?:e|ing))\s+{_MINE}\s+{_DATA}
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_HINGLISH_ERASE = re.compile(
    r"""\b(?:mera|meri|mere|hamara|hamari|apna|apni|ye|yeh|is)\s+(?:sara\s+|saara\s+|sare\s+|saare\s+|sari\s+|saari\s+|poora\s+|pura\s+|poore\s+|pure\s+)?
        (?:data|deta|chat|chats|message|messages|msg|details|detail|jankari|jaankari|info|record|number|history)\s+
        (?:\w+\s+){0,2}?
        (?:delete|del|hata|hatao|hatado|hata\s+do|hata\s+dijiye|mita|mitao|mita\s+do|mita\s+dijiye|clear|remove|erase)\b""",
    re.IGNORECASE | re.VERBOSE,
)

_DEVANAGARI_ERASE = re.compile(
    r"(?:मेरा|मेरी|मेरे|हमारा|हमारी|यह|ये|इस)\s+(?:सारा\s+|सारी\s+|पूरा\s+|पूरी\s+)?"
    r"(?:डेटा|डाटा|जानकारी|चैट|संदेश|मैसेज|रिकॉर्ड|नंबर|बातचीत|विवरण)\s+(?:\S+\s+){0,2}?"
    r"(?:हटा|मिटा|डिलीट|साफ\s*कर|ख़त्म\s*कर|खत्म\s*कर)"
    r"|मुझे\s+भूल\s+जाओ|मुझे\s+भूल\s+जाइए"
)

_ENGLISH_KEPT = re.compile(
    rf"""\b(?:
        (?:what|which|how\s+much)\s+(?:personal\s+)?(?:data|info|information|details|records?)\s+
            (?:do|does|will|are|is|did|have|has)\s+(?:you|the\s+clinic|it|they|this\s+(?:bot|chat|app)|your\s+\w+)\s+
            (?:keep|store|save|hold|collect|have|record|log|retain|share|stored|kept|saved|collected|holding|keeping|storing)
      | what\s+do\s+(?:you|they)\s+(?:keep|store|save|hold|collect|know|have|record)\s+(?:about|on|of)\s+me\b
      | (?:do|does|will|are|is)\s+(?:you|the\s+clinic|this\s+(?:bot|chat))\s+(?:keep|store|save|record|log|retain|keeping|storing|saving|recording)\s+
            {_MINE}\s+{_DATA}
      | (?:is|are)\s+{_MINE}\s+{_DATA}\s+(?:being\s+)?(?:stored|saved|kept|recorded|logged|private|shared|confidential)
      | who\s+(?:can|will|could)\s+(?:see|read|access|view)\s+{_MINE}\s+{_DATA}
      | how\s+long\s+(?:do|will|does)\s+(?:you|the\s+clinic|they)\s+(?:keep|store|retain|hold)\s+{_MINE}\s+{_DATA}
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_HINGLISH_KEPT = re.compile(
    r"""\b(?:
        (?:mera|meri|mere)\s+(?:data|chat|messages?|details|jankari|jaankari|info)\s+(?:\w+\s+){0,2}?
            (?:save|store|record|rakhte|rakhoge|rakha|rakhti|dekh\s+sakta|dekh\s+sakte|padh\s+sakte)
      | (?:kya|kaun\s+sa|kitna)\s+(?:data|info|jankari|jaankari)\s+(?:\w+\s+){0,2}?(?:rakhte|save|store)
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_DEVANAGARI_KEPT = re.compile(
    r"(?:मेरा|मेरी|मेरे)\s+(?:डेटा|डाटा|जानकारी|चैट|संदेश|मैसेज|बातचीत)\s+(?:\S+\s+){0,3}?"
    r"(?:रखते|रखेंगे|सेव|स्टोर|रिकॉर्ड|देख\s+सकते|पढ़\s+सकते)"
    r"|(?:क्या|कौन\s+सी|कितनी)\s+(?:जानकारी|डेटा|डाटा)\s+(?:\S+\s+){0,3}?(?:रखते|सेव|स्टोर)"
)


def request_of(text: str) -> DataRequest | None:
    """Which data request a message makes, if any. Erasure wins when a message asks both."""
    said = " ".join(clean_text(text).replace("’", "'").split())
    if not said:
        return None
    if any(p.search(said) for p in (_ENGLISH_ERASE, _HINGLISH_ERASE, _DEVANAGARI_ERASE)):
        return DataRequest.ERASE
    if any(p.search(said) for p in (_ENGLISH_KEPT, _HINGLISH_KEPT, _DEVANAGARI_KEPT)):
        return DataRequest.WHAT_IS_KEPT
    return None
