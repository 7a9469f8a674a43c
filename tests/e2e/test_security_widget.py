"""Issue 14, web widget: the patient's session is the server's, and only it opens a conversation.
Replays the findings against the real servers (scripts/run.sh) and a real browser:

- a sender id, seen in a log, an alert, the console or an export, was the widget's only credential:
  now a guessed or leaked sender id (or a client-made session id, as the old widget sent) can neither
  read the history nor post (401), and one patient's session never reaches another's conversation;
- Rasa answered CORS preflights from any origin, with credentials: now only the clinic's pages get
  an allow-origin, on Rasa's own API and the widget's alike, and the widget API refuses browsers on
  other pages (403);
- the session never travels in a URL (checked on every request the browser makes) and is no cookie;
- staff see a short patient reference in the console, not the sender id;
- with the session store unavailable, a message with warning signs still gets the urgent-care text.

See docs/security/widget-sessions.md.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from core.clinic import load_clinic
from core.patient_ref import patient_reference
from core.settings import PROJECT_ROOT, Settings
from tests.e2e.webchat import WebChat, call, page_session, sender_of
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.slow

CLINIC = load_clinic(Settings().clinic_file)
TURN = 30_000  # ms
QUESTION = "Do the needle pricks hurt a lot?"
OTHER_QUESTION = "How many sessions would I need for my scalp?"
WARNING_SIGNS = "Since the injections my tongue feels swollen and I'm struggling to breathe"
UNKNOWN_ORIGINS = [
    "https://evil.example",
    "http://localhost.evil.example",
    "http://127.0.0.1.evil.example:8080",
    "null",
]
REVIEWER = "rev.widget-security"
REVIEWER_PASSWORD = "widget-" + secrets.token_urlsafe(18)


def user_texts(assistant, sender: str) -> list[str]:
    return [e.get("text") for e in assistant.tracker(sender)["events"] if e["event"] == "user"]


# ---------------------------------------------------------------- the session is the only key


def test_a_guessed_or_leaked_sender_id_cannot_read_or_post(assistant):
    chat = WebChat.start(assistant.url)
    chat.say(QUESTION)
    sender = chat.sender_id
    assert re.fullmatch(r"web-[0-9a-f]{16}", sender)
    bare = sender.removeprefix("web-")
    url = assistant.url
    before = user_texts(assistant, sender)
    assert before == [QUESTION]

    # The old widget API: the id in the URL or the body, no session. Refused.
    for guess in (bare, sender):
        assert call(url, "GET", f"history?session_id={guess}").status_code == 401
        posted = call(url, "POST", "webhook", {"session_id": guess, "message": "I am the patient", "consent": True})
        assert posted.status_code == 401, posted.text
        assert posted.headers["WWW-Authenticate"].startswith("Bearer")
    # The sender id (or anything else that is not the session) as the session. Refused.
    for key in (bare, sender, sender + "x" * 23, "A" * 43, chat.token[:-2], chat.token.swapcase()):
        assert call(url, "GET", "history", token=key).status_code == 401
        assert call(url, "GET", "session", token=key).status_code == 401
        assert call(url, "POST", "webhook", {"message": "hi", "consent": True}, token=key).status_code == 401
    # Never from a URL either, nor from a cookie.
    assert call(url, "GET", f"history?session={chat.token}&token={chat.token}").status_code == 401
    assert call(url, "GET", "history", headers={"Cookie": f"session={chat.token}"}).status_code == 401
    assert user_texts(assistant, sender) == before  # nothing was posted as the patient

    # The patient's own session works, and reads their conversation.
    assert [m["text"] for m in chat.history()["messages"] if m["role"] == "user"] == [QUESTION]


def test_one_patients_session_never_reaches_anothers_conversation(assistant):
    alice, bob = WebChat.start(assistant.url), WebChat.start(assistant.url)
    alice.say(QUESTION)
    bob.say(OTHER_QUESTION)
    assert alice.sender_id != bob.sender_id
    assert [m["text"] for m in bob.history()["messages"] if m["role"] == "user"] == [OTHER_QUESTION]
    assert [m["text"] for m in alice.history()["messages"] if m["role"] == "user"] == [QUESTION]
    # Nothing a client sends names a conversation: a sender id in the body or the query is ignored.
    call(
        assistant.url, "POST", "webhook", {"message": "still me", "consent": True, "sender": alice.sender_id}, bob.token
    )
    history = call(assistant.url, "GET", f"history?sender={alice.sender_id}", token=bob.token).json()
    assert QUESTION not in json.dumps(history)
    assert user_texts(assistant, alice.sender_id) == [QUESTION]
    assert user_texts(assistant, bob.sender_id) == [OTHER_QUESTION, "still me"]


def test_a_session_needs_consent_and_ends_when_the_patient_forgets_the_chat(assistant):
    refused = call(assistant.url, "POST", "session", {"consent": False})
    assert refused.status_code == 403
    assert "session" not in refused.json()
    assert call(assistant.url, "POST", "session", content=b"not json").status_code == 400
    chat = WebChat.start(assistant.url)
    issued = call(assistant.url, "POST", "session", {"consent": True})
    assert issued.headers["Cache-Control"] == "no-store" and "set-cookie" not in issued.headers
    chat.say(QUESTION)
    assert call(assistant.url, "DELETE", "session", token=chat.token).status_code == 204
    assert call(assistant.url, "GET", "history", token=chat.token).status_code == 401
    sent = call(assistant.url, "POST", "webhook", {"message": "hello again", "consent": True}, chat.token)
    assert sent.status_code == 401


def test_odd_cursor_values_are_no_server_error(assistant):
    chat = WebChat.start(assistant.url)
    for after in ("1e999", "-1", "nan", "99999999999999999999999", "x"):
        assert call(assistant.url, "GET", f"history?after={after}", token=chat.token).status_code == 200
    odd = b'{"message": "hello", "consent": true, "after": 1e999}'
    response = call(
        assistant.url, "POST", "webhook", token=chat.token, content=odd, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text


# ---------------------------------------------------------------- CORS: the clinic's pages only

PREFLIGHT_PATHS = [
    "/webhooks/webchat/session",
    "/webhooks/webchat/webhook",
    "/webhooks/webchat/history",
    "/webhooks/rest/webhook",
    "/conversations/web-0123456789abcdef/tracker",  # Rasa's own API
    "/model/parse",
]


def preflight(assistant, path: str, origin: str) -> httpx.Response:
    return httpx.options(
        assistant.url + path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
        timeout=30,
    )


@pytest.mark.parametrize("path", PREFLIGHT_PATHS)
def test_cors_preflight_from_an_unknown_origin_gets_no_allow_origin(assistant, path: str):
    for origin in UNKNOWN_ORIGINS:
        answer = preflight(assistant, path, origin)
        assert "access-control-allow-origin" not in answer.headers, (origin, dict(answer.headers))
        assert "access-control-allow-credentials" not in answer.headers, (origin, dict(answer.headers))
    # the clinic's own pages (in tests: localhost on any port, the development default) are allowed
    allowed = preflight(assistant, path, "http://localhost:8123")
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:8123"
    assert "authorization" in allowed.headers.get("access-control-allow-headers", "").lower()


def test_the_widget_api_refuses_browsers_on_other_pages(assistant):
    chat = WebChat.start(assistant.url)
    for origin in UNKNOWN_ORIGINS:
        page = {"Origin": origin}
        assert call(assistant.url, "POST", "session", {"consent": True}, headers=page).status_code == 403
        assert call(assistant.url, "GET", "history", token=chat.token, headers=page).status_code == 403
        posted = call(assistant.url, "POST", "webhook", {"message": "hi", "consent": True}, chat.token, headers=page)
        assert posted.status_code == 403
        config = httpx.get(assistant.url + "/webhooks/webchat/config", headers=page, timeout=30)
        assert "access-control-allow-origin" not in config.headers
    assert user_texts(assistant, chat.sender_id) == []
    # Rasa's own pages (the demo) and the clinic's pages are served
    own = {"Origin": assistant.url}
    assert call(assistant.url, "POST", "session", {"consent": True}, headers=own).status_code == 201
    clinic = {"Origin": "http://localhost:8123"}
    assert call(assistant.url, "GET", "history", token=chat.token, headers=clinic).status_code == 200


# ---------------------------------------------------------------- in the browser


class _ClinicPage(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: Any) -> None:
        pass


CLINIC_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Clinic</title></head>
<body><h1>Our clinic</h1>
<script src="{server}/webhooks/webchat/widget.js" data-server="{server}"></script></body></html>"""


