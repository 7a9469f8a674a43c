"""Claim, process, then mark done (bot/channels/deliveries.py, bot/channels/recovery.py): a Telegram or
WhatsApp message claimed by a process that dies is run again by another process after its lease, once,
and given up with a staff alert after MAX_ATTEMPTS runs; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.channels.deliveries import MAX_ATTEMPTS, Claim, DeliveryLog, deliveries
from bot.channels.recovery import REASON, Recovery, Undelivered, rebuild

LEASE = 30.0


def test_a_delivery_is_claimed_once_and_keeps_what_it_needs_to_run_again(db_url):
    log = DeliveryLog(db_url, LEASE)
    assert log.claim("telegram", "1", {"update_id": 1, "incoming": {"chat_id": "9", "text": "does it hurt?"}})
    assert not log.claim("telegram", "1", {"update_id": 1})  # a repeat, or another replica
    assert log.claim("whatsapp", "1")  # ids are per channel
    sweep = log.reclaim("telegram", now=time.time() + LEASE + 1)
    assert [c.payload["incoming"]["text"] for c in sweep.retry] == ["does it hurt?"]


def test_a_claim_within_its_lease_is_never_taken_from_its_process(db_url):
    log = DeliveryLog(db_url, LEASE)
    log.claim("telegram", "2", {"update_id": 2})
    assert log.reclaim("telegram", now=time.time() + LEASE - 5).retry == []


def test_a_done_delivery_is_never_run_again_and_its_text_is_dropped(db_url):
    log = DeliveryLog(db_url, LEASE)
    log.claim("whatsapp", "wamid.3", {"incoming": {"text": "my cheek is numb"}})
    log.done("whatsapp", "wamid.3")
    assert log.reclaim("whatsapp", now=time.time() + 10 * LEASE).retry == []
    with log.engine.connect() as conn:
        payload = conn.execute(sa.select(deliveries.c.payload)).scalar_one()
    assert payload is None


def test_two_processes_looking_at_once_take_a_stale_claim_once(db_url):
    first, second = DeliveryLog(db_url, LEASE), DeliveryLog(db_url, LEASE)
    first.claim("telegram", "4", {"update_id": 4})
    later = time.time() + LEASE + 1
    taken = first.reclaim("telegram", now=later).retry + second.reclaim("telegram", now=later).retry
    assert [c.delivery_id for c in taken] == ["4"]
    assert taken[0].attempts == 2


def test_a_delivery_that_keeps_failing_is_given_up_after_max_attempts(db_url):
    log = DeliveryLog(db_url, LEASE)
    log.claim("telegram", "5", {"update_id": 5})
    now = time.time()
    runs = 1
    for _ in range(MAX_ATTEMPTS + 2):
        now += LEASE + 1
        sweep = log.reclaim("telegram", now=now)
        runs += len(sweep.retry)
        if sweep.given_up:
            assert [c.delivery_id for c in sweep.given_up] == ["5"]
            break
    else:
        pytest.fail("never given up")
    assert runs == MAX_ATTEMPTS
    assert log.reclaim("telegram", now=now + 10 * LEASE) == type(sweep)([], [])


def test_a_table_from_before_claims_had_states_is_upgraded_and_its_rows_count_as_done(db_url):
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE channel_deliveries (channel VARCHAR(32) NOT NULL, delivery_id VARCHAR(255) NOT NULL, "
                "received_at FLOAT NOT NULL, PRIMARY KEY (channel, delivery_id))"
            )
        )
        conn.execute(sa.text("INSERT INTO channel_deliveries VALUES ('telegram', '6', 1.0)"))
    engine.dispose()
    log = DeliveryLog(db_url, LEASE)
    assert not log.claim("telegram", "6")
    assert log.reclaim("telegram", now=time.time() + 10 * LEASE).retry == []
    assert log.claim("telegram", "7", {"update_id": 7})
    DeliveryLog(db_url, LEASE)  # a second process starting on the upgraded table


def test_forgetting_old_ids_keeps_open_claims(db_url):
    log = DeliveryLog(db_url, LEASE)
    log.claim("telegram", "8", {"update_id": 8})
    log.claim("telegram", "9", {"update_id": 9})
    log.done("telegram", "9")
    log.forget_before(time.time() + 1)
    with log.engine.connect() as conn:
        left = conn.execute(sa.select(deliveries.c.delivery_id)).scalars().all()
    assert left == ["8"]


# -- the recovery loop -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    chat_id: str
    text: str | None = None


def test_rebuild_takes_only_the_message_fields_and_refuses_what_is_not_one():
    assert rebuild(Message, {"chat_id": "1", "text": "hi", "added_later": 1}) == Message("1", "hi")
    assert rebuild(Message, {"text": "no chat"}) is None
    assert rebuild(Message, ["not", "a", "dict"]) is None


class Alerts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    def send(self, kind: str, sender: str, channel: str, text: str, reason: str) -> None:
        self.sent.append((kind, sender, channel, reason))


@pytest.fixture
def alerts(monkeypatch) -> Alerts:
    alerts = Alerts()
    monkeypatch.setattr("bot.channels.recovery.staff_alerts", lambda: alerts)
    return alerts


def _describe(claim: Claim) -> Undelivered:
    return Undelivered("tg-" + str(claim.payload.get("chat")), "")


def test_the_loop_runs_a_dead_process_claim_once_and_a_failing_one_until_staff_are_alerted(
    tmp_path: Path, alerts: Alerts, monkeypatch
):
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    log = DeliveryLog(url, 5)
    log.claim("telegram", "10", {"chat": 10})
    log.claim("telegram", "11", {"chat": 11})
    clock = [time.time()]
    real_reclaim = log.reclaim
    monkeypatch.setattr(log, "reclaim", lambda channel: real_reclaim(channel, now=clock[0]))
    runs: list[str] = []

    async def run(claim: Claim) -> None:
        runs.append(claim.delivery_id)
        if claim.delivery_id == "11":
            raise RuntimeError("the dialogue failed again")
        log.done("telegram", claim.delivery_id)

    recovery = Recovery(log, "telegram", 1.0)
    for _ in range(MAX_ATTEMPTS + 1):
        clock[0] += 6
        asyncio.run(recovery.sweep(run, _describe))
    assert runs.count("10") == 1
    assert runs.count("11") == MAX_ATTEMPTS - 1  # the first run was the dead process's
    assert alerts.sent == [("handoff", "tg-11", "telegram", REASON)]


def test_one_failed_look_never_ends_the_loop(tmp_path: Path, alerts: Alerts, monkeypatch):
    log = DeliveryLog(f"sqlite:///{tmp_path / 'claims.db'}", 5)
    looks = []

    def broken(channel: str):
        looks.append(channel)
        if len(looks) < 3:
            raise sa.exc.OperationalError("select", {}, Exception("database is locked"))
        raise asyncio.CancelledError

    monkeypatch.setattr(log, "reclaim", broken)

    async def run(claim: Claim) -> None:
        raise AssertionError("nothing to run")

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(Recovery(log, "telegram", 0.01).forever(run, _describe))
    assert len(looks) == 3


def test_the_payload_round_trips_any_text(db_url):
    log = DeliveryLog(db_url, LEASE)
    text = "सूजन\u200d 😷 ' \" \\ " + "x" * 4000
    log.claim("whatsapp", "wamid.12", {"incoming": {"text": text}})
    [claim] = log.reclaim("whatsapp", now=time.time() + LEASE + 1).retry
    assert claim.payload["incoming"]["text"] == text
    assert json.loads(json.dumps(claim.payload)) == claim.payload


# -- the settings --------------------------------------------------------------------------------------


def test_the_claim_lease_outlasts_a_turn_by_default_and_a_shorter_one_is_refused():
    from bot.rasa_config import claims
    from core.settings import Settings

    assert Settings().claim_lease == 60.0
    assert Settings(dialogue_timeout_seconds=40).claim_lease == 85.0  # twice the turn's limit plus 5 s
    with pytest.raises(ValueError, match="MESO_CHANNEL_CLAIM_LEASE_SECONDS"):
        Settings(dialogue_timeout_seconds=20, channel_claim_lease_seconds=30)
    settings = Settings(channel_claim_lease_seconds=90, channel_recovery_seconds=3)
    assert claims(settings) == {"claim_lease_seconds": 90.0, "recovery_seconds": 3.0}
