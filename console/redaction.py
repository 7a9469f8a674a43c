"""Redaction of personal identifiers (email addresses, phone numbers, links, card, bank and ID-like
numbers) in text the console shows, exports or keeps at rest.

Deliberately greedy: a run of 7+ digits (with the usual separators) is treated as a phone or
ID number, because missing one is worse than hiding a harmless number. Prices ("€300", "250-400")
and short numbers (ages, session counts, dates) stay readable.
"""

from __future__ import annotations

import re

EMAIL = "[email]"
PHONE = "[phone]"
NUMBER = "[number]"
URL_CREDENTIALS = "[link]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# links can carry tokens and identifiers in their query string
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# IBAN-like: two letters, two digits, then 10-30 letters/digits (spaces allowed in groups of four)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
# a phone number: optional +/00 country code, then digits with spaces, dots, dashes or brackets, 7+ digits
_PHONE = re.compile(r"(?<![\w@])(?:\+|00)?\(?\d[\d\s().-]{5,}\d(?![\w@])")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phone_or_number(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = _digits(found)
    if digits < 7:
        return found
    # a range or a price such as "250-400" or "1.500" has too few digits to get here;
    # a date such as 2026-11-22 has 8 digits but a fixed shape: keep dates readable
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}", found.strip()):
        return found
    if found.startswith(("+", "00", "(")) or 7 <= digits <= 15:
        return PHONE
    return NUMBER


def redact(text: str) -> str:
    """The text with identifiers replaced by [email], [phone], [number] or [link]."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL, text)
    text = _URL.sub(URL_CREDENTIALS, text)
    text = _IBAN.sub(NUMBER, text)
    return _PHONE.sub(_phone_or_number, text)


def maybe(text: str, enabled: bool) -> str:
    return redact(text) if enabled else text
