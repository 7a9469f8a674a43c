"""Which language to answer in is decided by script: Devanagari gets Hindi, Hinglish English."""

from __future__ import annotations

import pytest

from understanding.language import language_of


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("does it hurt?", "en"),
        ("meso ke baad kitne din me result dikhta hai", "en"),
        ("क्या इसमें दर्द होता है?", "hi"),
        ("मेसो का session kitne ka hai?", "hi"),
        ("هل هو مؤلم؟", "other"),
        ("", "en"),
        ("?? 123 !!", "en"),
        ("\ud800\x00", "en"),
    ],
)
def test_language_by_script(text: str, lang: str) -> None:
    assert language_of(text) == lang
