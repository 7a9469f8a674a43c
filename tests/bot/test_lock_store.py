"""bot/lock_store.py in the Rasa server's own environment (Python 3.10): with Redis unreachable, a
conversation's lock is taken in the process (turns go on, one at a time per conversation) and the outage is
logged; with Redis answering, the lock is in Redis, where every Rasa process sees it."""

from __future__ import annotations

import json
import socket

import pytest

from scripts.benchlib import free_port
from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import asyncio, json, logging, sys
from rasa.utils.endpoints import EndpointConfig
from bot.lock_store import DegradingRedisLockStore

logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
port, db = int(sys.argv[1]), int(sys.argv[2])
store = DegradingRedisLockStore(EndpointConfig(url="127.0.0.1", type="bot.lock_store.DegradingRedisLockStore",
                                               port=port, db=db))
seen = {}

async def main():
    order = []

    async def turn(name, conversation):
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            order.append(f"{name}+")
            seen[name] = store.red.exists(store.key_prefix + conversation) if store.down_since is None else None
            await asyncio.sleep(0.05)
            order.append(f"{name}-")

    await asyncio.gather(turn("a", "c1"), turn("b", "c1"), turn("c", "c2"))
    return order

order = asyncio.run(main())
print(json.dumps({"order": order, "down": store.down_since is not None, "seen": seen,
                  "left": store.get_lock("c1") is not None}))
"""


def run(port: int, db: int) -> tuple[dict, str]:
    done = run_in_rasa(SCRIPT, str(port), str(db))
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def one_at_a_time(order: list[str], first: str, second: str) -> bool:
    """`first` and `second` (the same conversation) never overlap."""
    a_in, a_out, b_in, b_out = (order.index(f"{first}+"), order.index(f"{first}-"),
                                order.index(f"{second}+"), order.index(f"{second}-"))  # fmt: skip
    return a_out < b_in or b_out < a_in


@pytest.mark.slow
def test_with_redis_down_turns_go_on_one_at_a_time_per_conversation_and_the_outage_is_logged():
    port = free_port()  # nothing listens there
    out, log = run(port, 1)
    assert out["down"] is True
    assert one_at_a_time(out["order"], "a", "b")  # the same conversation waits its turn
    assert out["order"].index("c+") < max(out["order"].index("a-"), out["order"].index("b-"))  # others do not wait
    assert out["left"] is False  # every lock released
    assert "lock store is unreachable" in log


@pytest.mark.slow
def test_with_redis_up_the_lock_is_in_redis():
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        pytest.fail("needs the local Redis on 127.0.0.1:6379")
    out, log = run(6379, 9)
    assert out["down"] is False and "unreachable" not in log
    assert out["seen"]["a"] == 1 and out["seen"]["c"] == 1  # held in Redis while the turn ran
    assert one_at_a_time(out["order"], "a", "b")
    assert out["left"] is False
