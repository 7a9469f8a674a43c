"""Security of the patient-facing channels against the real servers (issue 14: robust parsing, rate
limits, REST API keys); docs/security/channels.md names the finding each test replays.

Most tests run against an assistant of their own (`guarded`), started like `make run` with REST API
keys, small limits, one trusted reverse proxy (so each test can be its own client address through
X-Forwarded-For, and limits used up by one test do not spill into the next) and a one-hour WhatsApp
message window."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from actions.safety import texts as safety_texts
from bot.channels.api_keys import hash_key
from core.settings import Settings
from tests.e2e.conftest import TELEGRAM_SECRET, Assistant, channel_settings, meta_of, start_assistant
from tests.e2e.fake_platforms import FakePlatforms, Recorded
from tests.e2e.test_telegram import Chat, post_update
from tests.e2e.test_whatsapp import Patient, post_webhook, sign, wamid
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

PARTNER_KEY = "partner-key-" + "p" * 30  # in the 0600 keys file
OTHER_KEY = "other-key-" + "o" * 30  # as its hash in MESO_REST_API_KEYS
SPARE_KEY = "spare-key-" + "s" * 30
PER_SENDER, QUEUE, AUTH_FAILURES, PER_KEY, PER_BODY = 20, 5, 5, 150, 5
TIMEOUT = 60.0

_facts = safety_texts.ClinicFacts.from_mapping(yaml.safe_load(Settings().clinic_file.read_text(encoding="utf-8")))
BUSY = safety_texts.channel_fallback(_facts, False)
"""The reviewed "couldn't process that just now, try again" text: what a refused patient is told."""
BUSY_URGENT = safety_texts.channel_fallback(_facts, True)
EMERGENCY_NUMBER = _facts.values()["emergency_number"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, platforms: FakePlatforms) -> Iterator[Assistant]:
    tmp = tmp_path_factory.mktemp("e2e-security-channels")
    keys = tmp / "rest-keys"
    keys.write_text(f"# integrations\npartner={PARTNER_KEY}\n", encoding="utf-8")
    keys.chmod(0o600)
    yield from start_assistant(
        tmp,
        **channel_settings(platforms),
        MESO_REST_API_KEYS_FILE=str(keys),
        MESO_REST_API_KEYS=f"other={hash_key(OTHER_KEY)},spare={hash_key(SPARE_KEY)}",
        MESO_TRUSTED_PROXIES="1",
        MESO_CHANNEL_RATE_PER_SENDER=str(PER_SENDER),
        MESO_CHANNEL_QUEUE_PER_SENDER=str(QUEUE),
        MESO_CHANNEL_AUTH_FAILURES_PER_ADDRESS=str(AUTH_FAILURES),
        MESO_REST_RATE_PER_KEY=str(PER_KEY),
        MESO_WHATSAPP_MESSAGES_PER_BODY=str(PER_BODY),
        MESO_WHATSAPP_MAX_MESSAGE_AGE_HOURS="1",
    )


_addresses = iter(range(1, 10_000))


def new_address() -> str:
    """A client address of its own (documentation range), as the trusted proxy reports it."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def rest(
    assistant: Assistant,
    sender: str,
    message: str,
    key: str | None = PARTNER_KEY,
    address: str | None = None,
    raw: bytes | None = None,
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "X-Forwarded-For": address or new_address()}
    if key is not None:
        headers["X-API-Key"] = key
    body = raw if raw is not None else json.dumps({"sender": sender, "message": message, "metadata": {"consent": True}})
    return httpx.post(assistant.url + "/webhooks/rest/webhook", content=body, headers=headers, timeout=TIMEOUT)


def user_texts(assistant: Assistant, sender: str) -> list[str]:
    return [e.get("text") or "" for e in assistant.user_events(sender)]


def wait_for_user_events(assistant: Assistant, sender: str, count: int, timeout: float = TIMEOUT) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(user_texts(assistant, sender)) < count:
        time.sleep(0.2)
    return user_texts(assistant, sender)


def text_of(call_: Recorded) -> str:
    """The text a patient sees in one recorded Telegram or WhatsApp call."""
    body = call_.body
    if isinstance(body.get("text"), str):
        return str(body["text"])  # Telegram
    if body.get("type") == "text":
        return str(body["text"]["body"])
    if body.get("type") == "interactive":
        return str(body["interactive"]["body"]["text"])
    return ""


