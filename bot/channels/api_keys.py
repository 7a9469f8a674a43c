"""API keys for the REST channel: one per integration (a clinic website back end, a CRM...).

An integration sends its key in the `X-API-Key` header. The server keeps only each key's SHA-256
(keys are long random strings, so a plain hash is enough: nothing to guess); the name the key
belongs to namespaces the conversations it writes (`rest-<name>-<sender>`), so one integration can
neither read nor write another's conversations or a widget's. Names are 1-32 of a-z 0-9 _ (no
hyphen, so `rest-<name>-` can never be read two ways).

Where keys come from (core/settings.py; bot/rasa_config.py writes the hashes into credentials.yml):

- `MESO_REST_API_KEYS`: `name=sha256:<64 hex>` entries, separated by commas (hashes only: no secret
  in the environment or in .env);
- `MESO_REST_API_KEYS_FILE`: a file readable by its owner only (0600), one `name=<key>` or
  `name=sha256:<64 hex>` a line; blank lines and `#` comments are skipped.

Make a key (prints the line for the file and the hash line for the variable):

    python -m bot.channels.api_keys new crm

Standard library only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HEADER = "X-API-Key"
NAME = re.compile(r"[a-z0-9_]{1,32}")
HASHED = re.compile(r"sha256:([0-9a-f]{64})")
MIN_KEY = 24
MAX_KEY = 256


def hash_key(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def parse_entry(entry: str, where: str, *, raw_allowed: bool) -> tuple[str, str]:
    """`name=sha256:<hex>` (or `name=<key>` where raw keys are allowed) -> (name, "sha256:<hex>")."""
    name, sep, value = entry.strip().partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not NAME.fullmatch(name):
        raise ValueError(f"{where}: each entry is name=key with a name of 1-32 of a-z 0-9 _ (got {name!r})")
    if HASHED.fullmatch(value):
        return name, value
    if not raw_allowed:
        raise ValueError(f"{where}: the key of {name!r} must be given as its hash, sha256:<64 hex digits>")
    if not MIN_KEY <= len(value) <= MAX_KEY or not value.isprintable() or " " in value:
        raise ValueError(f"{where}: the key of {name!r} must be {MIN_KEY}-{MAX_KEY} printable characters, no spaces")
    return name, hash_key(value)


def from_setting(value: str | None) -> list[tuple[str, str]]:
    """MESO_REST_API_KEYS: comma-separated `name=sha256:<hex>`."""
    return [parse_entry(e, "MESO_REST_API_KEYS", raw_allowed=False) for e in (value or "").split(",") if e.strip()]


def from_file(path: Path) -> list[tuple[str, str]]:
    """MESO_REST_API_KEYS_FILE: refused unless only its owner can read it."""
    try:
        mode = path.stat().st_mode
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"MESO_REST_API_KEYS_FILE {path}: cannot read it ({exc.strerror})") from None
    if stat.S_IMODE(mode) & 0o077:
        raise ValueError(
            f"MESO_REST_API_KEYS_FILE {path} is readable by others (mode {stat.S_IMODE(mode):o}): chmod 600 it"
        )
    where = f"MESO_REST_API_KEYS_FILE {path}"
    return [
        parse_entry(line, where, raw_allowed=True)
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


def configured(value: str | None, path: Path | None) -> list[str]:
    """Every configured key as `name=sha256:<hex>` (what credentials.yml holds); raises ValueError
    for a bad entry, a name given twice or one key under two names."""
    entries = from_setting(value) + (from_file(path) if path else [])
    names = [name for name, _ in entries]
    hashes = [digest for _, digest in entries]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"REST API key names given more than once: {', '.join(twice)}")
    if len(set(hashes)) != len(hashes):
        raise ValueError("the same REST API key is given under two names")
    return [f"{name}={digest}" for name, digest in entries]


@dataclass(frozen=True)
class ApiKeys:
    """The configured keys, as (name, SHA-256 digest) pairs."""

    keys: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> ApiKeys:
        pairs = [parse_entry(str(e), "credentials.yml api_keys", raw_allowed=False) for e in entries]
        return cls(tuple((name, bytes.fromhex(digest.removeprefix("sha256:"))) for name, digest in pairs))

    def __bool__(self) -> bool:
        return bool(self.keys)

    def match(self, given: str | None) -> str | None:
        """The integration whose key this is, or None. Compares with every key (constant time per
        key), so the answer's timing does not say which keys exist."""
        if not given or len(given) > MAX_KEY:
            return None
        digest = hashlib.sha256(given.encode(errors="replace")).digest()
        found: str | None = None
        for name, expected in self.keys:
            if hmac.compare_digest(digest, expected):
                found = name
        return found


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "new" or not NAME.fullmatch(argv[1]):
        print("usage: python -m bot.channels.api_keys new NAME   (NAME: 1-32 of a-z 0-9 _)", file=sys.stderr)
        return 2
    key = secrets.token_urlsafe(32)
    print(f"# for MESO_REST_API_KEYS_FILE (chmod 600), and give the key to the integration ({HEADER}: <key>):")
    print(f"{argv[1]}={key}")
    print("# or, keeping only the hash, in MESO_REST_API_KEYS:")
    print(f"{argv[1]}={hash_key(key)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
