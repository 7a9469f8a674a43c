"""The web pages allowed to use the chat widget from a browser: one list (MESO_WIDGET_ORIGINS) that
gives both Rasa's CORS (`rasa run --cors`, every route) and the widget API's own origin check.

An entry is an origin, `scheme://host[:port]` (no path), e.g. `https://www.clinic.example`. For
development only, `http://localhost:*` and `http://127.0.0.1:*` mean that host on any port: the
tests' clinic pages run on random ports. Production refuses those and anything not https.

Standard library only: the Rasa process (no pydantic there) imports it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ANY_PORT = ":*"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
DEVELOPMENT_DEFAULT = ("http://localhost:*", "http://127.0.0.1:*")
"""Pages on this machine, any port: `make run`'s demo page (served by Rasa itself) and the tests' pages."""

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_ORIGIN = re.compile(
    rf"(?P<scheme>https?)://(?P<host>{_LABEL}(?:\.{_LABEL})*|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{{1,5}}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def parse(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """Origins from a comma- or space-separated string (or a list), normalised as browsers send them
    (lower case, no trailing slash, no default port). Raises ValueError naming a bad entry."""
    if raw is None:
        return ()
    items = re.split(r"[,\s]+", raw) if isinstance(raw, str) else [str(item) for item in raw]
    out: list[str] = []
    for item in items:
        entry = item.strip().lower().rstrip("/")
        if not entry:
            continue
        origin = _normalise(entry)
        if origin not in out:
            out.append(origin)
    return tuple(out)


def _normalise(entry: str) -> str:
    if entry.endswith(ANY_PORT):
        base = entry[: -len(ANY_PORT)]
        if base not in (f"http://{host}" for host in LOOPBACK_HOSTS):
            raise ValueError(
                f"widget origin {entry!r}: ':*' (any port) is only for http://localhost and http://127.0.0.1"
            )
        return entry
    match = _ORIGIN.fullmatch(entry)
    if match is None:
        raise ValueError(
            f"widget origin {entry!r} is not an origin: write scheme://host[:port] with no path, "
            "e.g. https://www.clinic.example"
        )
    scheme, host, port = match.group("scheme"), match.group("host"), match.group("port")
    if port is not None and int(port) > 65535:
        raise ValueError(f"widget origin {entry!r}: the port is out of range")
    if port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"  # browsers leave the default port out of the Origin header
    return entry


def allows(origin: str, allowed: Iterable[str]) -> bool:
    """Whether a browser's Origin header is one of the allowed origins (exactly, or a loopback
    any-port entry with a port or none)."""
    origin = origin.strip().lower()
    for entry in allowed:
        if entry.endswith(ANY_PORT):
            base = entry[: -len(ANY_PORT)]
            if origin == base or re.fullmatch(re.escape(base) + r":[0-9]{1,5}", origin):
                return True
        elif origin == entry:
            return True
    return False


def for_rasa(allowed: Iterable[str]) -> list[str]:
    """The `rasa run --cors` arguments. Sanic-CORS compares a plain origin exactly and treats a value
    with regex characters as a pattern matched from the start, so an any-port entry becomes a fully
    anchored pattern (never a prefix: `http://localhost.evil.example` must not match)."""
    out: list[str] = []
    for entry in allowed:
        if entry.endswith(ANY_PORT):
            out.append("^" + re.escape(entry[: -len(ANY_PORT)]) + r"(:[0-9]{1,5})?$")
        else:
            out.append(entry)
    return out


def unsafe_for_production(allowed: Iterable[str]) -> list[str]:
    """Entries production refuses: plain http (the page and the patient's session would travel in
    clear) and any-port loopback entries (development only)."""
    return [entry for entry in allowed if entry.endswith(ANY_PORT) or not entry.startswith("https://")]


def origin_of(url: str | None) -> str | None:
    """The origin of an address such as MESO_PUBLIC_URL (Rasa's own pages, e.g. its demo page), or None."""
    if not url:
        return None
    parts = url.strip().lower().split("/")
    try:
        return _normalise("/".join(parts[:3])) if len(parts) >= 3 and parts[1] == "" else None
    except ValueError:
        return None
