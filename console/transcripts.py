"""A conversation's transcript from its tracker events: patient messages, bot replies with the
turn's reply metadata (CONTRACT.md), and staff replies with their author.

Every event is read tolerantly, so one bad record never breaks a transcript or an export: strings
are cleaned (core/text_clean.py: lone surrogates, NUL, noncharacters) and cut to TEXT_LIMIT, the
reply metadata is made JSON-safe (clean_value), values of the wrong type count as missing and an
unreadable timestamp reads as the epoch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from console.redaction import maybe
from console.schemas import MessageOut
from console.tracker_store import StoredEvent, as_dict, event_time
from core.text_clean import clean_text, clean_value

TEXT_LIMIT = 20_000
"""Characters of one message shown or exported (the channels accept 10,000; a longer text was
stored some other way and is cut, marked with an ellipsis)."""


def _text(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return clean_text(value) if len(value) <= TEXT_LIMIT else clean_text(value[: TEXT_LIMIT - 1]) + "…"


def messages(events: Iterable[StoredEvent], redact: bool) -> list[MessageOut]:
    out: list[MessageOut] = []
    for event in events:
        data = event.data
        at = event_time(event.timestamp)
        if event.type_name == "user":
            out.append(
                MessageOut(event_id=event.id, at=at, role="patient", text=maybe(_text(data.get("text")), redact))
            )
        elif event.type_name == "bot":
            inner = as_dict(data.get("data"))
            meta = as_dict(inner.get("custom")).get("meta")
            if isinstance(meta, dict):
                safe_meta = clean_value(meta)
                # the turn's metadata belongs to the bot messages just before it
                for message in reversed(out):
                    if message.role != "bot" or message.meta is not None:
                        break
                    message.meta = safe_meta
                continue
            extra = as_dict(data.get("metadata"))
            staff_reply = bool(extra.get("staff_reply"))
            buttons = inner.get("buttons")
            out.append(
                MessageOut(
                    event_id=event.id,
                    at=at,
                    role="staff" if staff_reply else "bot",
                    # the bot's own texts are curated; staff may have typed identifiers
                    text=maybe(_text(data.get("text")), redact and staff_reply),
                    buttons=[
                        _text(b.get("title", ""))
                        for b in (buttons if isinstance(buttons, list) else [])
                        if isinstance(b, dict)
                    ],
                    author=(_text(extra.get("author"))[:128] or None) if staff_reply else None,
                )
            )
    return out


def cursor(events: Iterable[StoredEvent]) -> int:
    """The newest event's id (0 for none): a live transcript asks for what came after it."""
    return max((event.id for event in events), default=0)
