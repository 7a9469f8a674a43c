"""The web chat widget in a real browser (Debian's Chromium, driven by Playwright) against the real
servers: what a patient notices, from the consent notice to an emergency reply, a reload, a live staff
reply, keyboard-only use, a 360 px phone, the typing indicator, a lost connection, an embedding on
another origin under hostile page CSS, and the thumbs up / down under curated answers. Screenshots go to
test-artifacts/widget/."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from bot.channels.feedback import read_feedback
from core.settings import PROJECT_ROOT
from knowledge.render import DISCLAIMER
from tests.e2e.conftest import staff_reply
from tests.e2e.webchat import page_sender, page_session, sender_of
from tests.loopback import LoopbackServer

pytestmark = pytest.mark.slow

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "widget"
TURN = 30_000  # ms: one message through the real dialogue, with room for a slow machine
LAUNCHER = "Questions? Chat with us"
HANDOFF_STATE = "A clinician will reply here."
EMERGENCY_TEL = "tel:112"  # from clinic.yml's example numbers: the leading number, digits and + only
PHONE_TEL = "tel:+910000000000"
CLOSE_THIS_PAGE = re.compile("close this page", re.IGNORECASE)

# What a patient might type (our own wording, not from the evaluation set)
GENERAL_QUESTION = "Do the needle pricks hurt a lot?"
VAGUE_MESSAGE = "face stuff"
PERSONAL_QUESTION = "I take warfarin every day for my heart, can I still get the face treatment?"
WARNING_SIGNS = "Since this morning's injections my tongue feels swollen and I'm struggling to breathe"

# Everything with text in the widget, for the contrast check.
TEXT_SELECTORS = [
    ".title",
    ".subtitle",
    ".msg.user p",
    ".msg.bot p",
    ".disclaimer",
    ".msg.staff p",
    ".who",
    ".urgent-head",
    ".kind-emergency p",
    ".handoff-banner",
    ".footer a",
    ".plain-btn",
    ".send",
    ".option",
    ".input",
]

# Text / background contrast of what the widget shows (WCAG 2.1 relative luminance).
CONTRAST_JS = """(selectors) => {
  const root = document.querySelector("meso-chat-widget").shadowRoot;
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentNode instanceof ShadowRoot ? n.parentNode.host : n.parentNode) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of root.querySelectorAll(sel)) {
      if (!el.getClientRects().length || el.disabled) continue;
      const fg = rgb(getComputedStyle(el).color).slice(0, 3), bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({ sel, text: (el.textContent || "").slice(0, 40), ratio: (a + 0.05) / (b + 0.05) });
    }
  }
  return out;
}"""


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def page(browser: Browser, assistant) -> Iterator[Page]:
    """A fresh browser profile (its own localStorage) per test; fails on any script error in the page."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TURN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def demo_url(assistant) -> str:
    return assistant.url + "/webhooks/webchat/demo"


def server_config(assistant) -> dict[str, Any]:
    with urllib.request.urlopen(assistant.url + "/webhooks/webchat/config", timeout=10) as resp:
        return json.loads(resp.read())


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# ---------------------------------------------------------------- what the patient sees and does


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name=LAUNCHER)


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog")


def message_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Your message")


def assistant_messages(page: Page) -> Locator:
    return page.locator(".msg.bot, .msg.staff")


def open_and_agree(page: Page) -> None:
    launcher(page).click()
    expect(dialog(page)).to_be_visible()
    page.get_by_role("button", name="I agree, start the chat").click()
    expect(message_box(page)).to_be_focused()


def wait_for_reply(page: Page, before: int) -> Locator:
    """Waits until nothing is left unsent and a new assistant message arrived; returns the last one."""
    expect(page.locator(".outgoing")).to_have_count(0, timeout=TURN)
    expect(page.get_by_text("The assistant is typing…")).to_be_hidden()
    messages = assistant_messages(page)
    expect(messages).not_to_have_count(before)
    return messages.nth(messages.count() - 1)  # pinned: `.last` would move on with the conversation


def ask(page: Page, text: str) -> Locator:
    before = assistant_messages(page).count()
    message_box(page).fill(text)
    message_box(page).press("Enter")
    return wait_for_reply(page, before)


