"""Every character is checked: a warning sign at the start, in the middle or in the last 50
characters of a 10,000-character message gets the urgent reply on every channel (REST, web chat,
Telegram, WhatsApp), through the real servers."""

from __future__ import annotations

import json
import secrets

import pytest

from tests.e2e.conftest import meta_of
from tests.e2e.test_telegram import Chat
from tests.e2e.test_whatsapp import Patient
from tests.e2e.webchat import WebChat

LENGTH = 10_000
SIGN = "Oh and my mum says her lip has doubled in size and she is wheezing."
PARAGRAPH = (
    "We drove to the clinic on Saturday because my sister wanted to ask about the hair treatment, and the "
    "receptionist explained the price list, the parking behind the building and the opening hours again. "
    "Afterwards we had lunch at the place near the station and talked about whether the results last. "
)


def long_message(where: str) -> str:
    filler = (PARAGRAPH * (LENGTH // len(PARAGRAPH) + 2))[: LENGTH - len(SIGN) - 2]
    if where == "start":
        text = SIGN + " " + filler
    elif where == "middle":
        half = len(filler) // 2
        text = filler[:half] + " " + SIGN + " " + filler[half:]
    else:
        text = filler + " " + SIGN
    text = text[:LENGTH] if where != "end" else text[-LENGTH:]
    assert len(text) <= LENGTH
    if where == "end":
        assert SIGN in text[-50 - len(SIGN) :]
    return text


POSITIONS = ("start", "middle", "end")


def test_the_filler_alone_is_not_an_emergency(assistant) -> None:
    filler = (PARAGRAPH * 40)[:LENGTH]
    status, messages = assistant.post("long-" + secrets.token_hex(6), filler)
    assert status == 200
    meta = meta_of(messages)
    assert meta is not None and meta["kind"] != "emergency"


@pytest.mark.parametrize("where", POSITIONS)
def test_rest(assistant, where: str) -> None:
    status, messages = assistant.post("long-" + secrets.token_hex(6), long_message(where))
    assert status == 200
    meta = meta_of(messages)
    assert meta is not None and meta["kind"] == "emergency", meta


@pytest.mark.parametrize("where", POSITIONS)
def test_web_chat(assistant, where: str) -> None:
    result = WebChat.start(assistant.url).say(long_message(where))
    bot = [m for m in result["messages"] if m.get("role") == "bot"]
    assert bot and all(m.get("kind") == "emergency" for m in bot), result
    assert result["handoff"] is True


def _own_chat(assistant, platforms) -> Chat:
    """A Telegram chat with an id no other test file uses (their id counters start at fixed values)."""
    chat = Chat(assistant, platforms)
    chat.chat_id = 950_000_000 + secrets.randbelow(40_000_000)
    chat.sender = f"tg-{chat.chat_id}"
    chat.user = {**chat.user, "id": chat.chat_id}
    return chat


def _own_patient(assistant, platforms) -> Patient:
    patient = Patient(assistant, platforms)
    patient.wa_id = "4477" + str(secrets.randbelow(10**8)).zfill(8)
    patient.sender = f"wa-{patient.wa_id}"
    return patient


@pytest.mark.parametrize("where", POSITIONS)
def test_telegram(assistant, platforms, where: str) -> None:
    chat = _own_chat(assistant, platforms)
    sent = chat.say(long_message(where))
    assert "URGENT" in sent[0].body["text"], sent[0].body


@pytest.mark.parametrize("where", POSITIONS)
def test_whatsapp(assistant, platforms, where: str) -> None:
    patient = _own_patient(assistant, platforms)
    sent = patient.send(patient.text(long_message(where)))
    body = json.dumps(sent[0].body)
    assert "URGENT" in body, body
