"""One strict JSON parser and a size-limited body reader for every channel (bot/channels/bodies.py):
numbers and nesting Python would accept, and code further on would fail on, are refused with BadJson
(a 400), and an oversized body is refused before it is read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sanic.exceptions import PayloadTooLarge

from bot.channels.bodies import MAX_DEPTH, BadJson, TooLarge, depth, parse_json, read_body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"after": 1e999}',
        b'{"after": -1e999}',
        b'{"after": NaN}',
        b'{"after": Infinity}',
        b"[-Infinity]",
        b'{"n": ' + b"9" * 31 + b"}",
        b'{"n": ' + b"9" * 5000 + b"}",  # beyond the interpreter's own digit limit too
        b"[" * 33 + b"]" * 33,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 40 + b"1" + b"}" * 40,
        b"[" * 100_000,  # unterminated
        b"\xff\xfe{}",
        b"{not json",
        b"",
    ],
)
def test_refused(raw):
    with pytest.raises(BadJson):
        parse_json(raw)


def test_accepted():
    assert parse_json(b'{"after": 12, "x": 1.5e3, "ok": [true, null, "\\ud800"]}') == {
        "after": 12,
        "x": 1500.0,
        "ok": [True, None, "\ud800"],
    }
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert parse_json(b'{"n": ' + b"9" * 30 + b"}") == {"n": int("9" * 30)}


def test_depth_is_measured_without_recursion():
    value: Any = 1
    for _ in range(50_000):
        value = [value]
    assert depth(value) == 50_000
    assert depth({"a": [1, {"b": {}}], "c": 2}) == 4
    assert depth("scalar") == 0


class FakeStream:
    """What read_body needs of Sanic's Http object."""

    def __init__(self, parts: list[bytes], chunked: bool = False) -> None:
        self.parts = list(parts)
        self.request_body: bool | str = "chunked" if chunked else True
        self.request_max_size = float("inf")
        self.reads = 0

    async def read(self) -> bytes | None:
        if not self.parts:
            self.request_body = False
            return None
        self.reads += 1
        return self.parts.pop(0)


class FakeRequest:
    def __init__(self, stream: FakeStream, headers: dict[str, str]) -> None:
        self.stream, self.headers, self.body = stream, headers, b""


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read():
    stream = FakeStream([b"x" * 10])
    with pytest.raises(TooLarge):
        asyncio.run(read_body(FakeRequest(stream, {"content-length": str(50 * 1024 * 1024)}), 1024))  # type: ignore[arg-type]
    assert stream.reads == 0
    assert stream.request_max_size == 1024  # Sanic closes the connection instead of draining the rest


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit():
    stream = FakeStream([b"x" * 600] * 100, chunked=True)
    with pytest.raises(TooLarge):
        asyncio.run(read_body(FakeRequest(stream, {}), 1024))  # type: ignore[arg-type]
    assert stream.reads == 2


def test_sanics_own_refusal_is_the_same_413():
    class Refusing(FakeStream):
        async def read(self) -> bytes | None:
            raise PayloadTooLarge("Request body exceeds the size limit")

    with pytest.raises(TooLarge):
        asyncio.run(read_body(FakeRequest(Refusing([]), {}), 1024))  # type: ignore[arg-type]


def test_a_body_within_the_limit_is_read_whole():
    stream = FakeStream([b'{"a":', b" 1}"])
    assert asyncio.run(read_body(FakeRequest(stream, {"content-length": "8"}), 1024)) == b'{"a": 1}'  # type: ignore[arg-type]
