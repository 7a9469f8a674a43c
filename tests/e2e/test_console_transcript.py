"""The transcript as a screen to work in, in a real browser (Debian's Chromium, driven by Playwright) against
the real servers started by scripts/run.sh: an admin keeps a canned reply; a web widget patient is handed
over and leaves a call-back number; a clinician opens the transcript (the reply box in view, the reasons
folded), sees the patient's next message arrive by itself, claims the patient, inserts the canned reply with
Ctrl+/, sends it, reveals the number as a tel: link, and hands the patient back after confirming, with a last
message; the patient's widget shows both messages; a reviewer sees "[phone]". The widget's contact endpoint
is also held to its rules here (session, consent, strict body, only at a handoff). Screenshots go to
test-artifacts/console/ (transcript-*.png)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from core.clinic import load_clinic
from core.patient_ref import patient_reference
from core.settings import PROJECT_ROOT
from tests.e2e.conftest import start_assistant
from tests.e2e.test_console import (
    PASSWORD,
    PERSONAL_QUESTION,
    Patient,
    ask,
    log_in,
    low_contrast,
    open_window,
    shot,
)
from tests.e2e.webchat import WebChat, call, page_sender

pytestmark = pytest.mark.slow

CLINICIAN, REVIEWER, ADMIN = "cara.e2e", "rex.e2e", "ada.e2e"
NAME, PHONE = "Meera Iyer", "+91 98765 43210"
LATER = "Are you still there? I can talk on the phone after 5."
CANNED_TITLE = "We will call you"
CANNED_TEXT = "Thank you for waiting. {clinic_name} will call you today on the number you left."
HAND_BACK = "handing you back to our assistant"
CALLBACK_OFFER = "Would you like the clinic to call you?"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory):
    """A private assistant for this module, so the queue holds only this module's patients."""
    yield from start_assistant(tmp_path_factory.mktemp("console-transcript-e2e"))