def sent_texts(platforms: FakePlatforms, predicate: Any) -> list[str]:
    return [text_of(c) for c in platforms.matching(predicate)]


# -- odd JSON -------------------------------------------------------------------------------------

ODD_JSON = {
    "1e999": b'{"sender": "s", "message": "hi", "after": 1e999, "update_id": 1e999}',
    "-1e999": b'{"sender": "s", "message": "hi", "after": -1e999}',
    "NaN": b'{"sender": "s", "message": "hi", "after": NaN}',
    "Infinity": b'{"sender": "s", "message": "hi", "update_id": Infinity}',
    "huge-int": b'{"sender": "s", "message": "hi", "update_id": ' + b"9" * 5000 + b"}",
    "deep-array": b'{"sender": "s", "message": "hi", "metadata": {"consent": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
    "very-deep-array": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a": ' * 40 + b"1" + b"}" * 40,
}


def post_raw(assistant: Assistant, channel: str, raw: bytes) -> httpx.Response:
    """The raw body to a channel, authenticated as that channel requires (so parsing is what is tested)."""
    headers = {"Content-Type": "application/json", "X-Forwarded-For": new_address()}
    if channel == "rest":
        headers["X-API-Key"] = PARTNER_KEY
    elif channel == "telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM_SECRET
    elif channel == "whatsapp":
        headers["X-Hub-Signature-256"] = sign(raw)
    else:
        chat = WebChat.start(assistant.url)
        return call(assistant.url, "POST", "webhook", token=chat.token, headers=headers, content=raw)
    return httpx.post(f"{assistant.url}/webhooks/{channel}/webhook", content=raw, headers=headers, timeout=TIMEOUT)


@pytest.mark.parametrize("channel", ["rest", "telegram", "whatsapp", "webchat"])
@pytest.mark.parametrize("odd", list(ODD_JSON))
def test_numbers_and_nesting_json_cannot_hold_get_400_on_every_channel(guarded, channel, odd):
    response = post_raw(guarded, channel, ODD_JSON[odd])
    assert response.status_code == 400, response.text
    assert "error" in response.json()
    assert guarded.alive()


# -- body size ------------------------------------------------------------------------------------


def raw_request(assistant: Assistant, path: str, headers: dict[str, str], first: bytes) -> tuple[int, bool, float]:
    """Sends the request line, headers and only `first` bytes of the body; returns the status, whether the
    server then closed the connection (instead of waiting for the rest of the body), and the seconds the
    answer took."""
    port = int(assistant.url.rsplit(":", 1)[1])
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head.encode() + b"\r\n" + first)
        received = b""
        while b"\r\n\r\n" not in received:
            part = sock.recv(65536)
            if not part:
                break
            received += part
        took = time.monotonic() - started
        status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0
        closed = False
        try:
            while True:
                part = sock.recv(65536)
                if not part:
                    closed = True
                    break
        except ConnectionResetError:
            closed = True
        except TimeoutError:
            closed = False
    return status, closed, took


def test_an_unsigned_50_mb_whatsapp_post_is_refused_before_it_is_read_or_hashed(guarded):
    status, closed, took = raw_request(
        guarded,
        "/webhooks/whatsapp/webhook",
        {"Content-Type": "application/json", "Content-Length": str(50 * 1024 * 1024), "X-Forwarded-For": new_address()},
        b'{"object": "whatsapp_business_account", "entry": [' + b" " * 1000,
    )
    # 413, not 401: the signature was never computed (it needs the whole body); only 1 KB was ever sent
    assert status == 413 and took < 10
    assert closed, "the server kept the connection open to read the rest of the body"
    assert guarded.alive()


@pytest.mark.parametrize(
    ("path", "headers", "size"),
    [
        ("/webhooks/rest/webhook", {"X-API-Key": PARTNER_KEY}, 10 * 1024 * 1024),
        ("/webhooks/telegram/webhook", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, 5 * 1024 * 1024),
    ],
    ids=["rest", "telegram"],
)
def test_oversized_bodies_are_refused_before_they_are_read(guarded, path, headers, size):
    status, closed, took = raw_request(
        guarded,
        path,
        {"Content-Type": "application/json", "Content-Length": str(size), "X-Forwarded-For": new_address(), **headers},
        b'{"sender": "big", "message": "' + b"x" * 1000,
    )
    assert status == 413 and took < 10 and closed


