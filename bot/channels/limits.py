"""Abuse limits for the patient-facing channels: token buckets per client address, per REST API key
and per conversation, and a first-in, first-out line per conversation.

Why a line per conversation: Rasa runs one turn of a conversation at a time (its lock store), and a
turn that waits for that lock longer than the channel's dialogue time-out is answered by the
channel's fallback, which cannot store its reply either: a burst of 200 messages from one sender lost
about 150 that way. Here a burst is admitted up to the sender's budget and the length of its line,
each admitted message waits for its turn in the order it arrived (so it never races its own
conversation for the lock), and the rest are refused at once, politely, before the dialogue sees
them (so a flood never reaches the staff queue).

A bucket holds up to `per_minute` tokens and regains `per_minute / 60` each second: a client may send
a whole minute's worth at once, then at the steady rate. Everything is counted in the memory of one
Rasa process (several replicas each count on their own); idle buckets are forgotten, and at most
`MAX_KEYS` keys are kept per bucket kind (the oldest go first), so a flood of addresses cannot
exhaust memory.

Standard library only (it runs inside the Rasa server and is unit-tested without it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

MAX_KEYS = 100_000
NOTE_EVERY = 60.0
"""Seconds between two "please slow down" notes to the same messaging-app patient."""


@dataclass(frozen=True)
class Limits:
    """The limits, as core/settings.py has them (same defaults: a test checks it); Rasa reads them
    from credentials.yml (bot/rasa_config.py)."""

    per_address: int = 300
    """Requests a minute from one client address to the anonymous endpoints (web widget, REST without keys)."""
    auth_failures_per_address: int = 30
    """Refused authentications a minute from one address (REST key, Telegram secret, WhatsApp signature or
    verify token); beyond it the address gets 429 before its request body is read."""
    per_sender: int = 30
    """Messages a minute into one conversation (every channel)."""
    queue_per_sender: int = 10
    """Messages of one conversation waiting for their turn while one runs."""
    per_key: int = 600
    """Requests a minute with one REST API key (an integration serves many patients from one address)."""
    messages_per_body: int = 5
    """Messages from one sender handled out of a single WhatsApp webhook body; the rest get one note."""
    trusted_proxies: int = 0
    """Reverse proxies in front of Rasa that append the client's address to X-Forwarded-For."""

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> Limits:
        """The limits from a credentials mapping; a missing or invalid value is logged and the
        default is used (a bad value must never switch a limit off)."""
        values: dict[str, int] = {}
        for f in fields(cls):
            given = (raw or {}).get(f.name)
            if given is None:
                continue
            lowest = 0 if f.name == "trusted_proxies" else 1
            if isinstance(given, bool) or not isinstance(given, int) or given < lowest:
                log.error("channel limit %s=%r is not a whole number >= %d: using the default", f.name, given, lowest)
                continue
            values[f.name] = given
        return cls(**values)


