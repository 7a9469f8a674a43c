"""Messages a process claimed and never finished (it died, or its work failed) are run again by another:
every Rasa process running a messaging channel looks every few seconds for claims whose lease ran out
(bot/channels/deliveries.py) and runs each again, the same way the webhook would have; a delivery out
of attempts is given up with a staff alert, so a patient's message is answered or a person is told."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from bot.channels.deliveries import Claim, DeliveryLog
from bot.runtime import staff_alerts

log = logging.getLogger(__name__)

RECOVERY_EVERY = 10.0
"""Seconds between two looks for unfinished claims (MESO_CHANNEL_RECOVERY_SECONDS)."""
REASON = "channel:undelivered"
"""The staff alert's reason when a message could not be handled in MAX_ATTEMPTS runs."""


@dataclass(frozen=True)
class Undelivered:
    """Who sent a given-up delivery and what (for the staff alert), from its payload."""

    sender: str
    text: str


RunClaim = Callable[[Claim], Awaitable[None]]
Describe = Callable[[Claim], Undelivered]
T = TypeVar("T")


def rebuild(kind: type[T], value: Any) -> T | None:
    """A channel's parsed message (a dataclass of plain values) from its claim's payload; None when the
    payload does not hold one."""
    if not isinstance(value, dict):
        return None
    names = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    try:
        return kind(**{k: v for k, v in value.items() if k in names})
    except TypeError:
        return None


class Recovery:
    def __init__(self, deliveries: DeliveryLog, channel: str, every_seconds: float) -> None:
        if every_seconds <= 0:
            raise ValueError("the recovery interval must be positive")
        self.deliveries = deliveries
        self.channel = channel
        self.every = every_seconds
        self.task: asyncio.Task[None] | None = None

    def start_with(self, blueprint: Any, run: Callable[[Any], RunClaim], describe: Describe) -> None:
        """Starts `forever` in each Rasa process once its server is up; `run(app)` gives the runner that
        uses that app's dialogue (`app.ctx.agent`)."""

        async def start(app: Any, _loop: Any) -> None:
            self.task = asyncio.get_running_loop().create_task(self.forever(run(app), describe))

        blueprint.listener("after_server_start")(start)

    async def sweep(self, run: RunClaim, describe: Describe) -> int:
        """One look: claims taken back and run (each in turn), given-up ones alerted; how many were run."""
        found = await asyncio.to_thread(self.deliveries.reclaim, self.channel)
        for claim in found.given_up:
            who = describe(claim)
            log.error(
                "%s delivery %s (sender %s) failed %d times: given up, staff alerted",
                self.channel,
                claim.delivery_id,
                who.sender,
                claim.attempts,
            )
            try:
                staff_alerts().send("handoff", who.sender, self.channel, who.text, REASON)
            except Exception:
                log.critical("STAFF ALERT NOT SENT: %s delivery %s given up", self.channel, claim.delivery_id)
        for claim in found.retry:
            log.warning(
                "%s delivery %s was claimed and not finished: running it again (attempt %d)",
                self.channel,
                claim.delivery_id,
                claim.attempts,
            )
            try:
                await run(claim)
            except Exception:  # the claim stays open: taken again after its lease
                log.exception("%s delivery %s failed again", self.channel, claim.delivery_id)
        return len(found.retry)

    async def forever(self, run: RunClaim, describe: Describe) -> None:
        """`sweep` every few seconds for the life of the process; one failed look never ends it."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.sweep(run, describe)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: looking for unfinished deliveries failed", self.channel)
