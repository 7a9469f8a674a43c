"""The dashboard (console/dashboard.py, GET /api/dashboard and /api/dashboard.csv): the figures a clinic
reads about its days, from conversations, handoffs, staff replies and patients' thumbs written the way
Rasa and the channels write them; days in the clinic's time zone (also across a daylight-saving change),
p50/p90 of the time to the first staff reply, every role, 422 for periods it cannot show, a CSV safe to
open in a spreadsheet, odd records that never break it, and 20,000 conversations well under a second.
Thumbs down also show in the knowledge gaps, with their passages. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.channels.feedback import Answer, FeedbackStore, Rating, feedback
from console.dashboard import Period, PeriodError, percentile
from console.db import session_factory
from console.knowledge_gaps import find_gaps
from core.settings import PROJECT_ROOT
from tests.console.conftest import Tracker
from tests.console.test_bad_records import bad_records, raw  # noqa: F401 - a fixture, used by name

IST = ZoneInfo("Asia/Kolkata")  # clinic.yml
D1, D2, D3 = date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)


def at(day: date, hour: int, minute: int = 0, second: int = 0, tz: ZoneInfo = IST) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz).timestamp()


def turn(
    tracker: Tracker,
    sender: str,
    when: float,
    text: str,
    kind: str = "answer",
    message_id: str | None = None,
    **meta,
) -> None:
    """A patient message and the assistant's turn, as Tracker.turn writes it, starting at `when`: the
    user event at `when`, the reply at +1 s, its metadata at +2 s, a handoff slot at +3 s."""
    extra = {"message_id": message_id} if message_id else {}
    tracker.add(
        sender,
        "user",
        at=when,
        text=text,
        input_channel="webchat",
        parse_data={"intent": {"name": "ask_question", "confidence": 0.5}},
        **extra,
    )
    tracker.add(sender, "bot", text="A reply.", data={"buttons": None})
    full = {"kind": kind, "topics": [], "passage_ids": [], "confidence": 0.9, "disclaimer": True, "handoff": False}
    full.update(meta)
    tracker.add(sender, "bot", text=None, data={"custom": {"meta": full}})
    if full["handoff"]:
        tracker.add(sender, "slot", name="handoff", value=True)


def staff_reply(tracker: Tracker, sender: str, when: float) -> None:
    tracker.add(sender, "bot", at=when, text="Hello, Dr Rao here.", metadata={"staff_reply": True, "author": "dr.rao"})


def rate(url: str, sender: str, answer_id: str, passages: tuple[str, ...], value: str, when: float, note=None) -> None:
    store = FeedbackStore(url)
    store.save(Rating(sender, "webchat", Answer(answer_id, passages, None), value, note), now=when)  # type: ignore[arg-type]
    store.engine.dispose()


@pytest.fixture()
def working_days(console, tracker) -> Tracker:
    """Two days at the clinic (Asia/Kolkata), and the first moment of a third."""
    t = tracker
    # D1: one of each outcome; two handoffs answered after 240 s and 60 s; one emergency told twice
    turn(
        t,
        "web-answer01",
        at(D1, 10),
        "does it sting for long?",
        topics=["pain"],
        passage_ids=["pain-01"],
        message_id="m-pain",
    )
    turn(t, "web-clarify01", at(D1, 11), "what about the thing for my face", kind="clarify", confidence=0.3)
    turn(t, "tg-handoff01", at(D1, 12), "I take warfarin", kind="handoff", handoff=True)
    staff_reply(t, "tg-handoff01", at(D1, 12, 0, 3) + 240)
    turn(t, "wa-emerg01", at(D1, 13), "my throat is swelling", kind="emergency", handoff=True)
    staff_reply(t, "wa-emerg01", at(D1, 13, 0, 3) + 60)
    turn(t, "wa-emerg01", at(D1, 13, 5), "I can't breathe", kind="emergency", handoff=True)
    turn(t, "web-hello01", at(D1, 14), "hi", kind="smalltalk")
    # D2: eleven handoffs, ten answered after 1..10 minutes; a staff take-over (not a handoff)
    for n in range(11):
        turn(t, f"rest-h{n:02d}", at(D2, 9, n * 2), "can a person call me", kind="handoff", handoff=True)
        if n < 10:
            staff_reply(t, f"rest-h{n:02d}", at(D2, 9, n * 2, 3) + 60 * (n + 1))
    turn(t, "rest-take01", at(D2, 15), "how much is it", topics=["cost"], passage_ids=["cost-01"], message_id="m-cost")
    t.add("rest-take01", "slot", at=at(D2, 15, 10), name="handoff", value=True)
    t.add("rest-take01", "slot", name="handoff_reason", value="staff_took_over")
    staff_reply(t, "rest-take01", at(D2, 15, 10, 30))
    turn(t, "web-oos01", at(D2, 16), "who won the match", kind="out_of_scope", confidence=0.2)
    # 00:30 in Kolkata is still the day before in UTC: it counts on D2
    turn(t, "web-low01", at(D2, 0, 30), "does it hurt much", topics=["pain"], passage_ids=["pain-01"], confidence=0.4)
    turn(t, "web-late01", at(D2, 23, 59, 59), "thanks", kind="smalltalk")
    # D3 starts at midnight in Kolkata
    turn(t, "web-next01", at(D3, 0), "hello", kind="smalltalk")

    url = console.settings.tracker_db_url  # the channels' database is the tracker's here, as by default
    rate(
        url,
        "web-answer01",
        "m-pain",
        ("pain-01",),
        "down",
        at(D1, 10, 5),
        "it says nothing on stinging, call +44 7700 900123",
    )
    rate(url, "web-low01", "m-low", ("pain-01", "pain-02"), "up", at(D2, 1))
    rate(url, "rest-take01", "m-cost", ("cost-01",), "down", at(D2, 15, 1))
    console.login("rita")
    return t


def dashboard(console, **params) -> dict:
    response = console.client.get("/api/dashboard", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_day(found: dict) -> dict[str, dict]:
    return {d["day"]: d for d in found["days"]}


def test_a_clinic_reads_its_days(console, working_days):
    found = dashboard(console, **{"from": D1.isoformat(), "to": D2.isoformat()})
    assert (found["first_day"], found["last_day"], found["timezone"]) == ("2026-03-02", "2026-03-03", "Asia/Kolkata")
    days = by_day(found)
    assert list(days) == ["2026-03-02", "2026-03-03"]

    first, second = days["2026-03-02"], days["2026-03-03"]
    assert first["conversations"] == {
        "answered": 1,
        "clarify": 1,
        "handoff": 1,
        "emergency": 1,
        "out_of_scope": 0,
        "other": 1,
        "total": 5,
        "answered_share": 0.25,  # 1 of the 4 that asked something
    }
    assert first["replies"] == {"handoffs": 2, "replied": 2, "p50_seconds": 60.0, "p90_seconds": 240.0}
    assert first["emergencies"] == 1  # told twice, one patient
    assert first["gaps"] == {"clarify": 1, "out_of_scope": 0, "low_confidence": 0, "thumbs_down": 1, "total": 2}

    # the 00:30 question counts on D2 (the clinic's day), the 23:59:59 one too, midnight of D3 does not
    assert second["conversations"]["answered"] == 2 and second["conversations"]["other"] == 1
    assert second["conversations"]["handoff"] == 11 and second["conversations"]["total"] == 15
    # ten waits of 1..10 minutes: the median is the 5th, p90 the 9th (nearest rank); the take-over is no handoff
    assert second["replies"] == {"handoffs": 11, "replied": 10, "p50_seconds": 300.0, "p90_seconds": 540.0}
    assert second["emergencies"] == 0
    assert second["gaps"] == {"clarify": 0, "out_of_scope": 1, "low_confidence": 1, "thumbs_down": 1, "total": 3}

    assert found["conversations"]["total"] == 20
    assert found["conversations"]["answered_share"] == pytest.approx(3 / 18)
    # twelve waits: 60, 60, 120, 180, 240, 240, 300 ... 600 -> 6th and 11th
    assert found["replies"] == {"handoffs": 13, "replied": 12, "p50_seconds": 240.0, "p90_seconds": 540.0}
    assert found["emergencies"] == 1
    assert found["gaps"]["total"] == 5
    assert found["topics"] == [
        {"topic": "pain", "title": "Does it hurt", "answers": 2, "conversations": 2},
        {"topic": "cost", "title": "Cost", "answers": 1, "conversations": 1},
    ]
    # most thumbs down first; an answer built from two passages counts for both
    assert [(p["passage_id"], p["up"], p["down"], p["comments"]) for p in found["passages"]] == [
        ("pain-01", 1, 1, 1),
        ("cost-01", 0, 1, 0),
        ("pain-02", 1, 0, 0),
    ]
    assert found["passages"][0]["title"]
    # figures only: no patient's words and no sender ids anywhere in the answer
    body = json.dumps(found)
    assert "sting" not in body and "7700" not in body and "web-answer01" not in body

    third = dashboard(console, **{"from": D3.isoformat(), "to": D3.isoformat()})
    assert third["conversations"]["total"] == 1 and third["conversations"]["other"] == 1
    assert third["topics"] == [] and third["passages"] == []


def test_a_period_without_anything_shows_zeros(console):
    console.login("cleo")
    found = dashboard(console, **{"from": "2001-01-01", "to": "2001-01-03"})
    assert [d["day"] for d in found["days"]] == ["2001-01-01", "2001-01-02", "2001-01-03"]
    assert found["conversations"]["total"] == 0 and found["conversations"]["answered_share"] is None
    assert found["replies"] == {"handoffs": 0, "replied": 0, "p50_seconds": None, "p90_seconds": None}
    assert found["topics"] == [] and found["passages"] == [] and found["gaps"]["total"] == 0


def test_days_follow_the_clinics_zone_across_daylight_saving(console, tracker, tmp_path):
    """London changes to summer time at 01:00 UTC on 29 March 2026: 23:30 UTC is the same day before
    it and already the next day after it."""
    clinic = (PROJECT_ROOT / "clinic.yml").read_text(encoding="utf-8")
    london = tmp_path / "clinic.yml"
    london.write_text(clinic.replace('timezone: "Asia/Kolkata"', 'timezone: "Europe/London"'), encoding="utf-8")
    console.settings.clinic_file = london
    utc = ZoneInfo("UTC")
    turn(tracker, "web-before", at(date(2026, 3, 28), 23, 30, tz=utc), "does it hurt?")
    turn(tracker, "web-after", at(date(2026, 3, 29), 23, 30, tz=utc), "does it hurt?")
    console.login("ada")
    found = dashboard(console, **{"from": "2026-03-27", "to": "2026-03-31"})
    assert found["timezone"] == "Europe/London"
    counts = {d["day"]: d["conversations"]["total"] for d in found["days"]}
    assert counts == {"2026-03-27": 0, "2026-03-28": 1, "2026-03-29": 0, "2026-03-30": 1, "2026-03-31": 0}


def test_the_default_period_is_the_last_thirty_days_in_the_clinics_zone(console):
    console.login("rita")
    found = dashboard(console)
    today = datetime.now(IST).date()
    assert found["last_day"] == today.isoformat()
    assert found["first_day"] == (today - timedelta(days=29)).isoformat() and len(found["days"]) == 30
    only_to = dashboard(console, to="2026-03-31")
    assert (only_to["first_day"], only_to["last_day"]) == ("2026-03-02", "2026-03-31")


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-03-05", "to": "2026-03-04"},  # reversed
        {"from": "2025-01-01", "to": "2026-01-02"},  # 367 days
        {"from": "2026-02-30"},
        {"from": "yesterday"},
        {"to": "2026-13-01"},
        {"from": "1999-12-31"},
        {"to": "2101-01-01"},
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-31"},
        {"from": "2026-03-01T00:00:00"},
        {"from": "\x00"},
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_period_that_cannot_be_shown_is_a_422(console, params):
    console.login("rita")
    for path in ("/api/dashboard", "/api/dashboard.csv"):
        response = console.client.get(path, params=params)
        assert response.status_code == 422, (path, params, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, list) and detail[0]["loc"][0] == "query" and detail[0]["msg"]
    year = console.client.get("/api/dashboard", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert year.status_code == 200  # 365 days; a leap year's 366 too
    assert console.client.get("/api/dashboard", params={"from": "2024-01-01", "to": "2024-12-31"}).status_code == 200


def test_periods_are_checked_before_any_query():
    tz = IST
    assert Period.choose(None, None, tz, date(2026, 3, 31)).first == date(2026, 3, 2)
    assert Period.choose(date(2026, 4, 2), None, tz, date(2026, 3, 31)).last == date(2026, 4, 2)  # a future day
    with pytest.raises(PeriodError) as reversed_days:
        Period.choose(date(2026, 3, 2), date(2026, 3, 1), tz, date(2026, 3, 31))
    assert reversed_days.value.field == "to"
    london = Period(date(2026, 3, 29), date(2026, 3, 29), ZoneInfo("Europe/London"))
    assert london.offsets() == [(int(london.start.timestamp()), 0), (1774746000, 3600)]  # 01:00 UTC
    assert (london.end - london.start) == timedelta(hours=23)


def test_percentiles_are_by_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([7.0], 50) == percentile([7.0], 90) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.0 and percentile([1.0, 2.0], 90) == 2.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 90) == 90.0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_staff_role_sees_the_figures_and_nobody_else(console, working_days):
    period = {"from": D1.isoformat(), "to": D2.isoformat()}
    for name in ("rita", "cleo", "ada"):
        client = console.as_new_client()
        login = client.post("/api/auth/login", json={"username": name, "password": "a long enough passphrase"})
        assert login.status_code == 200
        assert client.get("/api/dashboard", params=period).status_code == 200, name
        assert client.get("/api/dashboard.csv", params=period).status_code == 200, name
    anonymous = console.as_new_client()
    assert anonymous.get("/api/dashboard").status_code == 401
    assert anonymous.get("/api/dashboard.csv").status_code == 401


def test_the_csv_holds_the_same_figures_and_is_audited(console, working_days):
    period = {"from": D1.isoformat(), "to": D2.isoformat()}
    found = dashboard(console, **period)
    response = console.client.get("/api/dashboard.csv", params=period)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="dashboard-20260302-20260303.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["figure", "day", "item", "value"]
    figures = {(f, d, i): v for f, d, i, v in rows[1:]}
    assert figures[("period", "", "timezone")] == "Asia/Kolkata"
    assert figures[("conversations", "", "total")] == "20"
    assert figures[("conversations", "2026-03-02", "emergency")] == "1"
    assert figures[("answered_share", "2026-03-02", "")] == "0.2500"
    assert figures[("handoffs", "2026-03-03", "")] == "11"
    assert figures[("first_reply_p50_seconds", "2026-03-03", "")] == "300"
    assert figures[("first_reply_p90_seconds", "", "")] == "540"
    assert figures[("gaps", "2026-03-03", "thumbs_down")] == "1"
    assert figures[("topic_answers", "", "pain")] == "2"
    assert figures[("passage_thumbs_down", "", "pain-01")] == "1"
    for day in found["days"]:
        assert figures[("conversations", day["day"], "total")] == str(day["conversations"]["total"])
    assert "sting" not in response.text and "web-answer01" not in response.text

    console.login("ada")
    audit = console.client.get("/api/audit", params={"action": "export_figures"}).json()["items"]
    assert len(audit) == 1 and audit[0]["actor"] == "rita"
    assert json.loads(audit[0]["detail"]) == {"first_day": "2026-03-02", "last_day": "2026-03-03"}


def test_csv_cells_never_run_as_spreadsheet_formulas(console, tracker):
    turn(tracker, "web-formula01", at(D1, 10), "q", topics=["=1+2"], passage_ids=["@SUM(A1)"], message_id="m-f")
    rate(console.settings.tracker_db_url, "web-formula01", "m-f", ("@SUM(A1)", "-cmd"), "down", at(D1, 10, 1))
    console.login("ada")
    text = console.client.get("/api/dashboard.csv", params={"from": D1.isoformat(), "to": D1.isoformat()}).text
    items = {row[2] for row in csv.reader(io.StringIO(text))}
    assert {"'=1+2", "'@SUM(A1)", "'-cmd"} <= items
    assert not any(item[:1] in ("=", "+", "-", "@") for item in items)


def test_gaps_over_time_follow_the_knowledge_gaps_own_rule(console, tracker):
    """The dashboard counts gaps in SQL first: it must find exactly the questions the gaps screen finds."""
    t = tracker
    turn(t, "web-g1", at(D1, 9), "is it safe for dark skin", kind="clarify", confidence=0.3)
    turn(t, "web-g2", at(D1, 9, 5), "what does it cost in total", confidence=0.59999)  # low confidence
    turn(t, "web-g3", at(D1, 9, 10), "can it help my hair", confidence=0.6)  # confident enough
    turn(t, "web-g4", at(D1, 9, 15), "tell me about results", confidence=1e-05)  # written 1e-05
    turn(t, "web-g5", at(D1, 9, 20), "/choose_topic", kind="clarify")  # a button, not a question
    turn(t, "web-g6", at(D1, 9, 25), "what's the weather", kind="out_of_scope", reason="nlu:out_of_scope")
    turn(t, "web-g7", at(D1, 9, 30), "do you do botox", kind="out_of_scope", confidence=0.2)
    turn(t, "web-g8", at(D1, 9, 35), "how long does it last", confidence=1)  # an integer
    t.add("web-g8", "bot", data={"custom": {"meta": {"kind": "clarify"}}})  # a second reply: no question
    turn(t, "web-g9", at(D1, 23, 59, 59), "any side effects", kind="clarify")  # replied to after midnight
    console.login("rita")
    found = dashboard(console, **{"from": D1.isoformat(), "to": D1.isoformat()})
    with session_factory(console.settings.console_db_url)() as db:
        since = datetime(D1.year, D1.month, D1.day, tzinfo=IST)
        gaps = find_gaps(db, console.settings.tracker_db_url, since, since + timedelta(days=1))
    expected = {kind: 0 for kind in ("clarify", "out_of_scope", "low_confidence")}
    for gap in gaps:
        for question in gap.questions:
            expected[question.kind] += 1
    assert expected == {"clarify": 2, "out_of_scope": 1, "low_confidence": 2}
    assert {k: found["gaps"][k] for k in expected} == expected


def test_thumbs_down_show_in_the_knowledge_gaps_with_their_passages(console, working_days):
    found = console.client.get("/api/gaps").json()
    rated = [e for g in found for e in g["examples"] if e["kind"] == "thumbs_down"]
    assert {(e["sender_id"], tuple(e["passage_ids"])) for e in rated} == {
        ("web-answer01", ("pain-01",)),
        ("rest-take01", ("cost-01",)),
    }
    sting = next(e for e in rated if e["sender_id"] == "web-answer01")
    assert sting["text"] == "does it sting for long?"  # the question the rated answer replied to
    assert "[phone]" in sting["comment"] and "7700" not in sting["comment"]  # redacted like every screen
    assert any("thumbs_down" in g["kinds"] for g in found)
    # the rating's day decides the period, like the other gaps
    since = datetime(D2.year, D2.month, D2.day, tzinfo=IST).isoformat()
    later = console.client.get("/api/gaps", params={"since": since}).json()
    assert {e["sender_id"] for g in later for e in g["examples"] if e["kind"] == "thumbs_down"} == {"rest-take01"}


def test_odd_records_never_break_the_dashboard(console, bad_records):  # noqa: F811 - the imported fixture
    """Broken JSON, wrong types, impossible times (test_bad_records.py), and odd handoff slots, staff
    replies, topics and feedback rows of the dashboard's own: 200, with the sound conversations counted."""
    t = bad_records
    odd = "rest-odd-dashboard"
    for type_name, data in [
        ("slot", json.dumps({"event": "slot", "name": "handoff", "value": {"yes": 1}})),
        ("slot", json.dumps({"event": "slot", "name": "handoff_reason", "value": ["x"]})),
        ("bot", json.dumps({"event": "bot", "metadata": {"staff_reply": "yes"}})),
        ("bot", json.dumps({"event": "bot", "metadata": ["staff_reply"]})),
        ("bot", '{"event": "bot", "data": {"custom": {"meta": {"kind": "answer", "topics": ["unterminated'),
        ("bot", json.dumps({"event": "bot", "data": {"custom": {"meta": {"kind": "answer", "topics": [""]}}}})),
        ("bot", json.dumps({"event": "bot", "data": {"custom": {"meta": {"kind": "emergency"}}}})),
        ("slot", '{"event": "slot", "name": "handoff", "value": true'),
        ("slot", json.dumps({"event": "slot", "name": "handoff", "value": True}) + "]]]"),
    ]:
        raw(t, odd, type_name, data)
    raw(t, odd, "slot", json.dumps({"event": "slot", "name": "handoff", "value": True}), timestamp=float("nan"))
    engine = FeedbackStore(console.settings.tracker_db_url).engine
    with engine.begin() as conn:
        for passages, created in (("not json", t.clock), ('{"a": 1}', t.clock), ('["x"]', float("inf"))):
            conn.execute(
                feedback.insert().values(
                    sender_id=odd,
                    channel="webchat",
                    answer_id=f"a-{passages}",
                    passage_ids=passages,
                    value="down",
                    created_at=created,
                    updated_at=created,
                )
            )
    engine.dispose()
    day = datetime.fromtimestamp(t.clock, IST).date().isoformat()
    found = dashboard(console, **{"from": day, "to": day})
    assert found["conversations"]["total"] >= 4  # the `conversations` fixture's four, and the odd ones
    assert found["emergencies"] >= 2
    assert found["replies"]["handoffs"] >= 2
    assert {t["topic"] for t in found["topics"]} <= {"pain"}
    assert console.client.get("/api/dashboard.csv", params={"from": day, "to": day}).status_code == 200
    assert console.client.get("/api/gaps").status_code == 200