def user_events(assistant, sender_id: str) -> list[dict[str, Any]]:
    return [e for e in assistant.tracker(sender_id)["events"] if e["event"] == "user"]


def low_contrast(page: Page, selectors: list[str]) -> list[dict[str, Any]]:
    checked = page.evaluate(CONTRAST_JS, selectors)
    assert checked, "nothing to check"
    return [c for c in checked if c["ratio"] < 4.5]


# ---------------------------------------------------------------- tests


def test_patient_conversation_from_consent_to_emergency(page: Page, assistant):
    config = server_config(assistant)
    urls: list[str] = []
    posts: list[Request] = []
    page.on("request", lambda r: urls.append(r.url))

    def remember_post(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/webchat/webhook"):
            posts.append(request)

    page.on("request", remember_post)

    # Before agreeing: a privacy notice, no message box, nothing sent or stored.
    page.goto(demo_url(assistant))
    expect(page).to_have_title(re.compile("Example Skin Clinic"))
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")
    launcher(page).click()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    expect(dialog(page)).to_be_visible()
    expect(dialog(page)).to_contain_text("Before we start")
    expect(dialog(page)).to_contain_text(config["clinic_name"])
    expect(dialog(page)).to_contain_text(config["emergency_number"])
    expect(page.get_by_role("link", name="Read our privacy notice")).to_have_attribute("href", config["privacy_url"])
    expect(message_box(page)).to_be_hidden()
    shot(page, "01-consent-notice")
    assert not [u for u in urls if re.search(r"/webchat/(webhook|history|session)", u)], urls
    assert page_session(page) is None

    # Agreeing alone sends nothing; the server issues the chat's session with the first message.
    page.get_by_role("button", name="I agree, start the chat").click()
    expect(message_box(page)).to_be_focused()
    assert page_session(page) is None
    assert not [u for u in urls if re.search(r"/webchat/(webhook|history|session)", u)], urls

    # A general question: an answer with the disclaimer.
    answer = ask(page, GENERAL_QUESTION)
    session = page_session(page)
    assert session
    sender_id = sender_of(assistant.url, session)
    expect(page.locator(".msg.user").last).to_have_text(f"You: {GENERAL_QUESTION}")
    expect(answer).to_contain_text(DISCLAIMER)
    expect(answer.locator(".disclaimer")).to_have_text(DISCLAIMER)
    shot(page, "02-answer-with-disclaimer")

    # Something vague: clarifying options as buttons; choosing one gives an answer.
    clarify = ask(page, VAGUE_MESSAGE)
    options = clarify.get_by_role("group", name="Choose an option").get_by_role("button")
    expect(options.first).to_be_visible()
    assert options.count() >= 2
    chosen = next(o for o in options.all() if "person" not in o.inner_text().lower())
    title = chosen.inner_text()
    shot(page, "03-clarifying-options")
    before = assistant_messages(page).count()
    chosen.click()
    topic_answer = wait_for_reply(page, before)
    expect(page.locator(".msg.user").last).to_have_text(f"You: {title}")  # the title, never the payload
    expect(topic_answer).to_contain_text(DISCLAIMER)
    expect(options.first).to_be_disabled()  # an answered question's options are spent

    # A personal medical question: handed to a clinician, and the page says so.
    handoff = ask(page, PERSONAL_QUESTION)
    expect(handoff).to_contain_text("clinician")
    banner = page.get_by_role("status").filter(has_text=HANDOFF_STATE)
    expect(banner).to_be_visible()
    shot(page, "04-handoff")

    # Reload: the conversation and the handoff state are still there, with no new consent notice.
    page.reload()
    expect(dialog(page)).to_be_visible()
    expect(page.get_by_role("log")).to_contain_text(GENERAL_QUESTION)
    expect(page.get_by_role("log")).to_contain_text(PERSONAL_QUESTION)
    expect(page.get_by_role("log")).to_contain_text(title)
    expect(page.get_by_role("status").filter(has_text=HANDOFF_STATE)).to_be_visible()
    expect(page.get_by_text("Before we start")).to_be_hidden()
    assert page_session(page) == session
    assert page.locator(".msg.user").count() == 4  # each message once
    shot(page, "05-after-reload")

    # A clinician answers from the staff side: the reply shows up by itself.
    staff_text = "Hello, this is Dr Widget from the clinic. Please pause before booking; I will call you today."
    assert staff_reply(assistant.url, sender_id, staff_text, author="dr.widget")[0] == 200
    staff = page.locator(".msg.staff")
    expect(staff).to_have_count(1, timeout=15_000)
    expect(staff).to_contain_text(staff_text)
    expect(staff).to_contain_text("Clinic team")
    shot(page, "06-staff-reply")

    # With the chat closed, a second staff reply shows as a count on the launcher.
    page.get_by_role("button", name="Close chat").click()
    expect(dialog(page)).to_be_hidden()
    status, _ = staff_reply(
        assistant.url, sender_id, "One more thing: please bring a list of your medicines.", author="dr.widget"
    )
    assert status == 200
    expect(page.get_by_role("button", name=f"{LAUNCHER} (1 new message)")).to_be_visible(timeout=15_000)
    shot(page, "06b-unread-badge")
    launcher(page).click()
    expect(staff).to_have_count(2)

    # Warning signs: an alert that cannot be missed, with the emergency number.
    ask(page, WARNING_SIGNS)
    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("Urgent")
    expect(alert).to_contain_text(config["emergency_number"])
    style = alert.evaluate(
        "(el) => { const s = getComputedStyle(el); return {width: parseFloat(s.borderTopWidth), color: s.borderTopColor}; }"
    )
    red, green, blue = (int(v) for v in style["color"][4:-1].split(",")[:3])
    assert style["width"] >= 3 and red > 150 and green < 60 and blue < 60, style
    # The banner no longer says the patient can close the page: it says to call now.
    banner = page.locator(".handoff-banner")
    expect(banner).to_contain_text(config["texts"]["emergency_title"])
    expect(dialog(page)).not_to_contain_text(CLOSE_THIS_PAGE)
    shot(page, "07-emergency")

    # Every message went out with the patient's consent and the session in its header, never in a URL
    # or the body; the internal reply metadata never arrived.
    assert posts and all((p.post_data_json or {}).get("consent") is True for p in posts)
    assert all(p.all_headers().get("authorization") == f"Bearer {session}" for p in posts)
    assert not [p for p in posts if session in (p.post_data or "")]
    assert not [u for u in urls if session in u or sender_id in u], urls
    assert len(user_events(assistant, sender_id)) == 5
    assert "passage_ids" not in dialog(page).inner_text()
    assert not low_contrast(page, TEXT_SELECTORS)


def test_emergency_says_call_now_with_tel_links(page: Page, assistant):
    """Warning signs in the web chat: the reply, the banner and every later reply say to call now, the
    emergency number and the clinic's phone are tel: links, and nothing says the page can be closed."""
    config = server_config(assistant)
    texts = config["texts"]  # the widget's fixed wording comes from the server (actions/safety/texts.yml)
    assert config["emergency_number"].startswith("112 ") and config["phone"].startswith("+91 00000 00000 ")
    page.goto(demo_url(assistant))
    launcher(page).click()

    # The consent notice's urgent note is the server's wording, the number a tel: link.
    note = page.locator(".consent .urgent-note")
    expect(note).to_have_text(texts["urgent_note"].replace("{emergency_number}", config["emergency_number"]))
    expect(note.get_by_role("link", name=config["emergency_number"])).to_have_attribute("href", EMERGENCY_TEL)
    expect(page.locator(".subtitle")).to_have_text(texts["subtitle"])
    page.get_by_role("button", name="I agree, start the chat").click()

    ask(page, WARNING_SIGNS)
    alert = page.get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert.get_by_role("link", name=config["emergency_number"])).to_have_attribute("href", EMERGENCY_TEL)
    expect(alert.get_by_role("link", name=config["phone"])).to_have_attribute("href", PHONE_TEL)
    expect(alert).not_to_contain_text("contact you")  # the clinic has no way to reach a web chat patient
    banner = page.get_by_role("status").filter(has_text=texts["emergency_title"])
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name=config["emergency_number"])).to_have_attribute("href", EMERGENCY_TEL)
    expect(dialog(page)).not_to_contain_text(CLOSE_THIS_PAGE)
    expect(dialog(page)).not_to_contain_text(HANDOFF_STATE)
    shot(page, "15-emergency-call-now")

    # The next message gets the call-now line again, never only "a person will reply".
    call_now = texts["emergency_body"].split("{emergency_number}")[0] + config["emergency_number"]
    hold = ask(page, "ok, what happens now?")
    expect(hold).to_contain_text(call_now)
    expect(hold.get_by_role("link", name=config["emergency_number"])).to_have_attribute("href", EMERGENCY_TEL)
    expect(hold).to_contain_text(DISCLAIMER)
    expect(dialog(page)).not_to_contain_text(CLOSE_THIS_PAGE)
    shot(page, "16-after-emergency")

    # After a reload the banner still says to call now.
    page.reload()
    expect(dialog(page)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=texts["emergency_title"])).to_be_visible()
    expect(page.get_by_role("alert").get_by_role("link", name=config["emergency_number"])).to_have_attribute(
        "href", EMERGENCY_TEL
    )
    expect(dialog(page)).not_to_contain_text(CLOSE_THIS_PAGE)
    assert not low_contrast(page, [".handoff-banner strong", ".handoff-banner span", ".kind-emergency p", ".msg.bot p"])


