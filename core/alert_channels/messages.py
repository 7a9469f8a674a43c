"""What a staff alert message says, by email and in a Slack-compatible chat: the kind, the patient
reference (P-3F9K2A), the channel, the rule ids, the time and a link to the console. Nothing else: no
patient text, no sender id (a WhatsApp sender id is a phone number), no name.

Every field is re-checked here, whatever the caller passed: a reference that is not `P-` and six
base32 characters, a channel or rule id outside a short safe alphabet, is shown as a placeholder, so
no sentence can travel in one. One alert makes one message; alerts held by the rate limit make one
message listing them all ("3 more emergencies").

Standard library only.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.alert_channels.config import DeliveryConfig
    from core.alerts import Alert

CHANNEL_LABELS = {"webchat": "web widget", "whatsapp": "WhatsApp", "telegram": "Telegram", "rest": "REST API"}
KIND_TITLES = {"emergency": "EMERGENCY", "handoff": "Handoff", "booking": "Booking request"}
KIND_NOUNS = {"emergency": ("emergency", "emergencies"), "handoff": ("handoff", "handoffs")}
KIND_NOUNS["booking"] = ("booking request", "booking requests")
KIND_LINES = {
    "emergency": "A patient's message showed a warning sign: they were told to get urgent care. "
    "Open the conversation in the staff console now.",
    "handoff": "A conversation was handed to staff and waits in the console's handoff queue.",
    "booking": "A patient asked to book an appointment.",
}
MAX_LISTED = 50
"""Alerts listed one by one in a message for held alerts; the rest are counted."""
NO_TEXT_NOTE = "No patient text is sent by email or chat: read the conversation in the staff console."

_REF = re.compile(r"P-[0-9A-HJKMNP-TV-Z]{6}")
_RULE_ID = re.compile(
    r"[A-Za-z][A-Za-z0-9_]*(?::[A-Za-z0-9_.-]+(?:,[A-Za-z0-9_.-]+)*)+"  # warning_sign:airway,vision
    r"|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+"  # booking_request
)
_CHANNEL = re.compile(r"[a-z0-9_.-]{1,32}")


@dataclass(frozen=True)
class Notice:
    """One message for one role: an email's subject and text, and the Slack-compatible webhook body."""

    subject: str
    text: str
    slack: dict[str, Any]


def reference(alert: Alert) -> str:
    ref = str(alert.patient_ref)
    return ref if _REF.fullmatch(ref) else "P-??????"


def kind_of(alert: Alert) -> str:
    return alert.kind if alert.kind in KIND_TITLES else "handoff"


def channel_label(alert: Alert) -> str:
    channel = str(alert.channel).strip().lower()
    if channel in CHANNEL_LABELS:
        return CHANNEL_LABELS[channel]
    return channel if _CHANNEL.fullmatch(channel) else "other"


def rule_ids(alert: Alert) -> list[str]:
    """The rule ids in `reason` (at most ten, 80 characters each): `prefix:id[,id...]` or `snake_case`;
    anything else (a plain word, a number, a name) is left out."""
    tokens = (token.strip(",") for token in str(alert.reason).split())
    return [token for token in tokens if len(token) <= 80 and _RULE_ID.fullmatch(token)][:10]


def when(alert: Alert) -> str:
    at = alert.at if isinstance(alert.at, int | float) and math.isfinite(alert.at) else 0.0
    try:
        return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "unknown time"


def console_link(config: DeliveryConfig, alerts: list[Alert]) -> str | None:
    """The console screen to open: the handoff queue for emergencies and handoffs, else the conversations."""
    if not config.console_url:
        return None
    queue = any(kind_of(alert) in ("emergency", "handoff") for alert in alerts)
    return config.console_url.rstrip("/") + ("/#/handoffs" if queue else "/#/conversations")


def build(config: DeliveryConfig, role: str, alerts: list[Alert]) -> Notice:
    """The message for `alerts` (one, or several held by the rate limit) to `role`."""
    if len(alerts) == 1:
        return _single(config, alerts[0])
    return _held(config, role, alerts)


def _single(config: DeliveryConfig, alert: Alert) -> Notice:
    kind, ref, channel, rules = kind_of(alert), reference(alert), channel_label(alert), rule_ids(alert)
    link = console_link(config, [alert])
    title = f"{KIND_TITLES[kind]} {ref} ({channel})"
    lines = [
        KIND_LINES[kind],
        "",
        f"Reference: {ref}",
        f"Kind: {kind}",
        f"Channel: {channel}",
        f"Rules: {', '.join(rules) or '(none)'}",
        f"Time: {when(alert)}",
    ]
    if link:
        lines.append(f"Console: {link}")
    lines += ["", NO_TEXT_NOTE]
    fields = [
        ("Kind", kind),
        ("Channel", channel),
        ("Rules", ", ".join(f"`{_md(rule)}`" for rule in rules) or "(none)"),
        ("Time", when(alert)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _md(KIND_LINES[kind])}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        _context(link),
    ]
    summary = f"{title}: {', '.join(rules) or 'no rule id'}"
    return Notice(
        subject=f"{config.subject_tag} {title}",
        text="\n".join(lines) + "\n",
        slack={"text": _md(summary), "blocks": blocks},
    )


def _held(config: DeliveryConfig, role: str, alerts: list[Alert]) -> Notice:
    counts = Counter(kind_of(alert) for alert in alerts)
    parts = [_count(counts[kind], kind) for kind in KIND_TITLES if counts[kind]]
    what = f"{len(alerts)} more {_plural(next(iter(counts)))}" if len(counts) == 1 else f"{len(alerts)} more alerts"
    if len(counts) > 1:
        what += f" ({', '.join(parts)})"
    title = ("EMERGENCY: " if counts["emergency"] else "") + what
    minutes = f"{config.rate_window / 60:g}"
    intro = (
        f"More than {config.rate_limit} alerts for {role} within {minutes} minutes: these were held by the "
        "rate limit and are sent together."
    )
    listed = [
        f"{KIND_TITLES[kind_of(a)]}  {reference(a)}  {channel_label(a)}  {', '.join(rule_ids(a)) or '-'}  {when(a)}"
        for a in alerts[:MAX_LISTED]
    ]
    if len(alerts) > MAX_LISTED:
        listed.append(f"... and {len(alerts) - MAX_LISTED} more (see the alerts in the staff console)")
    link = console_link(config, alerts)
    lines = [intro, "", *listed, ""]
    if link:
        lines.append(f"Console: {link}")
    lines.append(NO_TEXT_NOTE)
    body = _md("\n".join(listed))
    if len(body) > 2900:
        body = body[:2900].rsplit("\n", 1)[0] + "\n…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _md(intro)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{body}```"}},
        _context(link),
    ]
    return Notice(
        subject=f"{config.subject_tag} {title}",
        text="\n".join(lines) + "\n",
        slack={"text": _md(title), "blocks": blocks},
    )


def _context(link: str | None) -> dict[str, Any]:
    text = _md(NO_TEXT_NOTE)
    if link and not any(ch in link for ch in "|<>"):
        text += f" <{link}|Open the console>"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _md(text: str) -> str:
    """Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plural(kind: str) -> str:
    return KIND_NOUNS[kind][1]


def _count(number: int, kind: str) -> str:
    return f"{number} {KIND_NOUNS[kind][0 if number == 1 else 1]}"
