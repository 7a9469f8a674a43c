"""WhatsApp Cloud API, end to end: real-shaped webhook payloads (as in Meta's documentation),
signed like Meta signs them, posted to the real running Rasa server; what the patient receives
is read from the fake Graph API's records."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import WHATSAPP_APP_SECRET, WHATSAPP_PHONE_ID, WHATSAPP_TEMPLATE, WHATSAPP_VERIFY_TOKEN
from tests.e2e.fake_platforms import FakePlatforms, Recorded

DISCLAIMER_START = "General information only"
_numbers = itertools.count(919800000001)
_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgMOTE5ODAwMDAwMDAxFQIAEhgUM0E{int(time.time() * 1000)}{next(_ids):06d}A=="


def sign(raw: bytes, secret: str = WHATSAPP_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_webhook(assistant, body: dict[str, Any] | bytes, signature: str | None = "sign"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-Hub-Signature-256"] = sign(raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    req = urllib.request.Request(assistant.url + "/webhooks/whatsapp/webhook", data=raw, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": WHATSAPP_PHONE_ID},
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


class Patient:
    def __init__(self, assistant, platforms: FakePlatforms) -> None:
        self.assistant, self.platforms = assistant, platforms
        self.wa_id = str(next(_numbers))
        self.sender = f"wa-{self.wa_id}"

    def message(self, kind: str, **content: Any) -> dict[str, Any]:
        return envelope(
            {
                "contacts": [{"profile": {"name": "Meera"}, "wa_id": self.wa_id}],
                "messages": [
                    {"from": self.wa_id, "id": wamid(), "timestamp": str(int(time.time())), "type": kind, **content}
                ],
            }
        )

    def text(self, body: str) -> dict[str, Any]:
        return self.message("text", text={"body": body})

    def button(self, reply_id: str, title: str = "Yes") -> dict[str, Any]:
        return self.message(
            "interactive",
            context={"from": "15550783881", "id": wamid()},
            interactive={"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
        )

    def list_choice(self, row_id: str, title: str) -> dict[str, Any]:
        return self.message(
            "interactive",
            context={"from": "15550783881", "id": wamid()},
            interactive={"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
        )

    def sent(self) -> list[Recorded]:
        return self.platforms.matching(self.platforms.whatsapp(self.wa_id))

    def send(self, body: dict[str, Any], replies: int = 1) -> list[Recorded]:
        before = len(self.sent())
        status, answer = post_webhook(self.assistant, body)
        assert status == 200, answer
        return self.platforms.wait_for(self.platforms.whatsapp(self.wa_id), count=before + replies, settle=0.6)[before:]

    def agree(self, first: str) -> list[Recorded]:
        consent = self.send(self.text(first))
        assert options(consent[-1])
        return self.send(self.button("/affirm", "Yes, I agree"))


def text_of(calls: list[Recorded]) -> str:
    parts = []
    for call in calls:
        if call.body.get("type") == "text":
            parts.append(call.body["text"]["body"])
        elif call.body.get("type") == "interactive":
            parts.append(call.body["interactive"]["body"]["text"])
    return "\n".join(parts)


def options(call: Recorded) -> list[tuple[str, str]]:
    """(id, title) of the reply buttons or list rows in an interactive message."""
    interactive = call.body.get("interactive") or {}
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        return [(b["reply"]["id"], b["reply"]["title"]) for b in action["buttons"]]
    if interactive.get("type") == "list":
        return [(r["id"], r["title"]) for s in action["sections"] for r in s["rows"]]
    return []


def assert_no_meta_left(platforms: FakePlatforms) -> None:
    for call in platforms.matching(lambda r: r.path.startswith("/graph/")):
        dumped = json.dumps(call.body)
        assert '"meta"' not in dumped and "passage_ids" not in dumped and "confidence" not in dumped, dumped


def test_webhook_verification_handshake(assistant):
    query = urllib.parse.urlencode(
        {"hub.mode": "subscribe", "hub.verify_token": WHATSAPP_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    with urllib.request.urlopen(f"{assistant.url}/webhooks/whatsapp/webhook?{query}", timeout=10) as resp:
        assert resp.status == 200 and resp.read() == b"1158201444"
    for token in ("wrong", ""):
        bad = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{assistant.url}/webhooks/whatsapp/webhook?{bad}", timeout=10)
        assert err.value.code == 403


def test_first_message_asks_consent_then_answers_the_held_question(assistant, platforms):
    patient = Patient(assistant, platforms)
    consent = patient.send(patient.text("How many sessions are usually needed for hair loss?"))
    assert len(consent) == 1
    assert consent[0].body["interactive"]["type"] == "button"
    assert [i for i, _ in options(consent[0])] == ["/affirm", "/deny"]
    assert all(len(title) <= 20 for _, title in options(consent[0]))
    answer = patient.send(patient.button("/affirm", "Yes, I agree"))
    assert DISCLAIMER_START in text_of(answer)
    assert all(c.headers.get("Authorization") == "Bearer EAAe2eTestAccessToken" for c in answer)
    assert all(c.path == f"/graph/v21.0/{WHATSAPP_PHONE_ID}/messages" for c in answer)
    assert_no_meta_left(platforms)
    # the patient's profile name travels with their messages, for the staff console's queue
    names = [e.get("metadata", {}).get("display_name") for e in assistant.user_events(patient.sender)]
    assert names == ["Meera", "Meera"]


@pytest.mark.parametrize("signature", [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abc", "forged"])
def test_unsigned_or_forged_posts_are_refused_and_change_nothing(assistant, platforms, signature):
    patient = Patient(assistant, platforms)
    status, _ = post_webhook(assistant, patient.text("I'd like to book an appointment"), signature=signature)
    assert status == 401
    time.sleep(0.5)
    assert assistant.event_count(patient.sender) == 0
    assert patient.sent() == []


def test_a_body_signed_then_altered_is_refused(assistant, platforms):
    patient = Patient(assistant, platforms)
    raw = json.dumps(patient.text("Hello")).encode()
    signature = sign(raw)
    tampered = raw.replace(b"Hello", b"Hallo")
    status, _ = post_webhook(assistant, tampered, signature=signature)
    assert status == 401
    time.sleep(0.5)
    assert assistant.event_count(patient.sender) == 0


def test_repeated_message_ids_give_one_user_event_and_one_reply(assistant, platforms):
    patient = Patient(assistant, platforms)
    patient.agree("Hello")
    events_before = len(assistant.user_events(patient.sender))
    sent_before = len(patient.sent())
    body = patient.text("What should I avoid after the treatment?")
    for _ in range(3):
        status, _ = post_webhook(assistant, body)
        assert status == 200
    replies = platforms.wait_for(platforms.whatsapp(patient.wa_id), count=sent_before + 1, settle=3.0)[sent_before:]
    texts = [text_of([r]) for r in replies]
    assert texts and len(texts) == len(set(texts)), texts  # one reply, not one per delivery
    assert len(assistant.user_events(patient.sender)) == events_before + 1


def test_status_callbacks_are_accepted_and_never_treated_as_messages(assistant, platforms):
    patient = Patient(assistant, platforms)
    for status_name in ("sent", "delivered", "read", "failed"):
        callback: dict[str, Any] = {
            "id": wamid(),
            "status": status_name,
            "timestamp": str(int(time.time())),
            "recipient_id": patient.wa_id,
            "conversation": {"id": "CONVERSATION_ID", "origin": {"type": "service"}},
            "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"},
        }
        if status_name == "failed":
            callback["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
        status, body = post_webhook(assistant, envelope({"statuses": [callback]}))
        assert status == 200 and body["accepted"] == 0
    time.sleep(1.0)
    assert assistant.event_count(patient.sender) == 0
    assert patient.sent() == []


@pytest.mark.parametrize(
    "kind, content",
    [
        ("image", {"image": {"mime_type": "image/jpeg", "sha256": "abc", "id": "1479537139650973"}}),
        (
            "audio",
            {
                "audio": {
                    "mime_type": "audio/ogg; codecs=opus",
                    "sha256": "def",
                    "id": "1003383421387256",
                    "voice": True,
                }
            },
        ),
        ("sticker", {"sticker": {"mime_type": "image/webp", "sha256": "ghi", "id": "1228429680", "animated": False}}),
        ("location", {"location": {"latitude": 12.97, "longitude": 77.59}}),
    ],
)
def test_media_messages_get_a_text_reply(assistant, platforms, kind, content):
    patient = Patient(assistant, platforms)
    replies = patient.send(patient.message(kind, **content))
    assert len(replies) == 1
    assert replies[0].body["type"] == "text"
    assert "only read text" in replies[0].body["text"]["body"]


@pytest.mark.parametrize("vague, kind", [("needles", "button"), ("which is better", "list")])
def test_clarifying_options_are_interactive_and_a_choice_answers(assistant, platforms, vague, kind):
    """Up to three options are reply buttons, more are a list (WhatsApp's limits)."""
    patient = Patient(assistant, platforms)
    patient.agree("Hello")
    asked = patient.send(patient.text(vague))
    choices = options(asked[-1])
    assert len(choices) >= 2, text_of(asked)
    assert asked[-1].body["interactive"]["type"] == kind
    assert all(len(title) <= (20 if kind == "button" else 24) for _, title in choices)
    payload, title = next(c for c in choices if c[0].startswith("/choose_topic"))
    reply = patient.list_choice(payload, title) if kind == "list" else patient.button(payload, title)
    answer = patient.send(reply)
    assert DISCLAIMER_START in text_of(answer)
    assert_no_meta_left(platforms)


def test_emergency_reply_is_marked_and_carries_the_emergency_number(assistant, platforms):
    patient = Patient(assistant, platforms)
    replies = patient.send(patient.text("after the injections my face is swelling fast and my throat feels tight"))
    text = text_of(replies)
    assert "🚨" in text and "112" in text
    assert "contact you" in text  # the clinic can write to a WhatsApp patient
    assert "tel:" not in text and "<a" not in text  # plain text, no link markup
    assert_no_meta_left(platforms)


def test_staff_reply_inside_24_hours_is_plain_text(assistant, platforms):
    patient = Patient(assistant, platforms)
    patient.agree("I want to talk to a person please")
    before = len(patient.sent())
    status, body = assistant.staff_reply(patient.sender, "Hi Meera, Dr Rao here. How can I help?")
    assert (status, body) == (200, {"delivered": True, "via": "whatsapp"})
    sent = patient.sent()[before:]
    assert len(sent) == 1 and sent[0].body["type"] == "text"
    assert sent[0].body["text"]["body"] == "Hi Meera, Dr Rao here. How can I help?"


def test_staff_reply_after_24_hours_uses_the_template(assistant, platforms):
    patient = Patient(assistant, platforms)
    # A conversation whose last patient message is 25 hours old (appended through Rasa's API).
    old = time.time() - 25 * 3600
    events = [
        {"event": "action", "name": "action_listen", "timestamp": old - 1},
        {
            "event": "user",
            "text": "Can someone call me about my results?",
            "timestamp": old,
            "input_channel": "whatsapp",
            "parse_data": {"intent": {"name": "request_human", "confidence": 1.0}, "entities": []},
        },
    ]
    req = urllib.request.Request(
        f"{assistant.url}/conversations/{patient.sender}/tracker/events",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json", **assistant.api_headers()},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    status, body = assistant.staff_reply(patient.sender, "Sorry for the wait: we can call you tomorrow at 11.")
    assert (status, body) == (200, {"delivered": True, "via": "whatsapp_template"})
    sent = patient.sent()
    assert len(sent) == 1 and sent[0].body["type"] == "template"
    template = sent[0].body["template"]
    assert template["name"] == WHATSAPP_TEMPLATE
    assert template["components"][0]["parameters"][0]["text"] == "Sorry for the wait: we can call you tomorrow at 11."


def test_malformed_but_signed_bodies_get_a_clear_error(assistant):
    status, body = post_webhook(assistant, b"not json")
    assert status == 400 and "JSON" in body["error"]
    status, body = post_webhook(assistant, {"object": "whatsapp_business_account", "entry": [{"changes": [None]}]})
    assert status == 200 and body["accepted"] == 0
    assert assistant.alive()
