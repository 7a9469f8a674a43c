"""Where staff alerts go besides the alerts file: the mail server, and per role (clinician, admin,
reception) its email recipients, its Slack-compatible webhooks and which alert kinds it gets, with the
rate limit. Built from the typed settings (`from_settings`); the Rasa process, which cannot load them,
gets the same object as JSON in MESO_ALERT_DELIVERY (scripts/run.sh passes it on).

Standard library only (the Rasa environment imports it).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from core.settings import Settings

ROLES = ("clinician", "admin", "reception")
"""Who gets alerts: clinicians (the console's role), admins, and the front desk (no console role)."""
KINDS = ("emergency", "handoff", "booking")
DEFAULT_KINDS = {"clinician": ("emergency", "handoff"), "admin": ("emergency", "booking"), "reception": ("booking",)}
SmtpSecurity = Literal["starttls", "tls", "none"]
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
RETRY_DELAYS = (2.0, 10.0, 30.0, 120.0, 600.0)
"""Seconds before each new attempt at one email or webhook post: six attempts over about 13 minutes."""

_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+")


def is_loopback_host(host: str | None) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1: traffic that never leaves the machine."""
    if not host:
        return False
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_list(value: object, what: str) -> tuple[str, ...]:
    """A comma-separated string (or a list) as a tuple of non-empty, stripped items."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"{what}: a comma-separated list")
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{what}: a comma-separated list of text")
    return tuple(item.strip() for item in items if item.strip())


def check_email(address: str) -> str:
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise ValueError(f"not an email address: {address!r}")
    return address


def check_url(url: str, what: str) -> str:
    """An absolute http(s) URL without spaces or control characters."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url) or len(url) > 2000:
        raise ValueError(f"{what}: not a URL (spaces or control characters)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what}: an http:// or https:// URL with a host")
    return url


def unsafe_for_production(url: str) -> bool:
    """Plain http:// to anything but this machine."""
    parts = urlsplit(url)
    return parts.scheme != "https" and not is_loopback_host(parts.hostname)


def redacted_url(url: str) -> str:
    """What a log may show of a webhook URL (its path is often the secret): scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: SmtpSecurity
    sender: str
    """The From address."""
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0


@dataclass(frozen=True)
class RoleRoute:
    role: str
    emails: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = field(default=(), repr=False)
    """Slack-compatible incoming-webhook URLs (secrets: anyone holding one can post to the channel)."""
    kinds: tuple[str, ...] = ()

    def wants(self, kind: str) -> bool:
        return kind in self.kinds and bool(self.emails or self.webhooks)


@dataclass(frozen=True)
class DeliveryConfig:
    routes: tuple[RoleRoute, ...]
    smtp: SmtpConfig | None = None
    rate_limit: int = 10
    """Messages per role within `rate_window` seconds; more are held and sent together as one message."""
    rate_window: float = 600.0
    emergency_wait: float = 60.0
    """An emergency held by the rate limit goes out (with whatever else is held) at most this many seconds
    later, limit or not."""
    console_url: str | None = None
    subject_tag: str = "[Clinic]"
    retry_delays: tuple[float, ...] = RETRY_DELAYS

    def __post_init__(self) -> None:
        if self.rate_limit < 1 or self.rate_window <= 0 or self.emergency_wait <= 0:
            raise ValueError("rate limit, window and emergency wait must be positive")
        if any(route.emails for route in self.routes) and self.smtp is None:
            raise ValueError("email recipients are set but no mail server (MESO_SMTP_HOST)")
        for route in self.routes:
            if route.role not in ROLES or not set(route.kinds) <= set(KINDS):
                raise ValueError(f"unknown role or alert kind in {route.role!r}: {route.kinds}")

    @property
    def enabled(self) -> bool:
        return any(route.emails or route.webhooks for route in self.routes)

    def routes_for(self, kind: str) -> list[RoleRoute]:
        return [route for route in self.routes if route.wants(kind)]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> DeliveryConfig:
        """The object `to_json` wrote; anything else is a ValueError."""
        try:
            data: Any = json.loads(raw)
            smtp = data.pop("smtp")
            return cls(
                **{
                    **data,
                    "routes": tuple(
                        RoleRoute(**{**route, **{key: tuple(route[key]) for key in ("emails", "webhooks", "kinds")}})
                        for route in data["routes"]
                    ),
                    "smtp": SmtpConfig(**smtp) if smtp else None,
                    "retry_delays": tuple(float(delay) for delay in data["retry_delays"]),
                }
            )
        except (TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise ValueError(f"not a delivery configuration: {exc}") from None


def from_settings(settings: Settings) -> DeliveryConfig | None:
    """The delivery configuration the settings describe, or None when no recipient or webhook is set."""
    routes = tuple(
        RoleRoute(
            role=role,
            emails=getattr(settings, f"alert_email_{role}"),
            webhooks=getattr(settings, f"alert_slack_webhook_{role}"),
            kinds=getattr(settings, f"alert_kinds_{role}"),
        )
        for role in ROLES
    )
    smtp = None
    if settings.smtp_host and settings.smtp_from:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            sender=settings.smtp_from,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout_seconds,
        )
    config = DeliveryConfig(
        routes=routes,
        smtp=smtp,
        rate_limit=settings.alert_rate_limit,
        rate_window=settings.alert_rate_window_minutes * 60.0,
        emergency_wait=float(settings.alert_emergency_batch_seconds),
        console_url=settings.console_url,
        subject_tag=f"[{_clinic_name(settings)}]",
    )
    return config if config.enabled else None


def _clinic_name(settings: Settings) -> str:
    """The clinic's name for the subject line (at most 40 characters), "Clinic" if clinic.yml is unreadable."""
    try:
        from core.clinic import load_clinic

        name = " ".join(load_clinic(settings.clinic_file).name.split())
    except Exception:
        return "Clinic"
    return (name[:39] + "…" if len(name) > 40 else name) or "Clinic"