@pytest.fixture
def context(browser: Browser, assistant) -> Iterator[BrowserContext]:
    context = browser.new_context()
    context.set_default_timeout(TURN)
    yield context
    context.close()


def ask(page: Page, text: str) -> None:
    replies = page.locator(".msg.bot, .msg.staff")
    before = replies.count()
    page.get_by_role("textbox", name="Your message").fill(text)
    page.get_by_role("textbox", name="Your message").press("Enter")
    expect(page.locator(".outgoing")).to_have_count(0)
    expect(replies).not_to_have_count(before)


def test_the_session_never_appears_in_a_url_and_is_no_cookie(context: BrowserContext, assistant):
    """The widget on the clinic's own site (another origin than Rasa's), through a conversation and a
    reload: every request the browser makes is checked."""
    _ClinicPage.html = CLINIC_PAGE.replace("{server}", assistant.url).encode()
    site = LoopbackServer(_ClinicPage)
    requests: list[Request] = []
    page = context.new_page()
    page.on("request", lambda request: requests.append(request))
    try:
        page.goto(f"http://localhost:{site.port}/")  # localhost vs 127.0.0.1: another site than Rasa's
        page.get_by_role("button", name="Questions? Chat with us").click()
        page.get_by_role("button", name="I agree, start the chat").click()
        ask(page, QUESTION)
        session = page_session(page)
        assert session and len(session) == 43
        sender = sender_of(assistant.url, session)
        page.reload()
        expect(page.get_by_role("log")).to_contain_text(QUESTION)
        ask(page, OTHER_QUESTION)

        api = [r for r in requests if "/webhooks/webchat/" in r.url and r.method != "OPTIONS"]
        assert {r.url.split("?")[0].rsplit("/", 1)[1] for r in api} >= {"session", "webhook", "history", "config"}
        for request in requests:
            assert session not in request.url and sender not in request.url, request.url
            assert session not in (request.post_data or ""), request.url
        for request in api:
            needs_session = request.url.split("?")[0].endswith(("/webhook", "/history"))
            sent = request.all_headers().get("authorization")
            assert (sent == f"Bearer {session}") is needs_session, (request.url, sent)
        assert context.cookies() == []
        assert user_texts(assistant, sender) == [QUESTION, OTHER_QUESTION]
    finally:
        page.close()
        site.close()


