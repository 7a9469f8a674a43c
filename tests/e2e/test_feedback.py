"""Patients' feedback on answers, end to end against the real servers (scripts/run.sh): the widget's
`POST /webhooks/webchat/feedback` (only the patient's own curated answers, strict bodies, a note with
warning signs answered by the safety gate), and Telegram's and WhatsApp's "Was this answer helpful?"
quick replies, asked after the second curated answer and not again that day, whose taps are stored with
the answer's passage ids and never become a dialogue turn. What is stored is read straight from the
channels' database (here the tracker database) with the console's read API (bot/channels/feedback.py).
The thumbs in the browser are in tests/e2e/test_widget.py."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bot.channels import feedback_prompts as prompts
from bot.channels.feedback import Feedback, read_feedback
from tests.e2e import test_telegram as telegram
from tests.e2e import test_whatsapp as whatsapp
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

QUESTION = "Do the needle pricks hurt a lot?"
SECOND_QUESTION = "Is there any downtime after mesotherapy on the face?"
THIRD_QUESTION = "How many sessions would I need for my scalp?"
NOTE_WITH_WARNING_SIGNS = "It did not say what to do now: my lips are swelling and I'm struggling to breathe"


def stored(assistant, sender: str) -> list[Feedback]:
    engine = sa.create_engine(f"sqlite:///{assistant.tracker_db}")
    try:
        return read_feedback(engine, sender_id=sender)
    finally:
        engine.dispose()


def metas(assistant, sender: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(id of the patient message answered, reply metadata) of every turn, from the tracker."""
    found, answered = [], None
    for event in assistant.tracker(sender)["events"]:
        if event["event"] == "user":
            answered = event.get("message_id")
        meta = ((event.get("data") or {}).get("custom") or {}).get("meta") if event["event"] == "bot" else None
        if isinstance(meta, dict):
            found.append((answered, meta))
    return found


def rateable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("rateable")]


# -- the widget's API ---------------------------------------------------------------------------------------