class Buckets:
    """Token buckets by key (an address, a sender, an API key name)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.rate)

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token (0.0: it has one now); takes nothing."""
        tokens = self._tokens(key, self.clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def take(self, key: str) -> float:
        """Takes a token: 0.0 when there was one, else the seconds until there is one (nothing taken)."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        self._forget(now)
        return 0.0

    def _forget(self, now: float) -> None:
        """Drops buckets that are full again (nothing to remember), then the oldest beyond `max_keys`."""
        full_after = self.capacity / self.rate
        while self._buckets:
            key, (_tokens, at) = next(iter(self._buckets.items()))
            if len(self._buckets) <= self.max_keys and now - at < full_after:
                break
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


class Ticket:
    """A message's place in its conversation's line: `async with ticket:` waits for its turn and
    lets the next one go when done (also when cancelled or failed). Use it once."""

    def __init__(self, line: SenderLines, sender: str) -> None:
        self._line, self.sender = line, sender
        self._turn = asyncio.Event()
        self._left = False

    async def __aenter__(self) -> Ticket:
        try:
            await self._turn.wait()
        except BaseException:
            self.leave()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.leave()

    def leave(self) -> None:
        if not self._left:
            self._left = True
            self._line._leave(self)


class SenderLines:
    """One first-in, first-out line per conversation: one message runs, at most `depth` wait."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._lines: dict[str, deque[Ticket]] = {}

    def join(self, sender: str, *, always: bool = False) -> Ticket | None:
        """A place at the end of the sender's line; None when the line is full (unless `always`:
        for the channel's own short notes, which are rare by construction)."""
        line = self._lines.setdefault(sender, deque())
        if not always and len(line) > self.depth:
            return None
        ticket = Ticket(self, sender)
        line.append(ticket)
        if len(line) == 1:
            ticket._turn.set()
        return ticket

    def _leave(self, ticket: Ticket) -> None:
        line = self._lines.get(ticket.sender)
        if not line:
            return
        first = line[0] is ticket
        try:
            line.remove(ticket)
        except ValueError:
            return
        if not line:
            del self._lines[ticket.sender]
        elif first:
            line[0]._turn.set()

    def length(self, sender: str) -> int:
        return len(self._lines.get(sender, ()))


@dataclass(frozen=True)
class Refusal:
    """Why a request or message was refused, and when to try again."""

    reason: str
    """address | auth | key | sender | queue"""
    wait: float

    @property
    def retry_after(self) -> int:
        """Whole seconds for the Retry-After header (at least 1)."""
        return max(1, math.ceil(self.wait))


def client_address(peer: str, forwarded_for: str | None, trusted_proxies: int) -> str:
    """The client's address as a limit key. Behind `trusted_proxies` reverse proxies, each appending
    the address it saw to X-Forwarded-For, the client is that many entries from the right (entries
    further left are whatever the client sent, so never trusted). IPv6 clients count per /64
    network, which one subscriber usually holds whole."""
    address = peer
    if trusted_proxies > 0 and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if len(hops) >= trusted_proxies:
            address = hops[-trusted_proxies]
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Guard:
    """Every limit of the channels of one Rasa process (shared: see `guard_for`)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.addresses = Buckets(limits.per_address, clock)
        self.auth_failures = Buckets(limits.auth_failures_per_address, clock)
        self.senders = Buckets(limits.per_sender, clock)
        self.keys = Buckets(limits.per_key, clock)
        self.lines = SenderLines(limits.queue_per_sender)
        self._notes: OrderedDict[str, float] = OrderedDict()

    def address(self, peer: str, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, self.limits.trusted_proxies)

    def request_from(self, address: str) -> Refusal | None:
        """An anonymous request from `address` (counts against its budget)."""
        wait = self.addresses.take(address)
        return Refusal("address", wait) if wait else None

    def auth_blocked(self, address: str) -> Refusal | None:
        """Whether `address` has used up its refused authentications (takes nothing): checked before
        a request body is read or a signature computed."""
        wait = self.auth_failures.wait(address)
        return Refusal("auth", wait) if wait else None

    def auth_failed(self, address: str) -> None:
        self.auth_failures.take(address)

    def request_with_key(self, name: str) -> Refusal | None:
        wait = self.keys.take(name)
        return Refusal("key", wait) if wait else None

    def admit(self, sender: str) -> Ticket | Refusal:
        """A patient message into conversation `sender`: its place in the line, or why not."""
        line = self.lines.length(sender)
        if line > self.limits.queue_per_sender:
            # about one turn per waiting message before there is room again
            return Refusal("queue", float(line - self.limits.queue_per_sender))
        wait = self.senders.take(sender)
        if wait:
            return Refusal("sender", wait)
        ticket = self.lines.join(sender)
        return ticket if ticket is not None else Refusal("queue", 1.0)

    def note_due(self, sender: str, kind: str) -> bool:
        """Whether the channel may send `sender` a note of this kind now (at most one per NOTE_EVERY
        seconds each, so a flood gets one note, not one per message)."""
        now, key = self.clock(), f"{kind}:{sender}"
        last = self._notes.get(key)
        if last is not None and now - last < NOTE_EVERY:
            return False
        self._notes[key] = now
        self._notes.move_to_end(key)
        while self._notes:
            oldest, at = next(iter(self._notes.items()))
            if len(self._notes) <= MAX_KEYS and now - at < NOTE_EVERY:
                break
            del self._notes[oldest]
        return True


_guards: dict[Limits, Guard] = {}


def guard_for(limits: Limits) -> Guard:
    """The process's one guard for these limits: every channel configured alike shares the buckets
    and lines (an address's budget is one budget, whichever endpoint it calls)."""
    guard = _guards.get(limits)
    if guard is None:
        guard = _guards[limits] = Guard(limits)
    return guard
