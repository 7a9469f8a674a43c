"""The short patient reference staff see in the console (e.g. `P-3F9K2A`) instead of a sender id.

A sender id can carry a phone number (WhatsApp) or look like a key (web chat), and it is long to read
out on the phone; the reference is short, stable for a conversation, and says nothing about the
patient. It is not a secret and opens nothing: it is a one-way digest, and the console API still
uses the sender id. Six characters of Crockford's base32 (no I, L, O, U: easy to read aloud) give a
billion values, so two patients sharing one is rare, and harmless: the console's links and API
use the sender id, so a shared reference never mixes two conversations.

Standard library only.
"""

from __future__ import annotations

import hashlib

PREFIX = "P-"
LENGTH = 6
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
_DOMAIN = b"meso-patient-reference:v1:"


def patient_reference(sender_id: str) -> str:
    """`P-` and six base32 characters derived from the sender id (same id, same reference)."""
    digest = int.from_bytes(hashlib.sha256(_DOMAIN + sender_id.encode("utf-8", "surrogatepass")).digest()[:8], "big")
    chars = []
    for _ in range(LENGTH):
        digest, index = divmod(digest, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return PREFIX + "".join(chars)