def test_a_widget_patient_rates_their_own_answers_only(assistant):
    patient = WebChat.start(assistant.url)
    turn = patient.say(QUESTION)
    (answer,) = rateable(turn["messages"])
    assert answer["role"] == "bot" and answer["rated"] is None and isinstance(answer["id"], int)
    greeting = patient.say("Thank you, bye!", after=turn["cursor"])
    assert rateable(greeting["messages"]) == []  # small talk has no thumbs
    events_before = assistant.event_count(patient.sender_id)

    def rate(body: Any, token: str | None = patient.token, **kwargs: Any):
        return call(assistant.url, "POST", "feedback", body, token, **kwargs)

    response = rate({"message_id": answer["id"], "value": "down", "comment": "  nothing about\x00 make-up  "})
    assert response.status_code == 200, response.text
    assert response.json() == {"message_id": answer["id"], "value": "down", "comment": True}
    assert response.headers["cache-control"] == "no-store"
    (row,) = stored(assistant, patient.sender_id)
    (answered, meta) = next(m for m in metas(assistant, patient.sender_id) if m[1]["kind"] == "answer")
    assert (row.channel, row.value, row.comment, row.message_index) == (
        "webchat",
        "down",
        "nothing about  make-up",
        answer["id"],
    )
    assert row.passage_ids == tuple(meta["passage_ids"]) and row.passage_ids
    assert row.answer_id == answered and row.topic == (meta["topics"] or [None])[0]

    # changing your mind replaces the rating; the history shows it; nothing reached the dialogue
    assert (
        rate({"message_id": answer["id"], "value": "up", "comment": "ignored with a thumbs up"}).json()["comment"]
        is False
    )
    (row,) = stored(assistant, patient.sender_id)
    assert (row.value, row.comment) == ("up", None)
    assert rateable(patient.history()["messages"])[0]["rated"] == "up"
    assert assistant.event_count(patient.sender_id) == events_before

    # what cannot be rated: a patient message, small talk, an id out of range, another patient's answer
    user_id = next(m["id"] for m in turn["messages"] if m["role"] == "user")
    smalltalk_id = next(m["id"] for m in greeting["messages"] if m["role"] == "bot")
    for message_id in (user_id, smalltalk_id, 99_999):
        refused = rate({"message_id": message_id, "value": "up"})
        assert refused.status_code == 404 and "can be rated" in refused.json()["error"], message_id
    stranger = WebChat.start(assistant.url)
    assert rate({"message_id": answer["id"], "value": "down"}, token=stranger.token).status_code == 404
    assert stored(assistant, stranger.sender_id) == []

    # strict bodies, a session, a size limit
    for bad in (
        {"message_id": answer["id"]},
        {"message_id": answer["id"], "value": "meh"},
        {"message_id": str(answer["id"]), "value": "up"},
        {"message_id": True, "value": "up"},
        {"message_id": -1, "value": "up"},
        {"message_id": answer["id"], "value": "up", "sender_id": "web-0000000000000000"},
        {"message_id": answer["id"], "value": "down", "comment": 42},
        {"message_id": answer["id"], "value": "down", "comment": "x" * 501},
        [answer["id"], "up"],
    ):
        assert rate(bad).status_code == 400, bad
    assert (
        rate(
            None, content=b'{"message_id": NaN, "value": "up"}', headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert rate({"message_id": answer["id"], "value": "up"}, token=None).status_code == 401
    assert rate({"message_id": answer["id"], "value": "up"}, token="A" * 43).status_code == 401
    huge = {"message_id": answer["id"], "value": "down", "comment": "x" * 20_000}
    assert rate(huge).status_code == 413
    (row,) = stored(assistant, patient.sender_id)
    assert row.value == "up"  # none of that changed the rating


def test_a_note_with_warning_signs_gets_the_urgent_answer(assistant):
    """The "what was missing?" note is feedback, but a patient may describe symptoms there: the safety
    gate answers it like a message (urgent care), and the note is kept too."""
    patient = WebChat.start(assistant.url)
    turn = patient.say(QUESTION)
    (answer,) = rateable(turn["messages"])
    response = call(
        assistant.url,
        "POST",
        "feedback",
        {"message_id": answer["id"], "value": "down", "comment": NOTE_WITH_WARNING_SIGNS, "after": turn["cursor"]},
        patient.token,
    )
    assert response.status_code == 200, response.text
    urgent = response.json()["turn"]
    assert urgent["kind"] == "emergency" and urgent["emergency"] is True
    assert "112" in " ".join(m["text"] for m in urgent["messages"] if m["role"] == "bot")
    assert metas(assistant, patient.sender_id)[-1][1]["kind"] == "emergency"
    (row,) = stored(assistant, patient.sender_id)
    assert row.comment == NOTE_WITH_WARNING_SIGNS and row.value == "down"


# -- Telegram ---------------------------------------------------------------------------------------------


def telegram_question(chat: telegram.Chat, text: str) -> tuple[str, list[Any]]:
    """Sends a question; returns the answer id (the update's) and what the patient received."""
    update = chat.message(text=text)
    return f"tg-{update['update_id']}", chat.send(update)


def telegram_asked(chat: telegram.Chat, count: int = 1, timeout: float = 30) -> list[Any]:
    """Every "Was this answer helpful?" this chat received, once `count` arrived or `timeout` passed."""
    return chat.platforms.wait_for(
        lambda r: chat.platforms.telegram(chat.chat_id)(r) and r.body.get("text") == prompts.QUESTION,
        count=count,
        timeout=timeout,
    )


def whatsapp_asked(patient: whatsapp.Patient, count: int = 1, timeout: float = 30) -> list[Any]:
    """Every "Was this answer helpful?" this patient received, once `count` arrived or `timeout` passed."""
    return patient.platforms.wait_for(
        lambda r: patient.platforms.whatsapp(patient.wa_id)(r) and whatsapp.text_of([r]) == prompts.QUESTION,
        count=count,
        timeout=timeout,
    )


def test_telegram_asks_after_the_second_answer_and_stores_the_tap(assistant, platforms):
    chat = telegram.Chat(assistant, platforms)
    chat.agree(SECOND_QUESTION)
    assert telegram_asked(chat, timeout=2.0) == []  # not after the first answer
    answer_id, _ = telegram_question(chat, QUESTION)
    assert [m["kind"] for _, m in metas(assistant, chat.sender)][-2:] == ["answer", "answer"]
    (asked,) = telegram_asked(chat)
    assert [(b["text"], b["callback_data"]) for b in telegram.keyboard(asked)] == prompts.rating_buttons(answer_id)
    users_before = len(assistant.user_events(chat.sender))

    tap = chat.tap(f"fb:down:{answer_id}")
    reasons = chat.send(tap)
    tap_id = tap["callback_query"]["id"]
    acks = platforms.wait_for(lambda r: r.method == "answerCallbackQuery" and r.body.get("callback_query_id") == tap_id)
    assert acks[-1].body["text"] == prompts.THANKS  # the button's brief toast
    assert reasons[-1].body["text"] == prompts.WHAT_WAS_MISSING
    assert [b["callback_data"] for b in telegram.keyboard(reasons[-1])] == [
        p for _, p in prompts.reason_buttons(answer_id)
    ]
    (row,) = stored(assistant, chat.sender)
    meta = next(m for answered, m in metas(assistant, chat.sender) if answered == answer_id)
    assert (row.channel, row.answer_id, row.value, row.comment) == ("telegram", answer_id, "down", None)
    assert row.passage_ids == tuple(meta["passage_ids"]) and row.passage_ids

    reason = chat.tap(f"fb:why:general:{answer_id}")
    assert telegram.post_update(assistant, reason)[0] == 200
    reason_id = reason["callback_query"]["id"]
    noted = platforms.wait_for(
        lambda r: r.method == "answerCallbackQuery" and r.body.get("callback_query_id") == reason_id
    )
    assert noted[-1].body["text"] == prompts.NOTED
    (row,) = stored(assistant, chat.sender)
    assert (row.value, row.comment) == ("down", prompts.REASONS["general"])

    # a forged payload rates nothing; none of the taps became a dialogue turn
    forged = chat.tap("fb:up:tg-1")
    assert telegram.post_update(assistant, forged)[0] == 200
    forged_id = forged["callback_query"]["id"]
    refused = platforms.wait_for(
        lambda r: r.method == "answerCallbackQuery" and r.body.get("callback_query_id") == forged_id
    )
    assert refused[-1].body["text"] == prompts.EXPIRED
    assert [r.value for r in stored(assistant, chat.sender)] == ["down"]
    assert len(assistant.user_events(chat.sender)) == users_before

    # the third answer that day: not asked again
    telegram_question(chat, THIRD_QUESTION)
    assert len(telegram_asked(chat, count=2, timeout=3.0)) == 1
    telegram.assert_no_meta_left(platforms)


def test_telegram_never_asks_after_an_emergency(assistant, platforms):
    chat = telegram.Chat(assistant, platforms)
    chat.agree(SECOND_QUESTION)
    chat.send(chat.message(text="my lips are swelling since the injections and I can't breathe"))
    telegram_question(chat, QUESTION)
    assert telegram_asked(chat, timeout=3.0) == []
    assert stored(assistant, chat.sender) == []


# -- WhatsApp ---------------------------------------------------------------------------------------------


def test_whatsapp_asks_after_the_second_answer_and_stores_the_tap(assistant, platforms):
    patient = whatsapp.Patient(assistant, platforms)
    patient.agree(SECOND_QUESTION)
    assert whatsapp_asked(patient, timeout=2.0) == []  # not after the first answer
    body = patient.text(QUESTION)
    answer_id = body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    patient.send(body)
    (asked,) = whatsapp_asked(patient)
    assert whatsapp.options(asked) == [(p, t) for t, p in prompts.rating_buttons(answer_id)]
    users_before = len(assistant.user_events(patient.sender))

    thanks = patient.send(patient.button(f"fb:up:{answer_id}", prompts.UP_TITLE))
    assert whatsapp.text_of(thanks) == prompts.THANKS
    (row,) = stored(assistant, patient.sender)
    meta = next(m for answered, m in metas(assistant, patient.sender) if answered == answer_id)
    assert (row.channel, row.answer_id, row.value) == ("whatsapp", answer_id, "up")
    assert row.passage_ids == tuple(meta["passage_ids"]) and row.passage_ids

    # changing their mind: a thumbs down, then the reasons as reply buttons
    reasons = patient.send(patient.button(f"fb:down:{answer_id}", prompts.DOWN_TITLE))
    assert whatsapp.text_of(reasons) == prompts.WHAT_WAS_MISSING
    assert [t for _, t in whatsapp.options(reasons[-1])] == list(prompts.REASONS.values())
    (row,) = stored(assistant, patient.sender)
    assert row.value == "down"
    assert len(assistant.user_events(patient.sender)) == users_before  # the taps never became turns

    patient.send(patient.text(THIRD_QUESTION))
    assert len(whatsapp_asked(patient, count=2, timeout=3.0)) == 1  # the third answer that day: not asked again
    whatsapp.assert_no_meta_left(platforms)