def test_a_stale_session_in_the_browser_starts_a_new_chat(context: BrowserContext, assistant):
    """A session the server no longer knows (ended, or a made-up id from an old widget) opens nothing:
    the widget starts a new chat and the message still goes out."""
    page = context.new_page()
    page.goto(assistant.url + "/webhooks/webchat/demo")
    page.get_by_role("button", name="Questions? Chat with us").click()
    page.get_by_role("button", name="I agree, start the chat").click()
    ask(page, QUESTION)
    old = page_session(page)
    assert old
    old_sender = sender_of(assistant.url, old)
    assert call(assistant.url, "DELETE", "session", token=old).status_code == 204
    page.evaluate(
        """() => {
          const key = Object.keys(localStorage).find((k) => k.startsWith("meso-webchat:"));
          const saved = JSON.parse(localStorage.getItem(key));
          saved.session_id = "0123456789abcdef0123456789abcdef";  // what the old widget kept
          localStorage.setItem(key, JSON.stringify(saved));
        }"""
    )
    page.reload()
    ask(page, OTHER_QUESTION)
    new = page_session(page)
    assert new and new != old
    assert user_texts(assistant, sender_of(assistant.url, new)) == [OTHER_QUESTION]
    assert user_texts(assistant, old_sender) == [QUESTION]
    expect(page.get_by_role("log")).not_to_contain_text(QUESTION)
    page.close()


# ---------------------------------------------------------------- staff see a reference


@pytest.fixture(scope="module")
def reviewer(assistant) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "console", "create-user", REVIEWER, "--role", "reviewer", "--password-stdin"],
        input=REVIEWER_PASSWORD + "\n",
        env=assistant.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return REVIEWER


def test_the_console_shows_a_patient_reference_not_the_sender_id(context: BrowserContext, assistant, reviewer):
    chat = WebChat.start(assistant.url)
    chat.say(QUESTION)
    sender = chat.sender_id
    reference = patient_reference(sender)
    assert re.fullmatch(r"P-[0-9A-Z]{6}", reference) and reference[2:].lower() not in sender

    page = context.new_page()
    page.goto(f"{assistant.console_url}/#/conversations?q={quote(sender, safe='')}")
    page.get_by_label("Username").fill(reviewer)
    page.get_by_label("Password").fill(REVIEWER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    row = page.locator("tr").filter(has_text=QUESTION)
    expect(row).to_have_count(1)
    expect(row.locator(".sender")).to_have_text(reference)
    assert sender not in page.locator("main").inner_text()

    row.get_by_role("link").click()
    expect(page.locator(".conv-head")).to_contain_text(f"Patient: {reference}")
    assert sender not in page.locator("main").inner_text()
    # The API keeps the sender id for code (links, replies), with the reference beside it.
    listed = page.evaluate(
        "async (q) => (await (await fetch('/api/conversations?q=' + encodeURIComponent(q))).json()).items", sender
    )
    assert [(c["sender_id"], c["patient_ref"]) for c in listed] == [(sender, reference)]
    page.close()


# ---------------------------------------------------------------- the session store fails


def test_warning_signs_get_urgent_care_text_while_the_session_store_is_down(assistant):
    """The session cannot be checked (its database is locked): the conversation is neither read nor
    written, and the patient still gets the channel's urgent-care reply; staff are alerted."""
    chat = WebChat.start(assistant.url)
    chat.say(QUESTION)
    db = sqlite3.connect(assistant.tracker_db, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        down = call(assistant.url, "GET", "history", token=chat.token)
        assert down.status_code == 503
        sent = chat.send(WARNING_SIGNS)
        took = time.monotonic() - started
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert sent.status_code == 200, sent.text
    result = sent.json()
    assert result["kind"] == "emergency" and took < 45
    (reply,) = result["messages"]
    assert reply["role"] == "bot" and CLINIC.emergency_number in reply["text"]
    lines = assistant.alerts_file.read_text(encoding="utf-8").splitlines() if assistant.alerts_file.exists() else []
    alerts = [json.loads(line) for line in lines]
    assert any(a["sender_id"] == "web-unverified" and a["kind"] == "emergency" for a in alerts)
    assert user_texts(assistant, chat.sender_id) == [QUESTION]  # nothing written into the conversation