def test_a_chunked_body_is_refused_once_it_passes_the_limit(guarded):
    chunk = b"x" * 65536
    body = b'{"sender": "chunky", "message": "'
    stream = b"%x\r\n%s\r\n" % (len(body), body) + b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5))
    status, closed, _ = raw_request(  # 320 KiB sent, no final chunk: the server must not wait for the end
        guarded,
        "/webhooks/rest/webhook",
        {
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "X-API-Key": PARTNER_KEY,
            "X-Forwarded-For": new_address(),
        },
        stream,
    )
    assert status == 413 and closed
    assert guarded.user_events("rest-partner-chunky") == []


# -- WhatsApp message age -----------------------------------------------------------------------


def with_timestamp(body: dict[str, Any], timestamp: float) -> dict[str, Any]:
    for message in body["entry"][0]["changes"][0]["value"]["messages"]:
        message["timestamp"] = str(int(timestamp))
    return body


@pytest.mark.parametrize(("offset", "why"), [(-2 * 3600, "captured two hours ago"), (3600, "an hour ahead")])
def test_a_replayed_old_or_future_whatsapp_message_is_acknowledged_and_not_processed(guarded, platforms, offset, why):
    patient = Patient(guarded, platforms)
    body = with_timestamp(
        patient.text("I think I'm having an allergic reaction, my face is swelling"), time.time() + offset
    )
    status, answer = post_webhook(guarded, body)
    assert status == 200, answer  # acknowledged, so Meta does not deliver it again
    assert answer["accepted"] == 0 and answer["stale"] == 1, why
    time.sleep(1.5)
    assert guarded.user_events(patient.sender) == [] and patient.sent() == []
    # the same patient's current message is processed: the check is on the message, not the patient
    status, answer = post_webhook(guarded, patient.text("Hello"))
    assert status == 200 and answer["accepted"] == 1
    assert wait_for_user_events(guarded, patient.sender, 1) == ["Hello"]


# -- bursts from one sender -------------------------------------------------------------------------


def test_a_signed_body_with_200_messages_answers_the_first_few_in_order_and_sends_one_note(guarded, platforms):
    patient = Patient(guarded, platforms)
    body = patient.text("message 0")
    messages = body["entry"][0]["changes"][0]["value"]["messages"]
    template = messages[0]
    messages[:] = [{**template, "id": wamid(), "text": {"body": f"message {i}"}} for i in range(200)]
    started = time.monotonic()
    status, answer = post_webhook(guarded, body)
    assert status == 200 and time.monotonic() - started < 10, answer
    assert answer["accepted"] == PER_BODY and answer["refused"] == 200 - PER_BODY
    notes = platforms.wait_for(lambda r: platforms.whatsapp(patient.wa_id)(r) and text_of(r) == BUSY)
    assert notes, "no note for the messages that were not handled"
    assert time.monotonic() - started < 60  # seconds, not minutes
    time.sleep(2.0)
    assert user_texts(guarded, patient.sender) == [f"message {i}" for i in range(PER_BODY)]  # in order
    assert sent_texts(platforms, platforms.whatsapp(patient.wa_id)).count(BUSY) == 1  # one note, not 195