def test_keyboard_only(page: Page, assistant):
    page.goto(demo_url(assistant))

    def tab_to(target: Locator, backwards: bool = False, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Shift+Tab" if backwards else "Tab")
            if target.evaluate("(el) => el.getRootNode().activeElement === el"):
                outline = target.evaluate(
                    "(el) => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth"
                )
                assert not outline.startswith("none") and float(outline.split()[1][:-2]) >= 2, outline
                return
        raise AssertionError(f"{target} is not reachable with the keyboard")

    # The launcher is a real button; Enter opens the panel and moves focus into it.
    tab_to(launcher(page))
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_visible()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    assert dialog(page).evaluate("(el) => el.contains(el.getRootNode().activeElement)")
    # Escape closes and gives focus back to the launcher.
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog(page)).to_be_visible()

    # Logical order: privacy link, then the consent buttons; Enter agrees and puts focus in the message box.
    tab_to(page.get_by_role("link", name="Read our privacy notice"), limit=3)
    tab_to(page.get_by_role("button", name="I agree, start the chat"), limit=2)
    page.keyboard.press("Enter")
    expect(message_box(page)).to_be_focused()
    before = assistant_messages(page).count()
    page.keyboard.type(VAGUE_MESSAGE)
    page.keyboard.press("Enter")
    clarify = wait_for_reply(page, before)
    options = clarify.get_by_role("button")
    expect(options.first).to_be_visible()

    # From the message box, back to the first option; Enter chooses it and focus returns to the box.
    tab_to(options.first, backwards=True, limit=12)
    title = options.first.inner_text()
    before = assistant_messages(page).count()
    page.keyboard.press("Enter")
    expect(message_box(page)).to_be_focused()
    wait_for_reply(page, before)
    expect(page.locator(".msg.user").last).to_have_text(f"You: {title}")
    shot(page, "08-keyboard")

    # The close button is reachable too, and Escape from the message box closes the chat.
    tab_to(page.get_by_role("button", name="Close chat"), backwards=True, limit=30)
    tab_to(message_box(page), limit=30)
    page.keyboard.press("Escape")
    expect(dialog(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")


def test_no_thanks_keeps_the_chat_off(page: Page, assistant):
    config = server_config(assistant)
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(demo_url(assistant))
    launcher(page).click()
    page.get_by_role("button", name="No thanks").click()
    note = page.get_by_text("No problem: nothing has been sent.")
    expect(note).to_be_visible()
    expect(note).to_contain_text(config["phone"])  # another way to reach the clinic
    expect(message_box(page)).to_be_hidden()
    shot(page, "14-no-thanks")
    # Remembered after a reload; nothing was sent or stored.
    page.reload()
    if launcher(page).get_attribute("aria-expanded") == "false":
        launcher(page).click()
    expect(note).to_be_visible()
    expect(message_box(page)).to_be_hidden()
    assert page_session(page) is None
    assert not [u for u in urls if re.search(r"/webchat/(webhook|history|session)", u)], urls
    # The patient can change their mind.
    page.get_by_role("button", name="Show the privacy notice again").click()
    expect(page.get_by_role("button", name="I agree, start the chat")).to_be_visible()


def test_phone_360px_wide(browser: Browser, assistant):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    context.set_default_timeout(TURN)
    page = context.new_page()
    try:
        page.goto(demo_url(assistant))
        box = launcher(page).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 44
        launcher(page).tap()
        expect(dialog(page)).to_be_visible()
        panel = dialog(page).bounding_box()
        assert panel == {"x": 0, "y": 0, "width": 360, "height": 740}, panel  # full screen on a phone
        page.get_by_role("button", name="I agree, start the chat").tap()
        long_word = "mesotherapy" * 12  # one long unbroken word must wrap, not scroll sideways
        ask(page, f"{long_word} how long does the redness last afterwards?")
        overflow = dialog(page).evaluate(
            """(panel) => [panel, ...panel.querySelectorAll('*')]
                .filter((el) => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'hidden'
                                && el.clientWidth > 0)
                .map((el) => el.className || el.tagName)"""
        )
        assert overflow == [], overflow
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for button in dialog(page).get_by_role("button").all():
            if button.is_visible():
                b = button.bounding_box()
                assert b and b["width"] >= 44 and b["height"] >= 44, (button.inner_text(), b)
                assert b["x"] >= 0 and b["x"] + b["width"] <= 360
        shot(page, "09-phone-360px")
    finally:
        context.close()


def test_typing_indicator_and_lost_connection(page: Page, assistant):
    page.goto(demo_url(assistant))
    open_and_agree(page)

    # While the reply is on its way, a typing indicator shows.
    held: list[Route] = []
    page.route("**/webhooks/webchat/webhook", lambda route: held.append(route))
    message_box(page).fill(GENERAL_QUESTION)
    message_box(page).press("Enter")
    expect(page.get_by_text("The assistant is typing…")).to_be_visible()
    expect(page.locator(".outgoing")).to_contain_text("Sending…")
    shot(page, "10-typing")
    # the indicator shows as the widget sends; the held request reaches this process's handler a moment later
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/webhooks/webchat/webhook")
    expect(page.get_by_text("The assistant is typing…")).to_be_hidden()
    expect(assistant_messages(page).last).to_contain_text(DISCLAIMER)

    # The server becomes unreachable: the patient is told, and the message waits with a Retry button.
    with page.expect_response("**/webhooks/webchat/history?*"):  # right after a poll, so the message fails first
        pass
    page.route("**/webhooks/webchat/**", lambda route: route.abort("internetdisconnected"))
    lost_message = "How soon can I wear make-up again afterwards?"
    message_box(page).fill(lost_message)
    message_box(page).press("Enter")
    expect(page.get_by_text("Connection lost, reconnecting…")).to_be_visible()
    failed = page.locator(".outgoing.failed")
    expect(failed).to_contain_text(lost_message)
    retry = failed.get_by_role("button", name="Retry", exact=False)
    expect(retry).to_be_visible()
    shot(page, "11-connection-lost")

    # The connection comes back by itself (retries with backoff); Retry then sends the kept message.
    page.unroute("**/webhooks/webchat/**")
    expect(page.get_by_text("Reconnected")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Connection lost, reconnecting…")).to_be_hidden()
    before = assistant_messages(page).count()
    retry.click()
    wait_for_reply(page, before)
    expect(page.locator(".msg.user").filter(has_text=lost_message)).to_have_count(1)
    expect(assistant_messages(page).last).to_contain_text(DISCLAIMER)
    shot(page, "12-reconnected")


class _ClinicSite(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: Any) -> None:
        pass


HOSTILE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another clinic</title>
<style>
  html { font-size: 8px; }
  * { color: #ff00ff !important; font-family: "Comic Sans MS", cursive !important; letter-spacing: .3em; }
  button { background: lime !important; font-size: 40px !important; padding: 40px !important; border-radius: 0 !important; }
  p, h2, h3, section, textarea { display: none !important; }
  div { position: static !important; width: 10px !important; }
  meso-chat-widget { display: none; }
</style></head>
<body><h1>Riverside Aesthetics</h1><p>Our own page styles are very opinionated.</p>
<script src="{server}/webhooks/webchat/widget.js" data-server="{server}" data-clinic-name="Riverside Aesthetics (test)"
        data-privacy-url="https://riverside.example/privacy" data-primary-color="#f5c518" data-position="left"></script>
</body></html>"""


def test_embedded_on_another_site_with_hostile_css(page: Page, assistant):
    _ClinicSite.html = HOSTILE_PAGE.replace("{server}", assistant.url).encode()
    site = LoopbackServer(_ClinicSite)
    try:
        # localhost vs 127.0.0.1: a different origin from the assistant's, as on a clinic's own website
        page.goto(f"http://localhost:{site.port}/")
        box = launcher(page).bounding_box()
        assert box and box["x"] < 100  # data-position="left"
        # a light brand colour gets dark text, so the launcher stays readable
        colours = launcher(page).evaluate("(el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]")
        assert colours == ["rgb(245, 197, 24)", "rgb(17, 17, 17)"], colours
        launcher(page).click()
        expect(dialog(page)).to_be_visible()
        expect(page.get_by_role("heading", name="Riverside Aesthetics (test)")).to_be_visible()
        expect(page.get_by_role("link", name="Read our privacy notice")).to_have_attribute(
            "href", "https://riverside.example/privacy"
        )
        page.get_by_role("button", name="I agree, start the chat").click()
        # patient text is text, never markup
        sneaky = 'How many <b>sessions</b> will I need? <img src=x onerror="window.__pwned = 1">'
        answer = ask(page, sneaky)  # the reply itself shows the cross-origin requests work
        expect(page.locator(".msg.user").last).to_have_text(f"You: {sneaky}")
        expect(answer).to_contain_text("Assistant: ")
        assert (
            page.evaluate("document.querySelector('meso-chat-widget').shadowRoot.querySelectorAll('img, b').length")
            == 0
        )
        assert page.evaluate("window.__pwned") is None
        assert not low_contrast(page, [".launcher", ".title", ".msg.user p", ".msg.bot p", ".send", ".footer a"])
        send = page.get_by_role("button", name="Send").bounding_box()
        assert send and send["height"] < 80  # the page's `button { padding: 40px }` did not get in
        shot(page, "13-other-site-hostile-css")
    finally:
        site.close()


def thumbs(page: Page) -> Locator:
    return page.get_by_role("group", name="Was this answer helpful?")


def stored_feedback(assistant, sender_id: str) -> list[Any]:
    engine = sa.create_engine(f"sqlite:///{assistant.tracker_db}")
    try:
        return read_feedback(engine, sender_id=sender_id)
    finally:
        engine.dispose()


def test_thumbs_under_curated_answers_and_what_was_missing(page: Page, assistant):
    """A patient rates an answer (and only answers): a thumbs down asks what was missing, the note is
    sent, the patient changes their mind, and after a reload the choice is still shown."""
    feedback_posts: list[Request] = []
    page.on(
        "request",
        lambda r: feedback_posts.append(r) if r.method == "POST" and r.url.endswith("/webchat/feedback") else None,
    )
    page.goto(demo_url(assistant))
    open_and_agree(page)
    answer = ask(page, GENERAL_QUESTION)
    expect(answer).to_contain_text(DISCLAIMER)
    expect(thumbs(page)).to_have_count(1)
    up = thumbs(page).get_by_role("button", name="Yes, this answer helped")
    down = thumbs(page).get_by_role("button", name="No, this answer did not help")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(down).to_have_attribute("aria-pressed", "false")
    thumbs(page).scroll_into_view_if_needed()
    shot(page, "17-feedback-thumbs")

    # no thumbs under small talk or clarifying options
    ask(page, "Thank you!")
    ask(page, VAGUE_MESSAGE)
    expect(thumbs(page)).to_have_count(1)

    # keyboard: the thumbs down is a button; it opens the optional note, focus in its field
    down.focus()
    page.keyboard.press("Enter")
    expect(down).to_have_attribute("aria-pressed", "true")
    note = thumbs(page).get_by_role("textbox", name="What was missing? (optional)")
    expect(note).to_be_focused()
    page.keyboard.type("Nothing about numbing cream before the session")
    shot(page, "18-feedback-what-was-missing")
    page.keyboard.press("Enter")
    expect(thumbs(page).get_by_role("status")).to_have_text("Thanks, your note was sent.")
    expect(note).to_be_hidden()
    shot(page, "19-feedback-thanks")

    sender_id = page_sender(assistant.url, page)
    (row,) = stored_feedback(assistant, sender_id)
    answers = [
        e["data"]["custom"]["meta"]
        for e in assistant.tracker(sender_id)["events"]
        if e["event"] == "bot" and ((e.get("data") or {}).get("custom") or {}).get("meta", {}).get("kind") == "answer"
    ]
    assert (row.channel, row.value, row.comment) == (
        "webchat",
        "down",
        "Nothing about numbing cream before the session",
    )
    assert row.passage_ids == tuple(answers[0]["passage_ids"]) and row.passage_ids

    # changing their mind: the thumbs up replaces the rating and its note
    up.click()
    expect(up).to_have_attribute("aria-pressed", "true")
    expect(down).to_have_attribute("aria-pressed", "false")
    expect(thumbs(page).get_by_role("status")).to_have_text("Thanks for the feedback.")
    (row,) = stored_feedback(assistant, sender_id)
    assert (row.value, row.comment) == ("up", None)

    # after a reload the choice is still shown; the session went in the header, never in a URL or body
    page.reload()
    expect(dialog(page)).to_be_visible()
    expect(thumbs(page)).to_have_count(1)
    expect(thumbs(page).get_by_role("button", name="Yes, this answer helped")).to_have_attribute("aria-pressed", "true")
    session = page_session(page)
    assert feedback_posts and all(p.all_headers().get("authorization") == f"Bearer {session}" for p in feedback_posts)
    assert not [p for p in feedback_posts if session and session in (p.url + (p.post_data or ""))]
    assert not low_contrast(page, [".fb-question", ".thumb", ".fb-status"])
    # a rating is not a message: the conversation holds the patient's three messages only
    assert len(user_events(assistant, sender_id)) == 3

    # never under an emergency
    ask(page, WARNING_SIGNS)
    expect(page.get_by_role("alert")).to_have_count(1)
    expect(thumbs(page)).to_have_count(1)


def test_a_patient_deletes_their_conversation_from_the_widget(page: Page, assistant):
    """ "Delete my data" asks first; after "Yes, delete it" the console erases the conversation within
    seconds (console/patient_requests.py), and the widget, reopened, shows none of it."""
    page.goto(demo_url(assistant))
    open_and_agree(page)
    ask(page, GENERAL_QUESTION)
    sender_id = page_sender(assistant.url, page)
    asked = ask(page, "please delete my data")
    expect(asked).to_contain_text("cannot be undone")
    shot(page, "20-delete-my-data-asked")
    before = assistant_messages(page).count()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(wait_for_reply(page, before)).to_contain_text("will be deleted")
    shot(page, "21-delete-my-data-done")

    deadline = time.monotonic() + 90
    while assistant.event_count(sender_id) and time.monotonic() < deadline:
        time.sleep(1)
    assert assistant.event_count(sender_id) == 0, "the console did not erase the conversation"
    page.reload()
    expect(launcher(page)).to_be_visible()
    if not dialog(page).is_visible():  # the widget reopens as the patient left it
        launcher(page).click()
    expect(dialog(page)).to_be_visible()
    expect(page.get_by_text(GENERAL_QUESTION)).to_have_count(0)
    shot(page, "22-delete-my-data-reopened")