@pytest.fixture(scope="module")
def staff(assistant) -> None:
    for username, role in ((CLINICIAN, "clinician"), (REVIEWER, "reviewer"), (ADMIN, "admin")):
        done = subprocess.run(
            [sys.executable, "-m", "console", "create-user", username, "--role", role, "--password-stdin"],
            input=PASSWORD + "\n",
            env=assistant.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def patient(browser: Browser, assistant) -> Iterator[Patient]:
    """A widget patient handed to a clinician, who leaves a name and number for a call-back."""
    window = open_window(browser, width=420, height=860)
    page = window.page
    page.goto(assistant.url + "/webhooks/webchat/demo")
    page.get_by_role("button", name="Questions? Chat with us").click()
    page.get_by_role("button", name="I agree, start the chat").click()
    expect(ask(page, PERSONAL_QUESTION)).to_contain_text("clinician")
    offer = page.get_by_role("region", name=CALLBACK_OFFER)
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Leave my number").click()
    expect(page.get_by_label("Your name")).to_be_focused()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Phone number").fill(PHONE)
    page.get_by_role("button", name="Send my number").click()
    expect(page.get_by_text("Please tick the box")).to_be_visible()  # consent is asked for, never assumed
    page.get_by_label(re.compile("may call me on this number")).check()
    page.get_by_role("button", name="Send my number").click()
    expect(page.get_by_text(re.compile(rf"will call you on {re.escape(PHONE)}"))).to_be_visible()
    shot(page, "transcript-01-widget-number-left")
    yield Patient(window, page_sender(assistant.url, page))
    window.close()


def canned_reply_kept_by_an_admin(browser: Browser, assistant) -> None:
    window = open_window(browser)
    page = window.page
    page.goto(assistant.console_url + "/#/canned")
    log_in(page, ADMIN)
    expect(page.get_by_role("heading", name="Canned replies", exact=True)).to_be_visible()
    page.get_by_label("Title").fill(CANNED_TITLE)
    page.get_by_label("Shortcut (optional)").fill("/callback")
    page.get_by_label("Text", exact=True).fill(CANNED_TEXT)
    page.get_by_role("button", name="Add canned reply").click()
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    kept = page.locator(".canned-reply").filter(has_text=CANNED_TITLE)
    expect(kept).to_contain_text(CANNED_TEXT.replace("{clinic_name}", clinic.name))
    expect(kept).to_contain_text("/callback")
    assert not low_contrast(page)
    shot(page, "transcript-02-canned-replies")
    window.close()


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return bool(box and size and box["y"] >= 0 and box["y"] + box["height"] <= size["height"])


def nothing_hidden_under_the_reply_box(page: Page) -> bool:
    """The messages' pane ends above the reply box: the box never covers the latest messages."""
    pane = page.locator(".transcript .messages").bounding_box()
    box = page.locator(".reply-panel").bounding_box()
    return bool(pane and box and pane["y"] + pane["height"] <= box["y"] + 1)


def test_a_clinician_works_a_handoff_from_the_transcript(browser: Browser, assistant, staff, patient: Patient):
    canned_reply_kept_by_an_admin(browser, assistant)
    clinic = load_clinic(PROJECT_ROOT / "clinic.yml")
    ref = patient_reference(patient.sender_id)

    window = open_window(browser, width=1280, height=900)
    page = window.page
    page.goto(assistant.console_url + "/")
    log_in(page, CLINICIAN)
    page.get_by_role("link", name=f"Open conversation {ref}").click()
    expect(page.get_by_role("heading", name="Conversation", exact=True)).to_be_visible()

    # A screen to work in: the reply box in view without scrolling, the assistant's reasons folded,
    # who is replying, and that a call-back number was left, hidden until asked for.
    expect(page.get_by_label("Your reply")).to_be_visible()
    assert in_view(page, ".reply-panel"), "the reply box is not in view"
    assert nothing_hidden_under_the_reply_box(page)
    reasons = page.locator("details.meta-box").first
    expect(reasons).not_to_have_attribute("open", "")
    expect(reasons.locator(".meta")).to_be_hidden()
    expect(page.get_by_text("Nobody is replying yet.")).to_be_visible()
    contact = page.get_by_role("region", name="Call-back")
    expect(contact).to_contain_text("[phone]")
    expect(contact).not_to_contain_text(PHONE)
    expect(page.get_by_role("button", name="Show new messages")).to_have_count(0)
    assert not low_contrast(page)
    shot(page, "transcript-03-opened")

    # The patient writes again: it appears by itself.
    ask(patient.page, LATER)
    expect(page.locator(".msg-patient").last).to_contain_text(LATER, timeout=15_000)
    expect(page.locator(".msg-patient").last).to_be_in_viewport()  # the pane follows the newest message
    assert in_view(page, ".reply-panel") and nothing_hidden_under_the_reply_box(page)

    # Claiming from the transcript: everyone sees who is replying.
    page.get_by_role("button", name="I'll reply").click()
    expect(page.get_by_text(f"{CLINICIAN} (you) is replying")).to_be_visible()

    # A canned reply with the keystroke: the list opens, filters, and Enter inserts the filled-in text.
    box = page.get_by_label("Your reply")
    box.click()
    page.keyboard.press("Control+/")
    options = page.get_by_role("listbox", name="Canned replies")
    expect(options).to_be_visible()
    page.keyboard.type("call")
    expect(options.get_by_role("option")).to_have_count(1)
    expect(options.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    shot(page, "transcript-04-canned-list")
    page.keyboard.press("Enter")
    expect(options).to_be_hidden()
    filled = CANNED_TEXT.replace("{clinic_name}", clinic.name)
    expect(box).to_have_value(filled)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text(re.compile(r"Delivered via Web chat"))).to_be_visible()
    expect(page.locator(".msg-staff").last).to_contain_text(filled)

    # The number, for the clinician treating the patient: a tel: link (the view is audited).
    contact.get_by_role("button", name="Show the number").click()
    phone = contact.get_by_role("link", name=PHONE)
    expect(phone).to_have_attribute("href", "tel:+919876543210")
    expect(contact).to_contain_text(NAME)
    shot(page, "transcript-05-number-shown")

    # Handing back: asked first, with a last message to the patient.
    page.get_by_role("button", name="Hand back to the assistant").click()
    confirm = page.get_by_role("dialog", name="Hand back to the assistant?")
    expect(confirm.get_by_label("Message to the patient")).to_have_value(re.compile(HAND_BACK))
    shot(page, "transcript-06-hand-back-confirm")
    confirm.get_by_role("button", name="Hand back", exact=True).click()
    expect(page.get_by_text("Handed back to the assistant.")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)
    expect(page.locator(".msg-staff").last).to_contain_text(HAND_BACK, timeout=15_000)

    # The patient's widget: the canned reply, the hand-back message, no more "a clinician will reply".
    staff_messages = patient.page.locator(".msg.staff")
    expect(staff_messages.filter(has_text=filled)).to_have_count(1, timeout=15_000)
    expect(staff_messages.filter(has_text=HAND_BACK)).to_have_count(1, timeout=15_000)
    expect(patient.page.locator(".callback")).to_be_hidden()  # nobody to call back once handed back
    shot(patient.page, "transcript-07-widget-handed-back")
    window.close()

    # A reviewer reads the same transcript: the number stays "[phone]", with no way to reveal it.
    window = open_window(browser)
    page = window.page
    page.goto(f"{assistant.console_url}/#/conversation/{quote(patient.sender_id, safe='')}")
    log_in(page, REVIEWER)
    contact = page.get_by_role("region", name="Call-back")
    expect(contact).to_contain_text("[phone]")
    expect(contact).not_to_contain_text(PHONE)
    expect(contact.get_by_role("button", name="Show the number")).to_have_count(0)
    expect(page.get_by_label("Your reply")).to_have_count(0)
    shot(page, "transcript-08-reviewer")
    window.close()


def test_the_widget_contact_endpoint_keeps_its_rules(assistant):
    good = {"name": NAME, "phone": PHONE, "consent": True}
    chat = WebChat.start(assistant.url)
    chat.say("Do the needle pricks hurt a lot?")  # answered by the assistant: nobody to call back
    assert call(assistant.url, "POST", "contact", good).status_code == 401  # no session
    assert call(assistant.url, "POST", "contact", good, token=chat.token).status_code == 409
    refused = call(assistant.url, "POST", "contact", {**good, "consent": False}, token=chat.token)
    assert refused.status_code == 403 and "consent" in refused.json()["error"]
    for bad in ({**good, "phone": "call me"}, {**good, "email": "x@example.com"}, {**good, "name": ""}):
        answer = call(assistant.url, "POST", "contact", bad, token=chat.token)
        assert answer.status_code == 400, (bad, answer.text)
    assert call(assistant.url, "POST", "contact", content=b"{" * 5000, token=chat.token).status_code == 413
