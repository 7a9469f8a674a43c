"""The short patient reference staff see instead of a sender id (core/patient_ref.py)."""

from __future__ import annotations

import re

from core.patient_ref import patient_reference

REFERENCE = re.compile(r"P-[0-9A-HJKMNP-TV-Z]{6}")


def test_a_short_readable_reference_that_is_not_the_sender_id():
    senders = ["web-3f9k2a0011223344", "tg-123456789", "wa-447700900123", "rest-1", "web-\ud800odd"]
    refs = [patient_reference(s) for s in senders]
    assert all(REFERENCE.fullmatch(r) for r in refs), refs
    assert len(set(refs)) == len(refs)
    for sender, ref in zip(senders, refs, strict=True):
        assert ref[2:].lower() not in sender.lower()
    assert "447700900123" not in "".join(refs)  # a phone number in the sender id does not show


def test_the_same_conversation_keeps_its_reference():
    assert patient_reference("web-0123456789abcdef") == patient_reference("web-0123456789abcdef")
    assert patient_reference("web-0123456789abcdef") != patient_reference("web-0123456789abcdee")


def test_few_clashes_among_many_patients():
    refs = {patient_reference(f"web-{n:016x}") for n in range(20_000)}
    assert len(refs) >= 19_990
