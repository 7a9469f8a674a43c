"""Telegram, end to end: real-shaped updates (as in Telegram's Bot API documentation) posted to the
real running Rasa server; what the patient receives is read from the fake Bot API's records."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN
from tests.e2e.fake_platforms import FakePlatforms, Recorded

DISCLAIMER_START = "General information only"
_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)
_chats = itertools.count(700_000_001)


def post_update(assistant, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET, timeout: float = 10):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    req = urllib.request.Request(
        assistant.url + "/webhooks/telegram/webhook", data=json.dumps(update).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


class Chat:
    """One patient in a private Telegram chat."""

    def __init__(self, assistant, platforms: FakePlatforms) -> None:
        self.assistant, self.platforms = assistant, platforms
        self.chat_id = next(_chats)
        self.sender = f"tg-{self.chat_id}"
        self.user = {"id": self.chat_id, "is_bot": False, "first_name": "Asha", "language_code": "en"}

    def update(self, **content: Any) -> dict[str, Any]:
        return {"update_id": next(_ids), **content}

    def message(self, **fields: Any) -> dict[str, Any]:
        return self.update(
            message={
                "message_id": next(_ids),
                "from": self.user,
                "chat": {"id": self.chat_id, "first_name": "Asha", "type": "private"},
                "date": int(time.time()),
                **fields,
            }
        )

    def tap(self, data: str) -> dict[str, Any]:
        return self.update(
            callback_query={
                "id": str(next(_ids)),
                "from": self.user,
                "message": {
                    "message_id": next(_ids),
                    "chat": {"id": self.chat_id, "type": "private"},
                    "date": int(time.time()),
                    "text": "Please choose:",
                },
                "chat_instance": "-1234567890",
                "data": data,
            }
        )

    def sent(self) -> list[Recorded]:
        return self.platforms.matching(self.platforms.telegram(self.chat_id))

    def send(self, update: dict[str, Any], replies: int = 1) -> list[Recorded]:
        """Posts the update and returns the sendMessage calls it caused."""
        before = len(self.sent())
        status, body = post_update(self.assistant, update)
        assert status == 200, body
        return self.platforms.wait_for(self.platforms.telegram(self.chat_id), count=before + replies, settle=0.6)[
            before:
        ]

    def say(self, text: str) -> list[Recorded]:
        return self.send(self.message(text=text))

    def agree(self, first_question: str) -> list[Recorded]:
        consent = self.say(first_question)
        assert keyboard(consent[-1]), "the consent question comes with Yes/No buttons"
        return self.send(self.tap("/affirm"))


def text_of(calls: list[Recorded]) -> str:
    return "\n".join(c.body.get("text", "") for c in calls)


def keyboard(call: Recorded) -> list[dict[str, str]]:
    return [row[0] for row in (call.body.get("reply_markup") or {}).get("inline_keyboard", [])]


def assert_no_meta_left(platforms: FakePlatforms) -> None:
    for call in platforms.matching(lambda r: r.path.startswith("/telegram/")):
        dumped = json.dumps(call.body)
        assert '"meta"' not in dumped and "passage_ids" not in dumped and "confidence" not in dumped, dumped


def test_first_contact_asks_consent_then_answers_the_question_it_held(assistant, platforms):
    chat = Chat(assistant, platforms)
    consent = chat.say("Is there any downtime after mesotherapy on the face?")
    assert len(consent) == 1
    assert "agree" in text_of(consent).lower()
    buttons = keyboard(consent[0])
    assert [b["callback_data"] for b in buttons] == ["/affirm", "/deny"]
    assert DISCLAIMER_START not in text_of(consent)

    tap = chat.tap("/affirm")
    answer = chat.send(tap)
    assert DISCLAIMER_START in text_of(answer)
    assert "downtime" in text_of(answer).lower() or "back to" in text_of(answer).lower()
    # the button tap was acknowledged, so the patient's Telegram stops showing a spinner
    tap_id = tap["callback_query"]["id"]
    assert platforms.wait_for(lambda r: r.method == "answerCallbackQuery" and r.body.get("callback_query_id") == tap_id)
    assert all(c.path.startswith(f"/telegram/bot{TELEGRAM_TOKEN}/") for c in answer)
    assert_no_meta_left(platforms)
    # the patient's first name travels with their messages, for the staff console's queue
    assert [e.get("metadata", {}).get("display_name") for e in assistant.user_events(chat.sender)] == ["Asha", "Asha"]


def test_forged_updates_are_refused_and_change_nothing(assistant, platforms):
    chat = Chat(assistant, platforms)
    update = chat.message(text="Hello, is this the clinic?")
    for secret in (None, "", "wrong-secret-0123456789", TELEGRAM_SECRET[:-1], TELEGRAM_SECRET + "x"):
        status, body = post_update(assistant, update, secret=secret)
        assert status == 403, (secret, body)
    time.sleep(1.0)
    assert assistant.event_count(chat.sender) == 0
    assert chat.sent() == []
    # the same update with the right secret is then processed normally (it was not marked as seen)
    status, _ = post_update(assistant, update)
    assert status == 200
    assert platforms.wait_for(platforms.telegram(chat.chat_id))


def test_repeated_deliveries_give_one_user_event_and_one_reply(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.agree("Hello")
    events_before = len(assistant.user_events(chat.sender))
    sent_before = len(chat.sent())
    update = chat.message(text="How long does one session take?")
    for _ in range(4):
        status, _body = post_update(assistant, update)
        assert status == 200
    replies = platforms.wait_for(platforms.telegram(chat.chat_id), count=sent_before + 1, settle=3.0)[sent_before:]
    texts = [r.body["text"] for r in replies]
    assert texts and len(texts) == len(set(texts)), texts  # one reply, not one per delivery
    assert len(assistant.user_events(chat.sender)) == events_before + 1


def test_webhook_answers_at_once_while_the_reply_is_still_being_sent(assistant, platforms):
    chat = Chat(assistant, platforms)
    platforms.release.clear()  # the Bot API is slow: every sendMessage hangs until released
    try:
        started = time.monotonic()
        status, body = post_update(assistant, chat.message(text="Hi there"), timeout=20)
        acknowledged_after = time.monotonic() - started
        assert status == 200 and body["status"] == "accepted"
        assert chat.sent() == [], "the webhook answered before the reply went out"
    finally:
        platforms.release.set()
    assert platforms.wait_for(platforms.telegram(chat.chat_id))
    assert acknowledged_after < 15  # sanity: not waiting for the held sendMessage (held up to 60 s)


@pytest.mark.parametrize(
    "content, what",
    [
        (
            {
                "photo": [
                    {
                        "file_id": "AgACAgIAAxkBAAIB",
                        "file_unique_id": "AQAD",
                        "width": 90,
                        "height": 67,
                        "file_size": 1234,
                    }
                ]
            },
            "photo",
        ),
        (
            {
                "sticker": {
                    "file_id": "CAACAgIAAxkBAAIC",
                    "file_unique_id": "AgAD",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
            "sticker",
        ),
        (
            {
                "voice": {
                    "file_id": "AwACAgIAAxkBAAID",
                    "file_unique_id": "AgADvw",
                    "duration": 3,
                    "mime_type": "audio/ogg",
                    "file_size": 7000,
                }
            },
            "voice",
        ),
    ],
)
def test_media_get_a_short_text_only_reply(assistant, platforms, content, what):
    chat = Chat(assistant, platforms)
    replies = chat.send(chat.message(**content))
    assert len(replies) == 1
    assert "only read text" in replies[0].body["text"]
    assert "reply_markup" not in replies[0].body
    assert assistant.alive()


def test_edited_messages_get_a_short_reply(assistant, platforms):
    chat = Chat(assistant, platforms)
    edited = chat.update(
        edited_message={
            "message_id": 5,
            "from": chat.user,
            "chat": {"id": chat.chat_id, "type": "private"},
            "date": int(time.time()) - 60,
            "edit_date": int(time.time()),
            "text": "changed my mind",
        }
    )
    replies = chat.send(edited)
    assert "edited messages" in text_of(replies)


def test_warning_signs_in_a_photo_caption_get_urgent_care_at_once(assistant, platforms):
    chat = Chat(assistant, platforms)
    photo = [{"file_id": "AgACAgIAAxkBAAIE", "file_unique_id": "AQAE", "width": 90, "height": 67}]
    replies = chat.send(
        chat.message(
            photo=photo, caption="my lips and tongue are swelling since the injections and I can't breathe well"
        ),
        replies=2,
    )
    urgent = text_of(replies)
    assert "🚨" in urgent
    assert "112" in urgent  # the configured emergency number (clinic.yml)
    assert "contact you" in urgent  # the clinic can write to a Telegram patient
    assert "tel:" not in urgent and not any("parse_mode" in c.body for c in replies)  # plain text, no link markup
    assert_no_meta_left(platforms)


def test_clarifying_options_are_inline_buttons_and_a_tap_answers(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.agree("Hello")
    options = chat.say("which is better")
    buttons = keyboard(options[-1])
    assert len(buttons) >= 2, text_of(options)
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    topic = next(b for b in buttons if b["callback_data"].startswith("/choose_topic"))
    answer = chat.send(chat.tap(topic["callback_data"]))
    assert DISCLAIMER_START in text_of(answer)
    assert_no_meta_left(platforms)


def test_staff_reply_reaches_the_telegram_chat_and_is_stored(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.agree("Can I have mesotherapy while I take my blood pressure tablets?")
    before = len(chat.sent())
    status, body = assistant.staff_reply(chat.sender, "Hello Asha, this is Dr Rao from the clinic.")
    assert status == 200 and body == {"delivered": True, "via": "telegram"}
    sent = chat.sent()[before:]
    assert [c.body["text"] for c in sent] == ["Hello Asha, this is Dr Rao from the clinic."]
    events = assistant.tracker(chat.sender)["events"]
    staff = [e for e in events if e.get("event") == "bot" and (e.get("metadata") or {}).get("staff_reply")]
    assert staff and staff[-1]["text"] == "Hello Asha, this is Dr Rao from the clinic."


def test_staff_reply_needs_the_token(assistant, platforms):
    chat = Chat(assistant, platforms)
    chat.say("Hello")
    status, _ = assistant.staff_reply(chat.sender, "Not from staff", token="wrong")
    assert status == 401
    assert "Not from staff" not in text_of(chat.sent())


def test_telegram_commands_are_not_dialogue_commands(assistant, platforms):
    chat = Chat(assistant, platforms)
    greeting = chat.say("/start")
    assert keyboard(greeting[-1]), "/start is a greeting: the consent question comes back"
    # a typed intent command is read as plain text, not as an instruction to the dialogue
    chat.send(chat.tap("/affirm"))
    typed = chat.say('/choose_topic{"topic":"cost"}')
    assert "🚨" not in text_of(typed)
    assert assistant.alive()


def test_messages_sent_through_rasas_api_reach_telegram_without_metadata(assistant, platforms):
    """Rasa's own API (`output_channel=latest`) uses the channel's output: text yes, meta never."""
    chat = Chat(assistant, platforms)
    chat.agree("Hello")
    before = len(chat.sent())
    req = urllib.request.Request(
        f"{assistant.url}/conversations/{chat.sender}/execute?output_channel=latest",
        data=json.dumps({"name": "action_clinic_info"}).encode(),
        headers={"Content-Type": "application/json", **assistant.api_headers()},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    sent = platforms.wait_for(platforms.telegram(chat.chat_id), count=before + 1, settle=1.0)[before:]
    assert sent and "Example Skin Clinic" in text_of(sent)
    assert_no_meta_left(platforms)
