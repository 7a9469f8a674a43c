"""Claim, process, then mark done, against the real running assistant: a Telegram update or a WhatsApp
message left claimed by a Rasa process that died (the row it leaves in the delivery table, written here
as that process wrote it) is answered by the running process once its lease is over, once; a turn that
had already run is not run again, its stored reply is sent; a platform's later retry is a duplicate."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from tests.e2e.test_telegram import Chat, post_update
from tests.e2e.test_telegram import text_of as telegram_text
from tests.e2e.test_whatsapp import Patient, post_webhook
from tests.e2e.test_whatsapp import text_of as whatsapp_text

LONG_AGO = 3600.0
"""A claim this old has outlived any lease: its process is gone."""


def engine(assistant) -> sa.engine.Engine:
    return sa.create_engine(assistant.env["MESO_TRACKER_DB_URL"])


def leave_claimed(assistant, channel: str, delivery_id: str, payload: dict[str, Any]) -> None:
    """What a process that claimed a delivery and died before answering leaves behind."""
    claimed = time.time() - LONG_AGO
    with engine(assistant).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO channel_deliveries (channel, delivery_id, received_at, state, claimed_at, attempts, "
                "payload) VALUES (:c, :d, :t, 'working', :t, 1, :p)"
            ),
            {"c": channel, "d": delivery_id, "t": claimed, "p": json.dumps(payload)},
        )


def reopen(assistant, channel: str, delivery_id: str) -> None:
    """A delivery whose turn ran and was stored, by a process that died before marking it done."""
    with engine(assistant).begin() as conn:
        done = conn.execute(
            sa.text(
                "UPDATE channel_deliveries SET state = 'working', claimed_at = :t WHERE channel = :c AND delivery_id = :d"
            ),
            {"c": channel, "d": delivery_id, "t": time.time() - LONG_AGO},
        ).rowcount
    assert done == 1


def state_of(assistant, channel: str, delivery_id: str) -> tuple[str, Any]:
    with engine(assistant).connect() as conn:
        row = conn.execute(
            sa.text("SELECT state, payload FROM channel_deliveries WHERE channel = :c AND delivery_id = :d"),
            {"c": channel, "d": delivery_id},
        ).one()
    return row[0], row[1]


def test_a_telegram_update_left_claimed_by_a_dead_process_is_answered_once(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.agree("Hello")
    before, events = len(chat.sent()), len(assistant.user_events(chat.sender))
    update = chat.message(text="How many sessions of mesotherapy are usually needed?")
    leave_claimed(
        assistant,
        "telegram",
        str(update["update_id"]),
        {
            "update_id": update["update_id"],
            "incoming": {"chat_id": str(chat.chat_id), "text": update["message"]["text"]},
        },
    )
    replies = platforms.wait_for(platforms.telegram(chat.chat_id), count=before + 1, timeout=60, settle=2.0)[before:]
    assert "session" in telegram_text(replies).lower()
    assert len(assistant.user_events(chat.sender)) == events + 1
    assert state_of(assistant, "telegram", str(update["update_id"])) == ("done", None)  # the text is dropped
    status, body = post_update(assistant, update)  # Telegram delivering it again later
    assert status == 200 and body["status"] == "duplicate"
    time.sleep(2)
    assert len(chat.sent()) == before + len(replies)


def test_a_turn_that_ran_before_its_process_died_is_not_run_twice(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.agree("Hello")
    update = chat.message(text="Does mesotherapy hurt?")
    first = chat.send(update)
    events = len(assistant.user_events(chat.sender))
    reopen(assistant, "telegram", str(update["update_id"]))
    again = platforms.wait_for(platforms.telegram(chat.chat_id), count=len(chat.sent()) + 1, timeout=60, settle=2.0)
    assert telegram_text(again[-len(first) :]) == telegram_text(first)  # the stored reply, sent again
    assert len(assistant.user_events(chat.sender)) == events  # not a second turn
    assert state_of(assistant, "telegram", str(update["update_id"]))[0] == "done"


def test_a_whatsapp_message_left_claimed_by_a_dead_process_is_answered_once(assistant, platforms):
    patient = Patient(assistant, platforms)
    patient.agree("Hello")
    before, events = len(patient.sent()), len(assistant.user_events(patient.sender))
    body = patient.text("What is the downtime after mesotherapy?")
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    leave_claimed(
        assistant,
        "whatsapp",
        message["id"],
        {
            "incoming": {
                "wa_id": patient.wa_id,
                "message_id": message["id"],
                "text": message["text"]["body"],
                "timestamp": float(message["timestamp"]),
            }
        },
    )
    replies = platforms.wait_for(platforms.whatsapp(patient.wa_id), count=before + 1, timeout=60, settle=2.0)[before:]
    assert whatsapp_text(replies)
    assert len(assistant.user_events(patient.sender)) == events + 1
    status, answer = post_webhook(assistant, body)  # Meta delivering it again later
    assert status == 200 and answer["accepted"] == 0
    time.sleep(2)
    assert len(patient.sent()) == before + len(replies)