# ---------------------------------------------------------------- 20,000 conversations


def seed(tracker: Tracker, conversations: int, start: float) -> None:
    """Rasa-shaped events: per turn the patient's message, Rasa's action events, the reply and its
    metadata, handoff slots and some staff replies, spread over 30 days."""
    kinds = (  # roughly what a clinic sees: most questions answered, one in five a gap or a handoff
        [("answer", 0.87)] * 13
        + [("answer", 0.45), ("clarify", 0.3), ("clarify", 0.35), ("handoff", 0.0)]
        + [("handoff", 0.0), ("out_of_scope", 0.1), ("emergency", 0.0), ("smalltalk", 0.0)]
    )
    rows: list[dict[str, object]] = []
    with tracker.engine.begin() as conn:
        for n in range(conversations):
            sender = f"web-{n:016d}"
            clock = start + n * (30 * 86400 / conversations)
            for k in range(1 + n % 3):
                kind, confidence = kinds[(n + k) % len(kinds)]
                clock += 5
                meta = {
                    "kind": kind,
                    "topics": ["pain"] if kind == "answer" else [],
                    "passage_ids": ["pain-01"] if kind == "answer" else [],
                    "confidence": confidence,
                    "disclaimer": True,
                    "handoff": kind in ("handoff", "emergency"),
                }
                events: list[tuple[str, dict[str, Any]]] = [
                    ("user", {"text": "does it hurt?", "input_channel": "webchat", "message_id": f"m{n}-{k}"}),
                    ("action", {"name": "action_respond"}),
                    ("bot", {"text": "A curated answer.", "data": {"buttons": None}, "metadata": {}}),
                    ("bot", {"text": None, "data": {"custom": {"meta": meta}}, "metadata": {}}),
                    ("action", {"name": "action_listen"}),
                ]
                if kind in ("handoff", "emergency"):
                    events.append(("slot", {"name": "handoff", "value": True}))
                    events.append(("bot", {"text": "Dr here.", "metadata": {"staff_reply": True, "author": "dr"}}))
                for i, (type_name, data) in enumerate(events):
                    when = clock + (120 if "staff_reply" in str(data) else i * 0.01)
                    rows.append(
                        {
                            "sender_id": sender,
                            "type_name": type_name,
                            "timestamp": when,
                            "data": json.dumps({"event": type_name, "timestamp": when, **data}),
                        }
                    )
            if len(rows) > 20_000:
                conn.execute(tracker.events.insert(), rows)
                rows = []
        if rows:
            conn.execute(tracker.events.insert(), rows)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_thousands_of_conversations_are_each_counted_once_and_asking_again_gives_the_same_figures(console, tracker):
    """Correctness at volume only: the dashboard's speed over 20,000 conversations is a benchmark
    target (scripts/bench_console.py, in `make bench`), never a timed test."""
    start = at(D1, 0)
    seed(tracker, 4_000, start)
    console.login("rita")
    period = {"from": D1.isoformat(), "to": (D1 + timedelta(days=29)).isoformat()}
    first = dashboard(console, **period)  # indexes the conversations first (the list does the same)
    assert first["conversations"]["total"] == 4_000
    assert first["topics"][0]["topic"] == "pain" and first["replies"]["handoffs"] > 400
    assert dashboard(console, **period) == first


def test_the_vendored_chart_library_is_noted_with_its_licence():
    vendor = Path(PROJECT_ROOT / "console" / "static" / "vendor" / "uplot")
    note = (vendor / "README.md").read_text(encoding="utf-8")
    assert "uplot@1.6.32" in note and "sha512-" in note
    assert "MIT License" in (vendor / "LICENSE").read_text(encoding="utf-8")
    assert "export { uPlot as default }" in (vendor / "uPlot.esm.js").read_text(encoding="utf-8")