def test_a_burst_from_one_rest_sender_is_answered_or_refused_politely_and_none_is_lost(guarded):
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    address = new_address()
    texts = [f"burst {i}: does mesotherapy hurt?" for i in range(40)]
    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(lambda t: rest(guarded, sender, t, address=address), texts))
    answered = [t for t, r in zip(texts, responses, strict=True) if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(answered) + len(refused) == 40, [r.status_code for r in responses]
    assert answered and refused
    for r in responses:
        if r.status_code == 200:
            assert meta_of(r.json()) is not None
            assert {m["recipient_id"] for m in r.json()} == {sender}  # the caller's own id, not the namespaced one
        else:
            retry = int(r.headers["Retry-After"])
            assert 1 <= retry <= 60 and r.json()["error"] == BUSY and EMERGENCY_NUMBER in BUSY
    stored = user_texts(guarded, f"rest-partner-{sender}")
    assert sorted(stored) == sorted(answered)  # every answered message stored, nothing else, none lost
    # a refused patient who waits as told is answered
    time.sleep(max(int(r.headers["Retry-After"]) for r in refused) + 1)
    later = rest(guarded, sender, "and how long does it last?", address=address)
    assert later.status_code == 200 and meta_of(later.json()) is not None


def test_a_burst_of_whatsapp_posts_is_answered_in_order_or_told_once(guarded, platforms):
    patient = Patient(guarded, platforms)
    accepted, refused = [], 0
    for i in range(PER_SENDER + 5):
        text = f"question {i}"
        status, answer = post_webhook(guarded, patient.text(text))
        assert status == 200, answer  # never a 429: Meta would deliver it again, for days
        if answer["accepted"]:
            accepted.append(text)
        refused += answer["refused"]
    assert len(accepted) + refused == PER_SENDER + 5 and refused
    assert wait_for_user_events(guarded, patient.sender, len(accepted)) == accepted  # in the order sent
    platforms.wait_for(lambda r: platforms.whatsapp(patient.wa_id)(r) and text_of(r) == BUSY, settle=1.0)
    assert sent_texts(platforms, platforms.whatsapp(patient.wa_id)).count(BUSY) == 1


def test_a_flood_of_emergencies_from_one_sender_does_not_fill_the_staff_queue(guarded, platforms):
    chat = Chat(guarded, platforms)
    statuses = []
    for _ in range(PER_SENDER + 5):
        status, body = post_update(guarded, chat.message(text="my lips are swelling and I can't breathe"))
        assert status == 200, body
        statuses.append(body["status"])
    accepted = statuses.count("accepted")
    assert statuses.count("refused") and accepted < len(statuses)
    wait_for_user_events(guarded, chat.sender, accepted)
    time.sleep(2.0)
    alerts = [json.loads(line) for line in guarded.alerts_file.read_text(encoding="utf-8").splitlines()]
    mine = [a for a in alerts if a.get("sender_id") == chat.sender]
    assert len(mine) <= accepted  # refused messages never reached the dialogue or the staff
    assert len(user_texts(guarded, chat.sender)) == accepted
    # the refused messages had warning signs: the one note is the urgent-care wording, with the number
    platforms.wait_for(lambda r: platforms.telegram(chat.chat_id)(r) and text_of(r) == BUSY_URGENT, settle=1.0)
    texts = sent_texts(platforms, platforms.telegram(chat.chat_id))
    assert texts.count(BUSY_URGENT) == 1 and EMERGENCY_NUMBER in BUSY_URGENT


# -- REST API keys ------------------------------------------------------------------------------------


def test_rest_needs_a_valid_key_when_keys_are_configured(guarded):
    sender = f"nokey-{uuid.uuid4().hex[:8]}"
    for key in (None, "", "wrong-key-" + "w" * 30, PARTNER_KEY[:-1]):
        response = rest(guarded, sender, "does it hurt?", key=key)
        assert response.status_code == 401, response.text
    assert guarded.user_events(sender) == [] and guarded.user_events(f"rest-partner-{sender}") == []
    response = rest(guarded, sender, "does it hurt?")
    assert response.status_code == 200 and meta_of(response.json()) is not None


def test_refused_authentications_from_one_address_get_429_before_the_body_is_read(guarded):
    address = new_address()
    for _ in range(AUTH_FAILURES):
        assert rest(guarded, "x", "hi", key="guess-" + uuid.uuid4().hex, address=address).status_code == 401
    blocked = rest(guarded, "x", "hi", key=PARTNER_KEY, address=address)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert rest(guarded, "x", "hi", address=new_address()).status_code == 200  # other addresses are not held up

    # the same budget on the messaging webhooks: forged Telegram secrets, unsigned WhatsApp posts
    telegram = new_address()
    for _ in range(AUTH_FAILURES):
        response = httpx.post(
            guarded.url + "/webhooks/telegram/webhook",
            json={"update_id": 1},
            headers={"X-Telegram-Bot-Api-Secret-Token": "guess", "X-Forwarded-For": telegram},
            timeout=TIMEOUT,
        )
        assert response.status_code == 403
    whatsapp = new_address()
    for _ in range(AUTH_FAILURES):
        response = httpx.post(
            guarded.url + "/webhooks/whatsapp/webhook",
            json={"object": "x"},
            headers={"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-Forwarded-For": whatsapp},
            timeout=TIMEOUT,
        )
        assert response.status_code == 401
    for address, path in ((telegram, "telegram"), (whatsapp, "whatsapp")):
        status, closed, took = raw_request(
            guarded,
            f"/webhooks/{path}/webhook",
            {"Content-Length": str(3 * 1024 * 1024), "X-Forwarded-For": address},
            b"{",
        )
        assert status == 429 and closed and took < 10, path


def test_rest_conversations_are_namespaced_per_key(guarded):
    name = f"bob-{uuid.uuid4().hex[:6]}"
    first = rest(guarded, name, "does mesotherapy hurt?")
    assert first.status_code == 200 and {m["recipient_id"] for m in first.json()} == {name}
    second = rest(guarded, name, "what does it cost?", key=OTHER_KEY)
    assert second.status_code == 200
    assert user_texts(guarded, f"rest-partner-{name}") == ["does mesotherapy hurt?"]
    assert user_texts(guarded, f"rest-other-{name}") == ["what does it cost?"]
    assert guarded.user_events(name) == []

    # an integration cannot write into a widget's conversation (nor another channel's)
    chat = WebChat.start(guarded.url)
    chat.say("hello")
    before = guarded.event_count(chat.sender_id)
    for target in (chat.sender_id, "tg-700000001", "wa-919800000001", f"rest-other-{name}"):
        response = rest(guarded, target, "I can't breathe")
        assert response.status_code == 200
        assert guarded.user_events(f"rest-partner-{target}")
    assert guarded.event_count(chat.sender_id) == before
    assert user_texts(guarded, f"rest-other-{name}") == ["what does it cost?"]


def test_each_key_has_its_own_budget(guarded):
    # refused after the key is checked (no valid body), so no turn runs; the budget refills as they go, so
    # the first 429 comes after at least the minute's budget
    headers = {"X-API-Key": SPARE_KEY, "X-Forwarded-For": new_address(), "Content-Type": "application/json"}
    statuses: list[int] = []
    retry_after = ""
    with httpx.Client(base_url=guarded.url, headers=headers, timeout=TIMEOUT) as client:
        while 429 not in statuses and len(statuses) < 4 * PER_KEY:
            response = client.post("/webhooks/rest/webhook", content=b"{}")
            statuses.append(response.status_code)
            retry_after = response.headers.get("Retry-After", "")
    assert 429 in statuses and statuses.index(429) >= PER_KEY
    assert set(statuses[:-1]) == {400}
    # the refused caller is told when to come back (the budget refills a token every 0.4 s, so a later
    # request of its own may already be let through again: that is the refill, not a leak)
    assert int(retry_after) >= 1
    assert rest(guarded, "partner-sender", "hi").status_code == 200  # another integration is not held up


def test_without_keys_in_development_rest_keeps_the_callers_sender_but_not_other_channels_prefixes(assistant):
    """The shared assistant has no keys (development default): the evaluation scorer and curl work with no
    configuration, and cannot write into the widget's, Telegram's, WhatsApp's or a keyed integration's
    conversations."""
    sender = f"dev-{uuid.uuid4().hex[:8]}"
    status, messages = assistant.post(sender, "does it hurt?")
    assert status == 200 and meta_of(messages) is not None
    assert [e["text"] for e in assistant.user_events(sender)] == ["does it hurt?"]
    for reserved in ("web-abcdefghijklmnop", "tg-1", "wa-1", "rest-partner-bob"):
        status, body = assistant.post(reserved, "hello")
        assert status == 400 and "may not start with" in body["error"], reserved


def test_the_keys_file_is_owner_only(guarded):
    keys = Path(guarded.env["MESO_REST_API_KEYS_FILE"])
    assert keys.stat().st_mode & 0o077 == 0
    credentials = (Path(guarded.env["MESO_RASA_RUN_DIR"]) / "credentials.yml").read_text()
    assert PARTNER_KEY not in credentials and hash_key(PARTNER_KEY) in credentials  # only the hash reaches Rasa
