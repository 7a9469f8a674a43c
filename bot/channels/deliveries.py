"""Deliveries from messaging platforms, each handled once and never dropped: every platform delivery id
(Telegram update_id, WhatsApp wamid) is claimed once, in a small table of the tracker database (or
MESO_CHANNEL_DB_URL), so a repeated delivery, a retry or a second Rasa replica never processes the same
message twice.

Claim, process, then mark done: a claim keeps what the patient sent (the parsed message) until the
reply has gone out. A claim still open after its lease (the process that took it died, or its work
failed) is taken again by whichever process looks first (`reclaim`, a compare-and-set on the claim
time, so two processes never both take it) and run again; after MAX_ATTEMPTS the delivery is given up
and staff are alerted. The message text is dropped from the table as soon as the delivery is done or
given up; ids are kept two weeks."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

KEEP_SECONDS = 14 * 24 * 3600  # platforms retry for hours at most; ids are kept two weeks
CLAIM_LEASE = 60.0
"""Seconds a claim belongs to the process that took it (MESO_CHANNEL_CLAIM_LEASE_SECONDS); longer than a turn
may take (the dialogue's timeout and the reply's sending), so a live process's claim is never taken."""
MAX_ATTEMPTS = 3
"""Runs of one delivery (the first and two retries) before it is given up and staff are alerted."""
WORKING, DONE, FAILED = "working", "done", "failed"
"""A claim's states; rows written before claims had states (state NULL) count as done."""

metadata = sa.MetaData()
deliveries = sa.Table(
    "channel_deliveries",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("delivery_id", sa.String(255), primary_key=True),
    sa.Column("received_at", sa.Float, nullable=False, index=True),
    sa.Column("state", sa.String(8), nullable=True, index=True),
    sa.Column("claimed_at", sa.Float, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=True),
    sa.Column("payload", sa.Text, nullable=True),
)
ADDED_COLUMNS = ("state", "claimed_at", "attempts", "payload")
"""Columns a table from before claims had states lacks: added at start-up (all nullable)."""


@dataclass(frozen=True)
class Claim:
    """A delivery taken again after its lease ran out: what to run, and how many runs it has had."""

    channel: str
    delivery_id: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Sweep:
    retry: list[Claim]
    """Taken again by this process: run them."""
    given_up: list[Claim]
    """Out of attempts: marked failed; staff must be told."""


def _upgrade(engine: sa.engine.Engine) -> None:
    """Adds the claim columns to a table created before they existed (nullable, so no rewrite)."""
    present = {c["name"] for c in sa.inspect(engine).get_columns(deliveries.name)}
    missing = [name for name in ADDED_COLUMNS if name not in present]
    if not missing:
        return
    for name in missing:
        kind = deliveries.c[name].type.compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE {deliveries.name} ADD COLUMN {name} {kind}"))
        except sa.exc.DBAPIError:  # another process added it first
            log.info("channel_deliveries.%s exists already", name)
    log.info("channel_deliveries: added columns %s", ", ".join(missing))


class DeliveryLog:
    def __init__(self, url: str, lease_seconds: float = CLAIM_LEASE) -> None:
        if lease_seconds <= 0:
            raise ValueError("the claim lease must be positive")
        connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        metadata.create_all(self.engine, checkfirst=True)
        _upgrade(self.engine)
        self.lease = lease_seconds
        self._claims = 0

    def claim(self, channel: str, delivery_id: str, payload: dict[str, Any] | None = None) -> bool:
        """True the first time this delivery is seen (it is now this process's to run, then `done`);
        False for a repeat. `payload` (JSON-able) is what another process needs to run it again."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(
                        channel=channel,
                        delivery_id=delivery_id[:255],
                        received_at=now,
                        state=WORKING,
                        claimed_at=now,
                        attempts=1,
                        payload=None if payload is None else json.dumps(payload, ensure_ascii=False),
                    )
                )
        except IntegrityError:
            return False
        self._claims += 1
        if self._claims % 500 == 0:
            self.forget_before(now - KEEP_SECONDS)
        return True

    def done(self, channel: str, delivery_id: str) -> None:
        """The delivery was handled (its reply sent): never run again; its text is dropped."""
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.channel == channel, deliveries.c.delivery_id == delivery_id[:255])
                .values(state=DONE, payload=None)
            )

    def reclaim(self, channel: str, now: float | None = None, limit: int = 20) -> Sweep:
        """Claims of `channel` open longer than the lease, taken by this process (each by one process
        only); those out of attempts are marked failed instead."""
        now = time.time() if now is None else now
        c = deliveries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.delivery_id, c.claimed_at, c.attempts, c.payload)
                .where(c.channel == channel, c.state == WORKING, c.claimed_at < now - self.lease)
                .order_by(c.claimed_at)
                .limit(limit)
            ).all()
        retry: list[Claim] = []
        given_up: list[Claim] = []
        for delivery_id, claimed_at, attempts, payload in rows:
            attempts = int(attempts or 1)
            out = attempts >= MAX_ATTEMPTS
            values: dict[str, Any] = (
                {"state": FAILED, "payload": None} if out else {"claimed_at": now, "attempts": attempts + 1}
            )
            with self.engine.begin() as conn:
                taken = conn.execute(
                    deliveries.update()
                    .where(
                        c.channel == channel,
                        c.delivery_id == delivery_id,
                        c.state == WORKING,
                        c.claimed_at == claimed_at,
                    )
                    .values(**values)
                ).rowcount
            if taken != 1:
                continue  # another process took it first
            claim = Claim(channel, delivery_id, _loads(payload), attempts if out else attempts + 1)
            (given_up if out else retry).append(claim)
        return Sweep(retry, given_up)

    def forget_before(self, timestamp: float) -> None:
        """Drops ids older than `timestamp` (a claim still open is kept whatever its age)."""
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.delete().where(
                    deliveries.c.received_at < timestamp,
                    sa.or_(deliveries.c.state.is_(None), deliveries.c.state != WORKING),
                )
            )


def _loads(payload: str | None) -> dict[str, Any]:
    try:
        value = json.loads(payload) if payload else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
