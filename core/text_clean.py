"""Text cleaning at the boundary: what a patient, a platform or a stored record sends may hold code
points that no UTF-8 file, JSON reader, HTTP body or database column accepts. `clean_text` turns
any Python str into one that every one of them accepts, changing only those code points:

- a lone surrogate (U+D800-U+DFFF: half of a UTF-16 pair, e.g. an emoji the widget cut in two)
  becomes U+FFFD, the replacement character, as a UTF-8 or UTF-16 decoder would do; a high and a
  low surrogate side by side (a pair that was never joined) become the one code point they encode;
- a noncharacter (U+FDD0-U+FDEF and the last two code points of every plane: U+FFFE, U+FFFF,
  U+1FFFE ... U+10FFFF) becomes U+FFFD;
- a control character (C0 U+0000-U+001F except tab, line feed and carriage return; DEL U+007F;
  C1 U+0080-U+009F) becomes a space, so the words on either side stay apart.

Everything else is kept as it is, including emoji, every script, combining marks, zero-width
joiners and private-use characters. Code points that are merely unassigned in this Python's Unicode
database are kept too: they are the emoji and letters of newer Unicode versions, and the Python 3.10
(Rasa) and 3.11 environments would disagree about them.

Standard library only (the Rasa environment imports it); linear time in the length of the text.
"""

from __future__ import annotations

import math
import re
from typing import Any

REPLACEMENT = "\ufffd"
"""What a lone surrogate or a noncharacter becomes."""
CONTROL_REPLACEMENT = " "
"""What a control character (other than tab, line feed, carriage return) becomes."""
MAX_DEPTH = 64
"""How deep `clean_value` follows nested lists and objects; anything deeper becomes None."""

_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# a surrogate pair first, so the pair is seen whole; then any single code point to replace
_UNCLEAN = re.compile(f"[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff{_NONCHARACTERS}{_CONTROLS}]")


def _replace(match: re.Match[str]) -> str:
    found = match.group(0)
    if len(found) == 2:  # a high and a low surrogate: the code point they encode
        return chr(0x10000 + ((ord(found[0]) - 0xD800) << 10) + (ord(found[1]) - 0xDC00))
    code = ord(found)
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return CONTROL_REPLACEMENT
    return REPLACEMENT


def clean_text(text: str) -> str:
    """`text` with lone surrogates and noncharacters replaced by U+FFFD and control characters
    (except tab, line feed, carriage return) by a space; the same object when nothing needs it."""
    if _UNCLEAN.search(text) is None:
        return text
    return _UNCLEAN.sub(_replace, text)


def is_clean(text: str) -> bool:
    """True when `clean_text` would leave `text` unchanged (for identifiers, which are refused
    rather than repaired, so two different ids never become one)."""
    return _UNCLEAN.search(text) is None


def clean_value(value: Any, _depth: int = 0) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers, booleans, None) that every JSON writer
    accepts: every string (keys too) cleaned, NaN and infinities as None, nesting deeper than
    MAX_DEPTH as None, tuples as lists, anything else as its cleaned str()."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if _depth >= MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v, _depth + 1) for v in value]
    return clean_text(str(value))
