"""A Telegram or WhatsApp message taken back from a process that died (bot/channels/recovery.py), answered
once: from the conversation when its turn had been stored, else run as the webhook would have."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.channels.common import DialogueAgent, SendsMessages, for_messaging_app, stored_reply
from bot.channels.deliveries import Claim, DeliveryLog
from bot.channels.limits import Guard, Refusal, Ticket


@dataclass(frozen=True)
class Resumed:
    """What a channel's claim holds, rebuilt: who sent it, the id its turn is stored under, and whether it
    has text (a turn) at all."""

    sender: str
    message_id: str
    has_text: bool


async def answer_again(
    claim: Claim,
    resumed: Resumed,
    channel: SendsMessages,
    deliveries: DeliveryLog,
    guard: Guard,
    agent: DialogueAgent,
    handle: Callable[[Ticket], Awaitable[None]],
) -> None:
    """A claimed message run again: when its turn is in the conversation already (the process died after
    storing it), that reply is sent and the claim is done; otherwise `handle` runs it in the sender's line as
    the webhook would have (and marks it done). Raises when the limits refuse it (run again after the lease)."""
    earlier = await stored_reply(agent, resumed.sender, resumed.message_id) if resumed.has_text else None
    if earlier is not None:
        await channel.send(resumed.sender, for_messaging_app(earlier))
        await asyncio.to_thread(deliveries.done, claim.channel, claim.delivery_id)
        return
    admitted = guard.admit(resumed.sender)
    if isinstance(admitted, Refusal):
        raise RuntimeError(f"refused by the limits ({admitted.reason}); run again after the lease")
    await handle(admitted)
