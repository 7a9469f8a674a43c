"""Replay protection for webhooks: each platform delivery id (Telegram update_id, WhatsApp wamid)
is claimed once, in a small table of the tracker database (or MESO_CHANNEL_DB_URL), so a repeated
delivery, a retry or a second Rasa replica never processes the same message twice."""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

KEEP_SECONDS = 14 * 24 * 3600  # platforms retry for hours at most; ids are kept two weeks

metadata = sa.MetaData()
deliveries = sa.Table(
    "channel_deliveries",
    metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("delivery_id", sa.String(255), primary_key=True),
    sa.Column("received_at", sa.Float, nullable=False, index=True),
)


class DeliveryLog:
    def __init__(self, url: str) -> None:
        connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        metadata.create_all(self.engine, checkfirst=True)
        self._claims = 0

    def claim(self, channel: str, delivery_id: str) -> bool:
        """True the first time this delivery is seen; False for a repeat."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(channel=channel, delivery_id=delivery_id[:255], received_at=now)
                )
        except IntegrityError:
            return False
        self._claims += 1
        if self._claims % 500 == 0:
            self.forget_before(now - KEEP_SECONDS)
        return True

    def forget_before(self, timestamp: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.received_at < timestamp))
