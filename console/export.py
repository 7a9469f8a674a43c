"""Export of a filtered set of conversations, one message per CSV row or one conversation per
JSON line, streamed in batches so tens of thousands of conversations never sit in memory.

Messages come from console/transcripts.py, which reads every event tolerantly; every cell and
line is cleaned once more (core/text_clean.py) and metadata of an unexpected shape is written as
text, so one bad record never cuts an export short."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass

from console import transcripts
from console.schemas import ConversationOut, MessageOut
from console.tracker_store import conversations as tracker_conversations
from core.text_clean import clean_text

BATCH = 200
CSV_COLUMNS = [
    "sender_id",
    "channel",
    "event_id",
    "at",
    "role",
    "author",
    "text",
    "kind",
    "topics",
    "passage_ids",
    "confidence",
    "disclaimer",
    "handoff",
    "reviewed",
    "tags",
]


@dataclass(frozen=True)
class ExportRequest:
    conversations: list[ConversationOut]
    tracker_url: str
    redact: bool


def _cell(value: object) -> str:
    text = "" if value is None else clean_text(str(value))
    # a cell starting with = + - @ (or a tab/CR) would run as a formula in a spreadsheet
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _words(value: object) -> str:
    """A metadata list (topics, passage ids) as space-separated words; any other value as text."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def _batches(request: ExportRequest) -> Iterator[tuple[ConversationOut, list[MessageOut]]]:
    for start in range(0, len(request.conversations), BATCH):
        chunk = request.conversations[start : start + BATCH]  # streamed batch by batch
        found = tracker_conversations(request.tracker_url, [c.sender_id for c in chunk])
        for conversation in chunk:
            yield conversation, transcripts.messages(found.get(conversation.sender_id, []), request.redact)


def csv_chunks(request: ExportRequest) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for conversation, messages in _batches(request):
        for message in messages:
            meta = message.meta or {}
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        conversation.sender_id,
                        conversation.channel,
                        message.event_id,
                        message.at.isoformat(),
                        message.role,
                        message.author,
                        message.text,
                        meta.get("kind"),
                        _words(meta.get("topics")),
                        _words(meta.get("passage_ids")),
                        meta.get("confidence"),
                        meta.get("disclaimer"),
                        meta.get("handoff"),
                        conversation.reviewed,
                        " ".join(conversation.tags),
                    )
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
"""What JSON leaves unescaped but other readers take for a line break (Python's `str.splitlines`,
JavaScript before ES2019): written as escapes, so one record stays one line whatever a patient typed.
JSON already escapes every control character below U+0020 (\\n, \\r, \\u000b, \\u001c ...)."""


def jsonl_chunks(request: ExportRequest) -> Iterator[str]:
    for conversation, messages in _batches(request):
        record = {
            "conversation": conversation.model_dump(mode="json"),
            "messages": [m.model_dump(mode="json") for m in messages],
        }
        yield clean_text(json.dumps(record, ensure_ascii=False)).translate(LINE_BREAKS) + "\n"
