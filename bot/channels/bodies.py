"""Reading a request body within a size limit, and one strict JSON parser for every channel.

Size: Sanic (Rasa 3.6 runs Sanic 21.12 with its default 100 MB `REQUEST_MAX_SIZE`) reads a whole body
into memory before a normal handler runs, so the channels' webhook routes are streaming routes
(`stream=True`) and read the body here: a declared `Content-Length` above the limit is refused before
a byte of the body is read (no `100 Continue` is sent either), and a chunked body is refused as soon as
what has arrived passes the limit. The connection is then closed instead of being drained, so an
unsigned 50 MB WhatsApp post is neither read whole nor hashed.

JSON: Python's parser accepts `NaN`, `Infinity`, numbers that overflow to infinity (`1e999`), integers
of thousands of digits and nesting until the interpreter's recursion limit, and code further on fails
on them with a 500. `parse_json` refuses all of that with `BadJson` (a 400 for the caller).

The JSON part is standard library only; `read_body` needs Sanic (Rasa's environment).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanic.request import Request

MAX_DEPTH = 32
"""Arrays and objects inside each other; real platform updates nest fewer than 12 deep."""
MAX_INT_DIGITS = 30


class BadJson(ValueError):
    """The body is not JSON the assistant accepts (the message says why, for the 400)."""


class TooLarge(Exception):
    """The body is larger than the limit (a 413)."""


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"the number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJson(f"a whole number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed value (0 for a scalar); iterative, so a deep
    value cannot exhaust the stack here."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """A request body as JSON (UTF-8, RFC 8259): finite numbers only, integers of at most
    MAX_INT_DIGITS digits, at most `max_depth` levels. Raises BadJson, never anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("the body is not UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson(f"arrays or objects nest more than {max_depth} deep") from None
    except ValueError as exc:  # json.JSONDecodeError, int() beyond the interpreter's digit limit
        raise BadJson(f"the body is not JSON ({str(exc)[:80]})") from None
    if depth(value) > max_depth:
        raise BadJson(f"arrays or objects nest more than {max_depth} deep")
    return value


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes; raises TooLarge before reading any of it when the
    declared length is larger, or as soon as a chunked body passes the limit. Only for routes
    declared with `stream=True` (others have read the body already)."""
    from sanic.exceptions import PayloadTooLarge  # Rasa's environment only (this module's JSON part is not)

    stream: Any = request.stream  # Sanic's Http object while the handler runs
    if stream is None or not stream.request_body:  # nothing (more) to read: not a streaming route, or no body
        if len(request.body or b"") > limit:
            raise TooLarge
        return request.body or b""
    # Sanic's own counter then refuses past the limit too, and after the answer it closes the
    # connection instead of reading (and discarding) the rest of an oversized body.
    stream.request_max_size = limit
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise TooLarge
        except ValueError:
            raise TooLarge from None  # Sanic refuses an unreadable length before this runs
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            part = await stream.read()
            if part is None:
                break
            size += len(part)
            if size > limit:
                raise TooLarge
            parts.append(part)
    except PayloadTooLarge:
        raise TooLarge from None
    return b"".join(parts)


async def close_unread_body(request: Request, response: Any) -> None:
    """Response middleware for the channels' streaming routes: a request refused before its body was
    read (a bad key or secret, a limit, a declared length over the limit) has its connection closed
    after the answer, instead of Sanic reading the rest of the body (up to 100 MB) to reuse it."""
    stream: Any = getattr(request, "stream", None)
    if stream is not None and getattr(stream, "request_body", None):
        stream.request_max_size = 0
