"""The dashboard in a real browser (Debian's Chromium through Playwright) against the real servers of
scripts/run.sh: a web widget patient gets a curated answer and rates it thumbs down with a note through
the widget's API (`POST /webhooks/webchat/feedback`); staff open the dashboard, see that thumbs down in
the feedback per passage and the knowledge gaps of the day, follow the link to the knowledge gaps,
where the question is listed with its passages and the note, and download the figures as CSV. The
screen also holds with no data, with odd data, with a period it cannot show, and on a tablet.

It runs on the session's shared assistant (conftest.py), so other modules' patients may be counted
too: every figure is checked against the channels' database before and after this patient's rating.
Screenshots go to test-artifacts/console/ (dashboard-*.png)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from bot.channels.feedback import PassageCount, passage_counts
from tests.e2e.test_console import (  # noqa: F401 - `staff` is a fixture, used by name
    ARTIFACTS,
    CLINICIAN,
    REVIEWER,
    log_in,
    low_contrast,
    no_sideways_scroll,
    open_window,
    shot,
    staff,
)
from tests.e2e.test_feedback import QUESTION, rateable, stored
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

NOTE = "It did not say how long the stinging lasts afterwards"
ODD_ANSWER = {
    "first_day": 5,
    "last_day": "2026-13-99",
    "timezone": {"zone": "x"},
    "conversations": {"total": -3, "answered_share": "NaN"},
    "replies": None,
    "emergencies": "many",
    "gaps": [],
    "days": [
        None,
        1,
        "x",
        {"day": "2026-03-02", "conversations": {"answered": 1e308, "handoff": -1}, "replies": {"p50_seconds": "soon"}},
        {"day": "2026-03-01", "gaps": None, "emergencies": 2},
        {"day": "<img src=x onerror=alert(1)>"},
    ],
    "topics": [{"topic": "<b>bold</b>", "answers": "2"}, None, {"title": 7}],
    "passages": [{"passage_id": "pain-01", "up": None, "down": 2.5}, 7, {"passage_id": ["x"]}],
}


FITS = """() => [...document.querySelectorAll(".chart")].every((box) => {
  const plot = box.querySelector(".uplot");
  return plot && Math.abs(plot.offsetWidth - Math.max(280, box.clientWidth)) < 2;
})"""
"""Every chart as wide as its box (they follow the window's width)."""


@dataclass(frozen=True)
class Rated:
    sender_id: str
    passage_ids: tuple[str, ...]
    before: dict[str, PassageCount]
    after: dict[str, PassageCount]


def counts(assistant) -> dict[str, PassageCount]:
    """Each passage's ratings, read from the channels' database (here the tracker's) as the console does."""
    engine = sa.create_engine(f"sqlite:///{assistant.tracker_db}")
    try:
        return {c.passage_id: c for c in passage_counts(engine)}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def rated(assistant) -> Rated:
    """A widget patient asks, gets a curated answer, and rates it thumbs down with a note."""
    before = counts(assistant)
    patient = WebChat.start(assistant.url)
    turn = patient.say(QUESTION)
    (answer,) = rateable(turn["messages"])
    body = {"message_id": answer["id"], "value": "down", "comment": NOTE}
    response = call(assistant.url, "POST", "feedback", body, patient.token)
    assert response.status_code == 200, response.text
    (row,) = stored(assistant, patient.sender_id)
    assert row.value == "down" and row.passage_ids
    return Rated(patient.sender_id, row.passage_ids, before, counts(assistant))


def open_dashboard(page: Page, console_url: str, username: str, query: str = "") -> None:
    page.goto(f"{console_url}/#/dashboard{query}")
    log_in(page, username)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def section(page: Page, title: str):
    return page.get_by_role("region", name=title)


@pytest.mark.usefixtures("staff")
def test_a_thumbs_down_shows_on_the_dashboard_and_in_the_gaps(browser: Browser, assistant, rated: Rated):
    window = open_window(browser)
    page = window.page
    open_dashboard(page, assistant.console_url, REVIEWER)
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Days in the clinic's time zone (Asia/Kolkata).", exact=False)).to_be_visible()

    # Feedback per passage: each passage of the rated answer, with the thumbs down the database holds
    feedback = section(page, "Feedback per passage")
    for passage_id in rated.passage_ids:
        down = rated.after[passage_id].down
        assert down == (rated.before[passage_id].down if passage_id in rated.before else 0) + 1
        row = feedback.get_by_role("row").filter(has=page.locator("code", has_text=passage_id))
        expect(row.get_by_role("cell").nth(2)).to_have_text(str(down))  # title, up, down, note
        expect(row.get_by_role("cell").nth(3)).not_to_have_text("0")  # with a note
    figures = page.get_by_label("The period in figures")
    expect(figures.locator(".dash-figure").filter(has_text="Knowledge gaps")).to_contain_text("thumbs down")
    expect(figures.locator(".dash-figure").first).to_contain_text("Conversations")
    expect(figures.locator(".dash-figure").first).not_to_have_text("Conversations0")
    # the charts are drawn (uPlot, vendored), and the page text never holds the patient's words
    expect(page.locator(".chart canvas").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(NOTE)
    expect(page.locator("main")).not_to_contain_text(QUESTION)
    assert not low_contrast(page)
    shot(page, "dashboard-01-overview")
    feedback.screenshot(path=str(ARTIFACTS / "dashboard-02-feedback-per-passage.png"))

    # the gaps of the day for that thumbs down, today's row of the table
    gaps = section(page, "Knowledge gaps over time")
    gaps.get_by_text("Figures per day").click()
    last = gaps.get_by_role("row").last
    expect(last.get_by_role("cell").last).not_to_have_text("0")  # thumbs down today

    # The CSV: the same figures, a download the browser saves
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[0] == ["figure", "day", "item", "value"]
    for passage_id in rated.passage_ids:
        assert ["passage_thumbs_down", "", passage_id, str(rated.after[passage_id].down)] in rows
    assert NOTE not in json.dumps(rows)

    # The knowledge gaps list the question with its passages and the note
    gaps.get_by_role("link", name="Open the knowledge gaps of these days").click()
    expect(page.get_by_role("heading", name="Knowledge gaps")).to_be_visible()
    card = page.locator(".card.gap").filter(has_text=QUESTION).filter(has_text="Rated thumbs down")
    expect(card.first).to_be_visible()
    for passage_id in rated.passage_ids:
        expect(card.first.locator(".gap-passages")).to_contain_text(passage_id)
    card.first.get_by_text("Examples").click()
    expect(card.first.get_by_text(f"What was missing: {NOTE}")).to_be_visible()
    assert not low_contrast(page)
    shot(page, "dashboard-03-gaps-thumbs-down")
    window.close()


@pytest.mark.usefixtures("staff", "rated")
def test_the_dashboard_holds_with_no_data_odd_data_bad_periods_and_on_a_tablet(browser: Browser, assistant):
    window = open_window(browser)
    page = window.page
    open_dashboard(page, assistant.console_url, CLINICIAN, "?from=2001-01-01&to=2001-01-31")
    # a clinician sees it too; a period with nothing: zeros and a plain sentence
    expect(page.get_by_text("No conversations in this period.")).to_be_visible()
    expect(page.get_by_label("From")).to_have_value("2001-01-01")
    expect(page.get_by_label("The period in figures")).to_contain_text("Conversations0")
    shot(page, "dashboard-04-no-data")

    # a period the dashboard cannot show: the server's reason, in words
    page.get_by_label("From").fill("2026-03-05")
    page.get_by_label("To").fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("the last day is before the first day")
    shot(page, "dashboard-05-reversed-period")

    # odd data from the server never breaks the screen, and text stays text
    page.route(
        "**/api/dashboard?*",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(ODD_ANSWER)),
    )
    page.evaluate("location.hash = '#/dashboard?from=2026-03-01&to=2026-03-02'")
    expect(section(page, "Top topics")).to_contain_text("<b>bold</b>")
    expect(section(page, "Feedback per passage")).to_contain_text("pain-01")
    assert page.locator("main b, main img").count() == 0
    shot(page, "dashboard-06-odd-data")
    page.unroute("**/api/dashboard?*")

    # a tablet: everything fits without scrolling sideways, the charts follow the width
    page.get_by_role("link", name="Last 30 days").click()
    expect(page.locator(".chart canvas").first).to_be_visible()
    page.set_viewport_size({"width": 820, "height": 1180})
    page.wait_for_function(FITS)
    assert no_sideways_scroll(page)
    shot(page, "dashboard-07-tablet")
    window.close()
