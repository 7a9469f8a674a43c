"""Passwords (argon2id via argon2-cffi, strength by zxcvbn) and session tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_PASSWORD = 12
MIN_SCORE = 3
"""zxcvbn's score (0-4) a new password needs: 3 is "safely unguessable: moderate protection from an
offline slow-hash scenario" (about 10^8 guesses or more)."""
MAX_CHECKED = 128
"""zxcvbn's time grows with the length; past this many characters only the start is scored (a
passphrase this long is strong unless the start is weak)."""
CONSOLE_WORDS = ("mesotherapy", "clinic", "console", "staff", "admin", "clinician", "reviewer")
"""Words anyone would try first against this console: a password built on them scores lower."""

_hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy_hash() -> str:
    """A real hash of a random password, made with the current hasher's parameters: checking an
    unknown username against it costs what checking a real account costs."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always runs one argon2 verification, also without an account (`password_hash` None)."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other argon2 parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def password_problem(password: str, username: str = "", context: Iterable[str] = ()) -> str | None:
    """Why a new password is not acceptable, or None. At least MIN_PASSWORD characters, and zxcvbn
    (offline dictionaries of common passwords, names and words, keyboard patterns, dates, repeats)
    scores it MIN_SCORE or more, with and without its spaces, with the username, the clinic's name
    and the console's own words counted as known to an attacker."""
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters"
    if len(username) >= 3 and username.lower() in password.lower():
        return "the password must not contain the username"
    known = [w for w in (username, *context, *CONSOLE_WORDS) if w]
    known += [part for w in known for part in w.split() if len(part) > 2]
    # zxcvbn scores spaces as random characters: "password 1234 abc" is scored without them as well
    candidates = {password[:MAX_CHECKED], "".join(password.split())[:MAX_CHECKED]}
    result = min((zxcvbn(c, known, MAX_CHECKED) for c in candidates if c), key=lambda r: int(r["score"]))
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result.get("feedback") or {}
    advice = [str(x) for x in [feedback.get("warning"), *(feedback.get("suggestions") or [])] if x]
    advice = advice or [
        "A few unrelated words, or a longer sentence only you would write, are strong and easy to remember."
    ]
    return " ".join(["the password is too easy to guess.", *advice])


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
