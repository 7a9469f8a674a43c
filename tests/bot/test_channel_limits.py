"""The channels' abuse limits (bot/channels/limits.py): token buckets, one first-in-first-out line per
conversation, and the client's address behind trusted proxies."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import pytest

from bot import rasa_config
from bot.channels.limits import Buckets, Guard, Limits, Refusal, SenderLines, Ticket, client_address
from core.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_defaults_are_the_typed_settings_defaults():
    assert rasa_config.channel_limits(Settings()) == asdict(Limits())


def test_a_bad_limit_falls_back_to_its_default_never_to_no_limit():
    limits = Limits.from_mapping({"per_sender": 0, "per_address": "many", "queue_per_sender": True, "per_key": 7})
    assert limits == Limits(per_key=7)
    assert Limits.from_mapping(None) == Limits()
    assert Limits.from_mapping({"trusted_proxies": 0}).trusted_proxies == 0


def test_a_bucket_allows_a_minute_at_once_then_the_steady_rate():
    clock = Clock()
    bucket = Buckets(60, clock)
    assert all(bucket.take("a") == 0.0 for _ in range(60))
    assert bucket.take("a") == pytest.approx(1.0)  # one token a second
    assert bucket.take("b") == 0.0  # another key has its own budget
    clock.now += 0.5
    assert bucket.wait("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0


def test_idle_buckets_are_forgotten_and_the_number_of_keys_is_bounded():
    clock = Clock()
    bucket = Buckets(60, clock, max_keys=3)
    for key in "abcde":
        bucket.take(key)
    assert len(bucket) == 3  # the oldest went first
    clock.now += 61  # full again: nothing to remember
    bucket.take("f")
    assert len(bucket) == 1


def test_a_refusal_says_when_to_try_again_in_whole_seconds():
    assert Refusal("sender", 0.2).retry_after == 1
    assert Refusal("sender", 2.01).retry_after == 3


async def _run(lines: SenderLines, sender: str, label: str, done: list[str], pause: float = 0.01) -> None:
    ticket = lines.join(sender)
    assert ticket is not None
    async with ticket:
        await asyncio.sleep(pause)
        done.append(label)


def test_one_conversation_runs_one_message_at_a_time_in_arrival_order():
    async def scenario() -> list[str]:
        lines, done = SenderLines(depth=10), list[str]()
        # later messages sleep less: without the line they would finish first
        await asyncio.gather(*(_run(lines, "s", f"m{i}", done, pause=0.05 - i * 0.004) for i in range(10)))
        assert lines.length("s") == 0
        return done

    assert asyncio.run(scenario()) == [f"m{i}" for i in range(10)]


def test_a_full_line_refuses_and_other_conversations_are_not_held_up():
    async def scenario() -> None:
        lines = SenderLines(depth=2)
        held = [lines.join("s") for _ in range(3)]  # one running, two waiting
        assert all(held) and lines.join("s") is None
        assert lines.join("s", always=True) is not None  # the channel's own note still gets in
        other = lines.join("other")
        assert other is not None
        async with other:  # its turn at once
            pass

    asyncio.run(scenario())


def test_a_cancelled_or_failed_message_lets_the_next_one_go():
    async def scenario() -> list[str]:
        lines, done = SenderLines(depth=5), list[str]()
        first = lines.join("s")
        waiting = lines.join("s")
        assert isinstance(first, Ticket) and isinstance(waiting, Ticket)

        async def wait_then_cancel() -> None:
            async with waiting:
                done.append("never")

        task = asyncio.ensure_future(wait_then_cancel())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(RuntimeError):
            async with first:
                raise RuntimeError("the turn failed")
        await asyncio.wait_for(_run(lines, "s", "next", done), 1.0)
        return done

    assert asyncio.run(scenario()) == ["next"]


def test_admission_takes_the_budget_then_the_line():
    async def scenario() -> None:
        clock = Clock()
        guard = Guard(Limits(per_sender=5, queue_per_sender=2), clock)
        tickets = [guard.admit("s") for _ in range(3)]
        assert all(isinstance(t, Ticket) for t in tickets)
        full = guard.admit("s")
        assert isinstance(full, Refusal) and full.reason == "queue"
        for t in tickets:
            assert isinstance(t, Ticket)
            t.leave()
        assert isinstance(guard.admit("s"), Ticket)
        assert isinstance(guard.admit("s"), Ticket)
        over = guard.admit("s")  # 5 a minute: the sixth must wait 12 s
        assert isinstance(over, Refusal) and over.reason == "sender" and over.retry_after == 12

    asyncio.run(scenario())


def test_a_flood_gets_one_note_a_minute_per_kind():
    clock = Clock()
    guard = Guard(Limits(), clock)
    assert guard.note_due("s", "busy")
    assert not guard.note_due("s", "busy")
    assert guard.note_due("s", "urgent")  # urgent wording is not held back by a plain note
    assert guard.note_due("t", "busy")
    clock.now += 61
    assert guard.note_due("s", "busy")


def test_refused_authentications_block_an_address_before_its_body_is_read():
    clock = Clock()
    guard = Guard(Limits(auth_failures_per_address=3), clock)
    for _ in range(3):
        assert guard.auth_blocked("203.0.113.9") is None
        guard.auth_failed("203.0.113.9")
    blocked = guard.auth_blocked("203.0.113.9")
    assert blocked is not None and blocked.reason == "auth" and blocked.retry_after == 20
    assert guard.auth_blocked("203.0.113.10") is None


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("198.51.100.7", None, 0, "198.51.100.7"),
        ("198.51.100.7", "203.0.113.5", 0, "198.51.100.7"),  # no trusted proxy: the header is ignored
        ("127.0.0.1", "203.0.113.5", 1, "203.0.113.5"),
        ("127.0.0.1", "6.6.6.6, 203.0.113.5", 1, "203.0.113.5"),  # what the client wrote itself is not trusted
        ("127.0.0.1", "6.6.6.6, 203.0.113.5, 10.0.0.2", 2, "203.0.113.5"),
        ("127.0.0.1", "203.0.113.5", 2, "127.0.0.1"),  # fewer hops than proxies: the peer
        ("2001:db8:1:2:3:4:5:6", None, 0, "2001:db8:1:2::/64"),  # an IPv6 subscriber holds a whole /64
        ("::ffff:198.51.100.7", None, 0, "198.51.100.7"),
    ],
)
def test_the_client_address(peer, forwarded, proxies, expected):
    assert client_address(peer, forwarded, proxies) == expected
