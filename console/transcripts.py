"""A conversation's transcript from its tracker events: patient messages, bot replies with the
turn's reply metadata (CONTRACT.md), and staff replies with their author."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from console.redaction import maybe
from console.schemas import MessageOut
from console.tracker_store import StoredEvent


def messages(events: Iterable[StoredEvent], redact: bool) -> list[MessageOut]:
    out: list[MessageOut] = []
    for event in events:
        data = event.data
        at = datetime.fromtimestamp(event.timestamp, UTC)
        if event.type_name == "user":
            text = str(data.get("text") or "")
            out.append(MessageOut(event_id=event.id, at=at, role="patient", text=maybe(text, redact)))
        elif event.type_name == "bot":
            inner = data.get("data") or {}
            meta = (inner.get("custom") or {}).get("meta")
            if isinstance(meta, dict):
                # the turn's metadata belongs to the bot messages just before it
                for message in reversed(out):
                    if message.role != "bot" or message.meta is not None:
                        break
                    message.meta = meta
                continue
            extra = data.get("metadata") or {}
            staff_reply = bool(extra.get("staff_reply"))
            out.append(
                MessageOut(
                    event_id=event.id,
                    at=at,
                    role="staff" if staff_reply else "bot",
                    # the bot's own texts are curated; staff may have typed identifiers
                    text=maybe(str(data.get("text") or ""), redact and staff_reply),
                    buttons=[str(b.get("title", "")) for b in inner.get("buttons") or [] if isinstance(b, dict)],
                    author=str(extra.get("author") or "") or None if staff_reply else None,
                )
            )
    return out
