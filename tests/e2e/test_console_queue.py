"""The handoff queue's alerts and claims in a real browser (Debian's Chromium, driven by Playwright)
against the real servers started by scripts/run.sh: two clinicians have the console open; a patient
is handed over through the REST channel and a desktop notification says "New handoff P-XXXXXX" (and
nothing the patient wrote), the navigation's badge counts them; one clinician claims the patient and
the other sees "<name> is replying"; filters and search narrow the list; an emergency's notification
repeats until a colleague acknowledges it. Desktop notifications are captured by wrapping
window.Notification in an init script (the browser context has the permission). Screenshots go to
test-artifacts/console/ (queue-*.png)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Locator, Page, expect

from core.patient_ref import patient_reference
from core.settings import PROJECT_ROOT
from tests.core.test_alert_email import Inbox, free_port
from tests.e2e.conftest import start_assistant
from tests.e2e.test_console import PASSWORD, PERSONAL_QUESTION, Window, log_in, low_contrast, open_window, shot

pytestmark = pytest.mark.slow

ASHA, BEN = "asha.e2e", "ben.e2e"
URGENT = "my lips and throat are swelling up after the injections and I can't breathe properly"
REPEAT_SECONDS = 10  # chosen on the queue screen (the console's default is 30)
POLL = 5  # seconds between two counts polls (alerts.js)

# Every desktop notification the page creates, and every tone it plays, recorded before any script runs.
CAPTURE = """(() => {
  const Real = window.Notification;
  window.__notes = [];
  class Recorded {
    constructor(title, options = {}) {
      window.__notes.push({ title: String(title), body: String(options.body || ""), at: Date.now() });
      this.title = title;
    }
    close() {}
    static get permission() { return Real ? Real.permission : "granted"; }
    static requestPermission() { return Real ? Real.requestPermission() : Promise.resolve("granted"); }
  }
  window.Notification = Recorded;
  window.__tones = 0;
  const Context = window.AudioContext;
  if (Context) {
    const make = Context.prototype.createOscillator;
    Context.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
  }
})();"""


CLINICIANS_MAIL = "clinicians@clinic.example"


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on this machine (aiosmtpd): where the clinicians' alert emails arrive."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, mail: tuple[Inbox, int]):
    """A private assistant for this module, so the queue holds only this module's patients; its staff
    alerts also go by email to the clinicians."""
    yield from start_assistant(
        tmp_path_factory.mktemp("console-queue-e2e"),
        MESO_SMTP_HOST="127.0.0.1",
        MESO_SMTP_PORT=str(mail[1]),
        MESO_SMTP_SECURITY="none",
        MESO_SMTP_FROM="assistant@clinic.example",
        MESO_ALERT_EMAIL_CLINICIAN=CLINICIANS_MAIL,
    )


@pytest.fixture(scope="module")
def clinicians(assistant) -> None:
    for username in (ASHA, BEN):
        done = subprocess.run(
            [sys.executable, "-m", "console", "create-user", username, "--role", "clinician", "--password-stdin"],
            input=PASSWORD + "\n",
            env=assistant.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture()
def windows(browser: Browser, assistant, clinicians) -> Iterator[tuple[Window, Window]]:
    """Asha's and Ben's consoles, logged in on the queue, with notifications allowed and recorded."""
    opened = []
    for username in (ASHA, BEN):
        window = open_window(browser)
        window.context.grant_permissions(["notifications"], origin=assistant.console_url)
        window.context.add_init_script(CAPTURE)
        window.page.goto(assistant.console_url + "/")
        log_in(window.page, username)
        expect(window.page.get_by_role("heading", name="Handoff queue")).to_be_visible()
        opened.append(window)
    yield opened[0], opened[1]
    for window in opened:
        window.close()


def notes(page: Page) -> list[str]:
    return page.evaluate("window.__notes.map((n) => n.title)")


def wait_for_note(page: Page, title: str, times: int = 1, timeout: float = 30) -> None:
    page.wait_for_function(
        "([title, times]) => window.__notes.filter((n) => n.title === title).length >= times",
        arg=[title, times],
        timeout=timeout * 1000,
    )


def card(page: Page, ref: str) -> Locator:
    return page.locator(".queue-item").filter(has=page.locator(".queue-patient", has_text=ref))


def hand_over(assistant, text: str) -> tuple[str, str]:
    """A REST patient whose message the assistant hands to staff; (sender id, patient reference)."""
    sender = f"e2e-queue-{uuid.uuid4().hex[:10]}"
    status, _ = assistant.post(sender, text)
    assert status == 200
    return sender, patient_reference(sender)


def test_alerts_claims_filters_and_an_emergency_that_repeats_until_acknowledged(assistant, windows, mail):
    asha, ben = windows
    page = asha.page
    expect(page.get_by_text("No one is waiting.")).to_be_visible()
    queue_link = page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Handoff queue"))
    expect(queue_link).to_have_attribute("aria-current", "page")
    expect(queue_link.locator(".nav-badge").first).to_have_text("0")
    expect(page.get_by_text("Desktop notifications are on.")).to_be_visible()
    page.get_by_label("Repeat an unacknowledged emergency").select_option(str(REPEAT_SECONDS))

    # A patient is handed over: a notification with the reference only, a beep, the badge, the card.
    sender, ref = hand_over(assistant, PERSONAL_QUESTION)
    assert assistant.post(sender, "hello?")[0] == 200  # while waiting: the card still shows the question
    wait_for_note(page, f"New handoff {ref}")
    expect(queue_link.locator(".nav-badge").first).to_have_text("1")
    # ... and an email reaches the clinicians at the local SMTP server, with the reference, not the words
    (sent,) = mail[0].wait_for(1, timeout=30)
    assert sent.recipients == [CLINICIANS_MAIL] and ref in sent.message["Subject"]
    assert PERSONAL_QUESTION not in sent.raw.decode("utf-8", "replace") and sender not in sent.body
    waiting = card(page, ref)
    expect(waiting.locator(".queue-trigger")).to_have_text(f"Handed off for: {PERSONAL_QUESTION}")
    expect(waiting.locator(".queue-preview")).to_have_text("Latest message: hello?")
    expect(waiting).to_contain_text(re.compile(r"Waiting (under 1 min|\d+ min)"))
    expect(waiting).to_contain_text("REST API")
    expect(waiting).to_contain_text("Nobody is replying yet.")
    assert page.evaluate("window.__tones") > 0, "no beep for the new handoff"
    wait_for_note(ben.page, f"New handoff {ref}")
    assert not low_contrast(page)
    shot(page, "queue-01-new-handoff")

    # Asha claims the patient; Ben sees who is replying, and cannot claim it too.
    waiting.get_by_role("button", name=f"I'll reply to {ref}").click()
    expect(waiting).to_contain_text(f"{ASHA} (you) is replying")
    ben_card = card(ben.page, ref)
    expect(ben_card).to_contain_text(f"{ASHA} is replying", timeout=(POLL + 5) * 1000)
    expect(ben_card.get_by_role("button", name=f"I'll reply to {ref}")).to_have_count(0)
    shot(ben.page, "queue-02-colleague-is-replying")

    # An emergency: first in the list, its own notification and badge.
    _, urgent_ref = hand_over(assistant, URGENT)
    wait_for_note(page, f"EMERGENCY {urgent_ref}")
    emergency = card(page, urgent_ref)
    expect(page.locator(".queue-item").first).to_contain_text(urgent_ref)
    expect(emergency.locator(".queue-trigger")).to_have_text(f"Emergency message: {URGENT}")
    expect(queue_link.locator(".nav-badge-emergency")).to_have_text("1 emergency")
    shot(page, "queue-03-emergency")

    # Filters and search narrow the list (and stay in the URL).
    expect(page.locator(".queue-item")).to_have_count(2)
    page.get_by_role("link", name="Emergencies", exact=True).click()
    expect(page).to_have_url(re.compile(r"#/handoffs\?filter=emergency"))
    expect(page.locator(".queue-item")).to_have_count(1)
    expect(page.locator(".queue-item")).to_contain_text(urgent_ref)
    page.get_by_role("link", name="Mine", exact=True).click()
    expect(page.locator(".queue-item")).to_have_count(1)
    expect(page.locator(".queue-item")).to_contain_text(ref)
    page.get_by_role("link", name="All", exact=True).click()
    page.get_by_label("Search", exact=True).fill("warfarin")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"q=warfarin"))
    expect(page.locator(".queue-item")).to_have_count(1)
    expect(page.get_by_text("1 patient waiting matches these filters")).to_be_visible()
    shot(page, "queue-04-searched")
    page.get_by_label("Search", exact=True).fill(urgent_ref)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator(".queue-item")).to_have_count(1)
    expect(page.locator(".queue-item")).to_contain_text(urgent_ref)
    page.get_by_role("link", name="Clear").click()
    expect(page.locator(".queue-item")).to_have_count(2)

    # Nobody acknowledges: the emergency's alert comes again, every REPEAT_SECONDS.
    wait_for_note(page, f"EMERGENCY {urgent_ref}", times=2, timeout=REPEAT_SECONDS + 3 * POLL)
    times = page.evaluate(
        "(title) => window.__notes.filter((n) => n.title === title).map((n) => n.at)", f"EMERGENCY {urgent_ref}"
    )
    assert times[1] - times[0] >= (REPEAT_SECONDS - 1) * 1000, times
    shot(page, "queue-05-emergency-repeated")

    # Ben acknowledges it: the alerts stop in Asha's console too, and everyone sees who did.
    ben.page.get_by_role("button", name=f"Acknowledge emergency {urgent_ref}").click()
    expect(card(ben.page, urgent_ref)).to_contain_text(f"Acknowledged by {BEN}")
    expect(emergency).to_contain_text(f"Acknowledged by {BEN}", timeout=(POLL + 5) * 1000)
    expect(queue_link.locator(".nav-badge-emergency")).to_have_count(0)
    heard = notes(page).count(f"EMERGENCY {urgent_ref}")
    time.sleep(2 * REPEAT_SECONDS + POLL)
    assert notes(page).count(f"EMERGENCY {urgent_ref}") == heard, notes(page)
    shot(page, "queue-06-acknowledged")

    # The notifications named the patients by reference only, never with their words.
    for window in (asha, ben):
        recorded = window.page.evaluate("window.__notes")
        assert recorded
        for note in recorded:
            assert re.fullmatch(r"(New handoff|EMERGENCY) P-[0-9A-Z]{6}", note["title"]), note
            assert note["body"] == "", note

    # A transcript opened from the queue keeps the queue highlighted in the navigation.
    emergency.get_by_role("link", name=f"Open conversation {urgent_ref}").click()
    expect(page.get_by_role("heading", name="Conversation", exact=True)).to_be_visible()
    expect(queue_link).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("link", name="Conversations", exact=True)).not_to_have_attribute("aria-current", "page")
