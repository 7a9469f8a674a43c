"""Which language a patient wrote in, by script: Devanagari is Hindi ("hi"); Latin letters are
English or Hinglish, answered in English ("en"); anything else ("other") gets a polite note that the
assistant reads Hindi and English."""

from __future__ import annotations

DEVANAGARI = ("\u0900", "\u097f")
HINDI_MIN_SHARE = 0.2
"""Devanagari at least this share of the script characters makes a message Hindi: a patient who
writes some words in Devanagari reads it ("मेसो का session kitne ka hai?")."""
LATIN_MIN_SHARE = 0.5


def language_of(text: str) -> str:
    devanagari = latin = other = 0
    for ch in text:
        if DEVANAGARI[0] <= ch <= DEVANAGARI[1]:
            devanagari += 1  # vowel signs count too (they are not `isalpha`)
        elif ch.isascii():
            latin += ch.isalpha()
        elif ch.isalpha():
            other += 1
    total = devanagari + latin + other
    if not total:
        return "en"
    if devanagari >= 2 and devanagari / total >= HINDI_MIN_SHARE:
        return "hi"
    return "en" if latin / total >= LATIN_MIN_SHARE else "other"
