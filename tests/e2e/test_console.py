"""The staff console in a real browser (Debian's Chromium, driven by Playwright) against the real
servers started by scripts/run.sh: a patient is handed over in the web widget, staff log in, filter
for handoffs, read the transcript, reply (the reply arrives in the widget) and hand the conversation
back (the assistant answers again). Screenshots go to test-artifacts/console/."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, expect

from core.settings import PROJECT_ROOT
from knowledge.render import DISCLAIMER
from tests.e2e.conftest import start_assistant
from tests.e2e.webchat import page_sender

pytestmark = pytest.mark.slow

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "console"
TURN = 30_000  # ms: one message through the real dialogue, with room for a slow machine
PASSWORD = "a staff passphrase for e2e"
CLINICIAN, REVIEWER = "dr.e2e", "rev.e2e"

# What a patient might type (our own wording, not from the evaluation set)
PERSONAL_QUESTION = "I take warfarin every day for my heart, can I still get the face treatment?"
HOSTILE = "<img src=x onerror=alert(1)> <b>is this bold?</b>"
GENERAL_QUESTION = "Do the needle pricks hurt a lot?"
STAFF_REPLY = "Hello, this is Dr E2E from the clinic. With warfarin we need to see you first; I will call you today."
HANDOFF_BANNER = "A clinician will reply here."

# Text / background contrast of everything with text on the page (WCAG 2.1 relative luminance).
CONTRAST_JS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!el.getClientRects().length || el.disabled || el.closest(".skip-link, option")) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({ el: el.tagName + "." + el.className, text: el.textContent.slice(0, 40), ratio: (a + 0.05) / (b + 0.05) });
  }
  return out;
}"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory):
    """A private assistant for this module (not the session's shared one), so the handoff queue holds
    only this module's patient."""
    yield from start_assistant(tmp_path_factory.mktemp("console-e2e"))


@pytest.fixture(scope="module")
def staff(assistant) -> None:
    """Staff accounts, made the way an admin makes the first ones: with the command line."""
    for username, role in ((CLINICIAN, "clinician"), (REVIEWER, "reviewer")):
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


@dataclass
class Window:
    """One browser profile (its own cookies) with the script errors and alert() calls it saw."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"script errors or dialogs in the page: {self.errors}"


def open_window(browser: Browser, width: int = 1280, height: int = 900) -> Window:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TURN)
    page = context.new_page()
    window = Window(context, page)
    page.on("pageerror", lambda exc: window.errors.append(str(exc)))

    def on_dialog(dialog: Dialog) -> None:
        window.errors.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return window


@dataclass
class Patient:
    window: Window
    sender_id: str

    @property
    def page(self) -> Page:
        return self.window.page


@pytest.fixture(scope="module")
def patient(browser: Browser, assistant) -> Iterator[Patient]:
    """A patient in the web widget whose personal medical question was handed to a clinician, and who
    then wrote something that looks like HTML."""
    window = open_window(browser)
    page = window.page
    page.goto(assistant.url + "/webhooks/webchat/demo")
    page.get_by_role("button", name="Questions? Chat with us").click()
    page.get_by_role("button", name="I agree, start the chat").click()
    expect(message_box(page)).to_be_focused()
    expect(ask(page, PERSONAL_QUESTION)).to_contain_text("clinician")
    expect(page.get_by_role("status").filter(has_text=HANDOFF_BANNER)).to_be_visible()
    ask(page, HOSTILE)  # while handed off the assistant only says a person will reply
    sender_id = page_sender(assistant.url, page)
    shot(page, "01-widget-handed-off")
    yield Patient(window, sender_id)
    window.close()


# ---------------------------------------------------------------- helpers


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def message_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Your message")


def ask(page: Page, text: str) -> Locator:
    """Sends a message in the widget; returns the assistant's reply once it arrived."""
    replies = page.locator(".msg.bot, .msg.staff")
    before = replies.count()
    message_box(page).fill(text)
    message_box(page).press("Enter")
    expect(page.locator(".outgoing")).to_have_count(0)
    expect(replies).not_to_have_count(before)
    return replies.nth(replies.count() - 1)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def low_contrast(page: Page) -> list[dict]:
    checked = page.evaluate(CONTRAST_JS)
    assert checked, "nothing to check"
    return [c for c in checked if c["ratio"] < 4.5]


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# ---------------------------------------------------------------- tests


def test_wrong_password_is_refused(browser: Browser, assistant, staff):
    window = open_window(browser)
    page = window.page
    page.goto(assistant.console_url + "/")
    expect(page.get_by_role("heading", name="Staff console")).to_be_visible()
    log_in(page, CLINICIAN, "not the right password")
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    shot(page, "02-wrong-password")
    window.close()


def test_reviewer_reviews_but_cannot_reply(browser: Browser, assistant, staff, patient: Patient):
    window = open_window(browser)
    page = window.page
    # A link straight to the transcript: the login comes first, then the transcript itself.
    page.goto(f"{assistant.console_url}/#/conversation/{quote(patient.sender_id, safe='')}")
    log_in(page, REVIEWER)
    expect(page.get_by_role("heading", name="Conversation", exact=True)).to_be_visible()
    expect(page.locator(".msg-patient").first).to_contain_text(PERSONAL_QUESTION)
    expect(page.get_by_text("rev.e2e · Reviewer")).to_be_visible()

    # Reviewers see the review tools, not the reply box, the hand-back button or the handoff queue.
    expect(page.get_by_role("button", name="Mark reviewed")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)
    expect(page.get_by_role("button", name="Hand back to the assistant")).to_have_count(0)
    expect(page.get_by_role("link", name="Handoff queue")).to_have_count(0)

    page.get_by_role("button", name="Mark reviewed").click()
    expect(page.get_by_role("button", name="Unmark reviewed")).to_be_visible()
    page.get_by_label("New tag").fill("anticoagulants")
    page.get_by_role("button", name="Add tag").click()
    expect(page.get_by_role("button", name="Remove tag anticoagulants")).to_be_visible()
    page.get_by_label("New note").fill("Asked about warfarin: check the clinician called back.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".notes")).to_contain_text("check the clinician called back")
    expect(page.locator(".conv-head")).to_contain_text("Reviewed")
    shot(page, "03-reviewer-transcript")

    # Logging out ends the session: the console asks for a login again, even after a reload.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    window.close()


def test_clinician_answers_a_handed_off_patient_and_hands_back(browser: Browser, assistant, staff, patient: Patient):
    window = open_window(browser)
    page = window.page
    page.goto(assistant.console_url + "/")
    log_in(page, CLINICIAN)

    # A clinician starts on the handoff queue: the patient is there, with how long they have waited.
    expect(page.get_by_role("heading", name="Handoff queue")).to_be_visible()
    waiting = page.locator(".queue-item")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".queue-preview")).to_have_text(f"Latest message: {HOSTILE}")  # as text, not HTML
    expect(waiting).to_contain_text(re.compile(r"Waiting (under 1 min|\d+ min)"))
    expect(page.get_by_text("1 patient waiting")).to_be_visible()
    assert not low_contrast(page)
    shot(page, "04-handoff-queue")

    # The conversation list, filtered for handoffs; the filter survives a reload (it is in the URL).
    page.get_by_role("link", name="Conversations").click()
    page.get_by_label("Outcome").select_option("handoff")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"#/conversations\?.*kind=handoff"))
    page.reload()
    expect(page.get_by_label("Outcome")).to_have_value("handoff")
    expect(page.get_by_text("1 conversation", exact=True)).to_be_visible()
    row = page.get_by_role("row").filter(has_text=PERSONAL_QUESTION)
    expect(row).to_contain_text("Waiting for a clinician")
    assert not low_contrast(page)
    shot(page, "05-filtered-for-handoffs")

    # The transcript: the handoff reply stands out, in words as well as colour; the metadata is shown;
    # the patient's HTML is shown as the text it is.
    row.get_by_role("link", name=PERSONAL_QUESTION).click()
    expect(page.get_by_role("heading", name="Conversation", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Waiting for a clinician")).to_be_visible()
    handoff = page.locator(".msg-bot.kind-handoff").first
    expect(handoff.locator(".msg-flag")).to_have_text("Handed to a clinician")
    expect(handoff).to_contain_text("Handed to a clinician")
    expect(handoff.locator(".meta")).to_contain_text("Disclaimer")
    background = "(el) => getComputedStyle(el).backgroundColor"
    assert handoff.evaluate(background) != page.locator(".msg-patient").first.evaluate(background)
    expect(page.locator(".side")).not_to_contain_text("null")  # nothing left over from the panels a clinician lacks

    # The passages behind a reply open with their text (the reasons are folded under each reply).
    passage = page.locator(".meta button.link").first
    passage.locator("xpath=ancestor::details[1]/summary").click()
    passage_id = passage.inner_text()
    passage.click()
    dialog = page.get_by_role("dialog", name=f"Passage {passage_id}")
    expect(dialog).to_contain_text("Reviewed by")
    assert len(dialog.locator(".passage-answer").inner_text()) > 40
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(passage).to_be_focused()

    hostile = page.locator(".msg-patient .msg-text").filter(has_text="<img src=x onerror=alert(1)>")
    expect(hostile).to_have_text(HOSTILE)
    assert page.locator(".messages img, .messages b").count() == 0
    assert not low_contrast(page)
    shot(page, "06-transcript-handoff")

    # Replying: the console says it was delivered; the patient sees it in the widget by itself.
    page.get_by_label("Your reply").fill(STAFF_REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text(re.compile(r"Delivered via Web chat"))).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_value("")
    expect(page.locator(".msg-staff").last).to_contain_text(STAFF_REPLY)
    expect(page.locator(".msg-staff").last).to_contain_text(f"Staff: {CLINICIAN}")
    shot(page, "07-reply-delivered")
    staff_message = patient.page.locator(".msg.staff")
    expect(staff_message).to_contain_text(STAFF_REPLY, timeout=15_000)
    shot(patient.page, "08-widget-staff-reply")

    # A tablet: everything still fits without scrolling sideways.
    page.set_viewport_size({"width": 820, "height": 1180})
    assert no_sideways_scroll(page)
    shot(page, "09-transcript-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Handing back (confirmed, without a last message): the queue empties, the widget's banner goes, and
    # the assistant answers again.
    page.get_by_role("button", name="Hand back to the assistant").click()
    confirm = page.get_by_role("dialog", name="Hand back to the assistant?")
    confirm.get_by_label("Message to the patient").fill("")
    confirm.get_by_role("button", name="Hand back", exact=True).click()
    expect(page.get_by_text("Handed back to the assistant.")).to_be_visible()
    expect(page.get_by_label("Your reply")).to_have_count(0)
    page.get_by_role("link", name="Handoff queue").click()
    expect(page.get_by_text("No one is waiting.")).to_be_visible()
    expect(page.get_by_text("0 patients waiting")).to_be_visible()
    shot(page, "10-queue-empty")
    expect(patient.page.get_by_role("status").filter(has_text=HANDOFF_BANNER)).to_be_hidden(timeout=15_000)
    answer = ask(patient.page, GENERAL_QUESTION)
    expect(answer).to_contain_text(DISCLAIMER)
    expect(answer).not_to_contain_text("a person will reply")
    expect(answer).not_to_contain_text("a person from the team")
    shot(patient.page, "11-widget-answered-again")
    window.close()
