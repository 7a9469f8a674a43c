"""The handoff queue at clinic scale: each card shows the message that caused the handoff (not the
latest "hello?"), the patient's name where Telegram or WhatsApp gives one, the channel and the
waiting time; filters, search and pages over 300 waiting patients; claims and assignments that every
colleague sees ("cleo is replying"), by role, audited; emergencies that alert until someone
acknowledges them; and the navigation's counts. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from console.accounts import create_user
from console.db import session_factory
from console.deps import settings_dep
from console.models import User
from core.clinic import load_clinic
from core.patient_ref import patient_reference
from tests.console.conftest import PASSWORD, Tracker

QUESTION = "I take warfarin every day, can I still have mesotherapy on my face?"
EMERGENCY = "my lips are swelling and I can't breathe"


# ---------------------------------------------------------------- helpers


def said(tracker: Tracker, sender: str, words: str, channel: str, intent: str = "ask_question", **extra: Any) -> None:
    tracker.add(sender, "user", text=words, input_channel=channel, parse_data={"intent": {"name": intent}}, **extra)


def replied(tracker: Tracker, sender: str, kind: str, reply: str = "A clinician will reply here.") -> None:
    tracker.add(sender, "bot", text=reply, data={"buttons": None})
    meta = {"kind": kind, "topics": [], "passage_ids": [], "confidence": 0.9, "disclaimer": True, "handoff": True}
    tracker.add(sender, "bot", text=None, data={"custom": {"meta": meta}})


def handed_off(tracker: Tracker, sender: str, reason: str) -> None:
    tracker.add(sender, "slot", name="handoff", value=True)
    tracker.add(sender, "slot", name="handoff_reason", value=reason)


def handoff(tracker: Tracker, sender: str, words: str, channel: str = "webchat", **extra: Any) -> None:
    said(tracker, sender, words, channel, **extra)
    replied(tracker, sender, "handoff")
    handed_off(tracker, sender, "medical")


def emergency(tracker: Tracker, sender: str, words: str = EMERGENCY, channel: str = "webchat") -> None:
    said(tracker, sender, words, channel, intent="warning_signs")
    replied(tracker, sender, "emergency", "Call 112 now.")
    handed_off(tracker, sender, "emergency")


def hold(tracker: Tracker, sender: str, words: str, channel: str = "webchat") -> None:
    """A message while the patient waits: the assistant only says a person will reply."""
    said(tracker, sender, words, channel, intent="greet")
    replied(tracker, sender, "handoff", "A person from the team will reply.")


def staff_reply(tracker: Tracker, sender: str) -> None:
    tracker.add(sender, "bot", text="Hello, the clinic here.", metadata={"staff_reply": True, "author": "cleo"})


def page(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/handoffs", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def items(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    return page(client, **params)["items"]


def card(client: TestClient, sender: str) -> dict[str, Any]:
    return next(i for i in items(client, limit=100) if i["sender_id"] == sender)


def counts(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/handoffs/counts", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def browser(console, username: str) -> TestClient:
    """Another staff member's browser (its own cookie and CSRF token)."""
    client = console.as_new_client()
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def audited(console, action: str) -> list[dict[str, Any]]:
    admin = browser(console, "ada")
    return admin.get("/api/audit", params={"action": action, "page_size": 200}).json()["items"]


@pytest.fixture()
def asha(console) -> None:
    """A second clinician, made the way the command line makes accounts."""
    create_user(console.settings.console_db_url, "asha", PASSWORD, "clinician")


# ---------------------------------------------------------------- the cards


def test_a_card_shows_the_message_that_caused_the_handoff_and_the_patients_name(console, tracker):
    # Telegram gives a first name, WhatsApp a profile name; the web widget gives none, and a name a
    # web page puts in the metadata is not believed.
    handoff(tracker, "tg-5001", QUESTION, channel="telegram", metadata={"first_name": "Maria"})
    hold(tracker, "tg-5001", "hello?", channel="telegram")
    hold(tracker, "tg-5001", "anyone there??", channel="telegram")
    handoff(
        tracker,
        "wa-447700900123",
        "is it safe while breastfeeding?",
        channel="whatsapp",
        metadata={"profile_name": "Jo B"},
    )
    handoff(tracker, "web-name0000000000000", "can I talk to a person?", metadata={"display_name": "EMERGENCY call me"})
    console.login("cleo")

    maria = card(console.client, "tg-5001")
    assert maria["trigger"] == QUESTION  # not the latest "anyone there??"
    assert maria["preview"] == "anyone there??"
    assert maria["display_name"] == "Maria" and maria["patient_ref"] == patient_reference("tg-5001")
    assert maria["channel"] == "telegram" and maria["kind"] == "handoff" and maria["emergency"] is False
    assert maria["waiting_seconds"] > 0 and maria["handed_off_at"] <= maria["waiting_since"]
    assert maria["claimed_by"] is None and maria["acknowledged_by"] is None
    assert card(console.client, "wa-447700900123")["display_name"] == "Jo B"
    assert card(console.client, "web-name0000000000000")["display_name"] is None


def test_accepting_an_offer_of_a_person_points_back_at_the_question(console, tracker):
    sender = "web-offer000000000000"
    said(tracker, sender, "what about my thyroid pills and the injections", "webchat")
    tracker.add(sender, "bot", text="Would you like a clinician to answer?", data={"buttons": None})
    tracker.add(sender, "bot", text=None, data={"custom": {"meta": {"kind": "clarify", "confidence": 0.3}}})
    said(tracker, sender, "yes please", "webchat", intent="affirm")
    replied(tracker, sender, "handoff")
    handed_off(tracker, sender, "offer_accepted")
    console.login("cleo")
    assert card(console.client, sender)["trigger"] == "what about my thyroid pills and the injections"


def test_an_emergency_during_a_handoff_makes_it_an_emergency_with_its_own_message(console, tracker):
    handoff(tracker, "web-later000000000000", QUESTION)
    hold(tracker, "web-later000000000000", "hello?")
    emergency(tracker, "web-later000000000000", "now my throat is closing up")
    hold(tracker, "web-later000000000000", "please hurry")
    console.login("cleo")
    item = card(console.client, "web-later000000000000")
    assert item["kind"] == "emergency" and item["trigger"] == "now my throat is closing up"
    assert item["preview"] == "please hurry"


def test_the_triggering_message_is_redacted_like_transcripts(console, tracker):
    handoff(tracker, "tg-5002", "I take warfarin, call me on +44 7700 900123 or a@b.example", channel="telegram")
    console.login("cleo")
    trigger = card(console.client, "tg-5002")["trigger"]
    assert "7700" not in trigger and "[phone]" in trigger and "[email]" in trigger


def test_a_handoff_handed_back_and_started_again_is_new_and_unclaimed(console, tracker):
    handoff(tracker, "tg-5003", QUESTION, channel="telegram")
    console.login("cleo")
    assert console.client.post("/api/handoffs/tg-5003/claim").status_code == 200
    tracker.add("tg-5003", "slot", name="handoff", value=False)  # handed back
    assert items(console.client) == []
    said(tracker, "tg-5003", "thanks, and how long does the swelling last?", "telegram")
    replied(tracker, "tg-5003", "answer", "Usually a day or two.")
    handoff(tracker, "tg-5003", "I also have a pacemaker, is that a problem?", channel="telegram")
    item = card(console.client, "tg-5003")
    assert item["claimed_by"] is None and item["trigger"] == "I also have a pacemaker, is that a problem?"


def test_a_card_says_by_when_the_clinic_promised_a_reply(console, tracker, tmp_path):
    handoff(tracker, "tg-5004", QUESTION, channel="telegram")
    handoff(tracker, "tg-5005", "and with a pacemaker?", channel="telegram")
    staff_reply(tracker, "tg-5005")
    console.login("cleo")
    waiting, answered = card(console.client, "tg-5004"), card(console.client, "tg-5005")
    hours = load_clinic(console.settings.clinic_file).business_hours
    due = hours.reply_due(datetime.fromisoformat(waiting["handed_off_at"]))
    assert datetime.fromisoformat(waiting["reply_due"]) == due > datetime.fromisoformat(waiting["handed_off_at"])
    assert answered["reply_due"] is None  # answered: nothing is due
    # without a readable clinic file the queue still answers, with waiting times only
    broken = tmp_path / "clinic.yml"
    broken.write_text("timezone: [not, a, zone\n", encoding="utf-8")
    settings = console.settings.model_copy(update={"clinic_file": broken})
    console.client.app.dependency_overrides[settings_dep] = lambda: settings
    assert card(console.client, "tg-5004")["reply_due"] is None


# ---------------------------------------------------------------- 300 waiting patients


CHANNELS = ("telegram", "whatsapp", "webchat")
PREFIX = {"telegram": "tg-", "whatsapp": "wa-", "webchat": "web-"}


def seed(tracker: Tracker, n: int = 300) -> list[str]:
    """n handoffs in one transaction (the first 10 emergencies; every 30th asks about warfarin;
    Telegram patients have first names); returns the sender ids, oldest handoff first."""
    rows, senders = [], []

    def event(sender: str, type_name: str, **data: Any) -> None:
        tracker.clock += 1
        rows.append(
            {
                "sender_id": sender,
                "type_name": type_name,
                "timestamp": tracker.clock,
                "data": json.dumps({"event": type_name, "timestamp": tracker.clock, **data}),
            }
        )

    for i in range(n):
        channel = CHANNELS[i % 3]
        sender = f"{PREFIX[channel]}{900000 + i}"
        urgent = i < 10
        words = f"question number {i}: " + ("I take warfarin" if i % 30 == 0 else "can I have it after a peel?")
        extra = {"metadata": {"first_name": f"Patient{i}"}} if channel == "telegram" else {}
        event(
            sender, "user", text=words, input_channel=channel, parse_data={"intent": {"name": "ask_question"}}, **extra
        )
        event(sender, "bot", text="A clinician will reply.", data={"buttons": None})
        meta = {"kind": "emergency" if urgent else "handoff", "handoff": True, "confidence": 0.9}
        event(sender, "bot", text=None, data={"custom": {"meta": meta}})
        event(sender, "slot", name="handoff", value=True)
        event(sender, "slot", name="handoff_reason", value="emergency" if urgent else "medical")
        senders.append(sender)
    with tracker.engine.begin() as conn:
        conn.execute(tracker.events.insert(), rows)
    return senders


def test_three_hundred_waiting_patients_page_filter_and_search(console, tracker):
    senders = seed(tracker)
    console.login("cleo")
    first = page(console.client)
    assert first["total"] == 300 and first["page"] == 1 and first["page_size"] == 25 and len(first["items"]) == 25
    # emergencies first, then the longest wait
    assert [i["kind"] for i in first["items"][:10]] == ["emergency"] * 10
    assert [i["sender_id"] for i in first["items"][10:]] == senders[10:25]

    walked = [i["sender_id"] for n in range(1, 4) for i in items(console.client, page=n, limit=100)]
    assert sorted(walked) == sorted(senders) and len(set(walked)) == 300
    assert items(console.client, page=4, limit=100) == []
    assert page(console.client, page=99)["total"] == 300

    assert page(console.client, filter="emergency")["total"] == 10
    assert page(console.client, channel="telegram")["total"] == 100
    assert page(console.client, filter="emergency", channel="whatsapp")["total"] == 3  # 1, 4, 7
    assert {i["sender_id"] for i in items(console.client, q="WARFARIN")} == {senders[i] for i in range(0, 300, 30)}
    ref = patient_reference(senders[123])
    assert senders[123] in [i["sender_id"] for i in items(console.client, q=ref)]
    assert senders[123] in [i["sender_id"] for i in items(console.client, q=ref[2:].lower())]
    assert [i["display_name"] for i in items(console.client, q="patient201")] == ["Patient201"]
    assert page(console.client, q="nobody wrote this")["total"] == 0
    assert page(console.client, q="100%")["total"] == 0  # LIKE wildcards are text

    # answered patients are no longer "waiting for a reply"
    for sender in senders[10:15]:
        staff_reply(tracker, sender)
    waiting = page(console.client, filter="waiting")
    assert waiting["total"] == 295 and senders[12] not in [i["sender_id"] for i in waiting["items"]]
    (answered,) = items(console.client, q=senders[12])
    assert answered["awaiting_reply"] is False
    # answered ones come after everyone still waiting
    last = items(console.client, page=3, limit=100)
    assert [i["sender_id"] for i in last[-5:]] == senders[10:15]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"page": 0},
        {"page": 100_001},
        {"page": -1},
        {"filter": "everything"},
        {"filter": ""},
        {"channel": "x" * 33},
        {"q": "x" * 201},
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_bad_parameters_get_a_422(console, tracker, params):
    console.login("cleo")
    response = console.client.get("/api/handoffs", params=params)
    assert response.status_code == 422, (params, response.text)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("after", [-1, "x", 2**63, 1.5])
def test_bad_counts_cursor_gets_a_422(console, tracker, after):
    console.login("cleo")
    assert console.client.get("/api/handoffs/counts", params={"after": after}).status_code == 422


# ---------------------------------------------------------------- who is replying


def test_a_claim_is_visible_to_colleagues_and_audited(console, tracker, asha):
    handoff(tracker, "tg-6001", QUESTION, channel="telegram")
    handoff(tracker, "tg-6002", "and if I am pregnant?", channel="telegram")
    cleo, other = browser(console, "cleo"), browser(console, "asha")

    claimed = cleo.post("/api/handoffs/tg-6001/claim")
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["claimed_by"] == "cleo" and claimed.json()["claimed_at"]
    assert card(other, "tg-6001")["claimed_by"] == "cleo"  # "cleo is replying", for everyone
    assert cleo.post("/api/handoffs/tg-6001/claim").status_code == 200  # again: nothing changes

    refused = other.post("/api/handoffs/tg-6001/claim")
    assert refused.status_code == 409 and "cleo is replying" in refused.json()["detail"]
    assert other.post("/api/handoffs/tg-6001/release").status_code == 403
    assert other.post("/api/handoffs/tg-6001/assign", json={"username": "asha"}).status_code == 409

    assert {i["sender_id"] for i in items(cleo, filter="mine")} == {"tg-6001"}
    assert {i["sender_id"] for i in items(other, filter="mine")} == set()
    assert {i["sender_id"] for i in items(other, filter="unassigned")} == {"tg-6002"}
    assert counts(cleo)["mine"] == 1 and counts(other)["unassigned"] == 1

    # cleo passes her patient on; an admin may reassign anyone's
    moved = cleo.post("/api/handoffs/tg-6001/assign", json={"username": "asha"})
    assert moved.status_code == 200 and moved.json()["claimed_by"] == "asha"
    admin = browser(console, "ada")
    assert admin.post("/api/handoffs/tg-6001/assign", json={"username": "cleo"}).json()["claimed_by"] == "cleo"
    assert admin.post("/api/handoffs/tg-6001/release").json()["claimed_by"] is None
    assert other.post("/api/handoffs/tg-6001/claim").json()["claimed_by"] == "asha"
    assert other.post("/api/handoffs/tg-6001/release").json()["claimed_by"] is None
    assert other.post("/api/handoffs/tg-6001/release").status_code == 200  # nobody's: nothing to do

    claims = [(e["actor"], e["target"]) for e in audited(console, "handoff_claim")]
    assert sorted(claims) == [("asha", "tg-6001"), ("cleo", "tg-6001")]  # repeated claims are not audited twice
    assigns = [(e["actor"], json.loads(e["detail"])) for e in audited(console, "handoff_assign")]
    assert sorted(assigns, key=str) == sorted(
        [("cleo", {"assignee": "asha", "previous": "cleo"}), ("ada", {"assignee": "cleo", "previous": "asha"})], key=str
    )
    releases = [(e["actor"], json.loads(e["detail"])["released"]) for e in audited(console, "handoff_release")]
    assert sorted(releases) == [("ada", "cleo"), ("asha", "asha")]


def test_assigning_needs_an_active_colleague_who_may_reply(console, tracker, asha):
    handoff(tracker, "tg-6003", QUESTION, channel="telegram")
    cleo = browser(console, "cleo")
    for name in ("rita", "nobody-by-that-name", "", "x" * 65):
        assert cleo.post("/api/handoffs/tg-6003/assign", json={"username": name}).status_code == 422, name
    with session_factory(console.settings.console_db_url)() as db:
        db.query(User).filter_by(username="asha").update({"active": False})
        db.commit()
    assert cleo.post("/api/handoffs/tg-6003/assign", json={"username": "asha"}).status_code == 422
    assert [a["username"] for a in cleo.get("/api/handoffs/assignees").json()] == ["ada", "cleo"]
    for body in (None, {}, {"user": "cleo"}, ["cleo"], {"username": 5}):
        assert cleo.post("/api/handoffs/tg-6003/assign", json=body).status_code == 422, body
    assert card(cleo, "tg-6003")["claimed_by"] is None


def test_only_waiting_conversations_can_be_claimed(console, tracker):
    tracker.turn("web-calm0000000000000", "does it hurt?", "A little.", channel="webchat")
    cleo = browser(console, "cleo")
    for action in ("claim", "release", "acknowledge"):
        assert cleo.post(f"/api/handoffs/web-calm0000000000000/{action}").status_code == 409, action
        assert cleo.post(f"/api/handoffs/nobody/{action}").status_code == 404, action
    assert cleo.post("/api/handoffs/nobody/assign", json={"username": "cleo"}).status_code == 404


def test_reviewers_work_no_queue_and_changes_need_the_csrf_header(console, tracker):
    handoff(tracker, "tg-6004", QUESTION, channel="telegram")
    rita = browser(console, "rita")
    for path in ("/api/handoffs/counts", "/api/handoffs/assignees"):
        assert rita.get(path).status_code == 403, path
    for action in ("claim", "release", "acknowledge"):
        assert rita.post(f"/api/handoffs/tg-6004/{action}").status_code == 403, action
    assert rita.post("/api/handoffs/tg-6004/assign", json={"username": "rita"}).status_code == 403
    cleo = browser(console, "cleo")
    del cleo.headers["X-CSRF-Token"]
    assert cleo.post("/api/handoffs/tg-6004/claim").status_code == 403
    assert console.as_new_client().get("/api/handoffs/counts").status_code == 401
    assert card(browser(console, "ada"), "tg-6004")["claimed_by"] is None


def test_two_clinicians_claiming_at_once_get_one_claim(console, tracker, asha):
    handoff(tracker, "tg-6005", QUESTION, channel="telegram")
    people = [browser(console, "cleo"), browser(console, "asha")] * 4
    answers: list[tuple[int, str | None]] = []
    start = threading.Barrier(len(people))

    def claim(client: TestClient) -> None:
        start.wait()
        response = client.post("/api/handoffs/tg-6005/claim")
        answers.append((response.status_code, response.json().get("claimed_by")))

    threads = [threading.Thread(target=claim, args=(client,)) for client in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winner = card(people[0], "tg-6005")["claimed_by"]
    assert winner in ("cleo", "asha")
    assert sorted(status for status, _ in answers) == [200] * 4 + [409] * 4, answers
    assert {who for status, who in answers if status == 200} == {winner}
    assert len(audited(console, "handoff_claim")) == 1


# ---------------------------------------------------------------- emergencies and counts


def test_an_emergency_alerts_until_someone_acknowledges_it(console, tracker, asha):
    cleo, other = browser(console, "cleo"), browser(console, "asha")
    quiet = counts(cleo)
    assert quiet == {
        "waiting": 0,
        "emergencies": 0,
        "mine": 0,
        "unassigned": 0,
        "cursor": 0,
        "new": [],
        "unacknowledged": [],
        "repeat_seconds": 30,
    }

    handoff(tracker, "tg-7001", QUESTION, channel="telegram")
    emergency(tracker, "web-urgent00000000000")
    heard = counts(cleo, after=quiet["cursor"])
    assert heard["waiting"] == 2 and heard["emergencies"] == 1 and heard["unassigned"] == 2
    assert [(a["patient_ref"], a["kind"]) for a in heard["new"]] == [
        (patient_reference("web-urgent00000000000"), "emergency"),
        (patient_reference("tg-7001"), "handoff"),
    ]
    assert [a["sender_id"] for a in heard["unacknowledged"]] == ["web-urgent00000000000"]
    # the poll carries references and kinds, never what the patients wrote
    raw = cleo.get("/api/handoffs/counts", params={"after": 0}).text
    assert "warfarin" not in raw and "breathe" not in raw
    again = counts(cleo, after=heard["cursor"])
    assert again["new"] == [] and again["unacknowledged"] == heard["unacknowledged"]  # repeats until acknowledged

    # a handoff that is not an emergency has nothing to acknowledge
    assert cleo.post("/api/handoffs/tg-7001/acknowledge").status_code == 409
    done = other.post("/api/handoffs/web-urgent00000000000/acknowledge")
    assert done.status_code == 200 and done.json()["acknowledged_by"] == "asha" and done.json()["acknowledged_at"]
    assert other.post("/api/handoffs/web-urgent00000000000/acknowledge").json()["acknowledged_by"] == "asha"
    after_ack = counts(cleo, after=heard["cursor"])
    assert after_ack["emergencies"] == 0 and after_ack["unacknowledged"] == [] and after_ack["new"] == []
    assert card(cleo, "web-urgent00000000000")["acknowledged_by"] == "asha"  # seen by everyone
    entries = audited(console, "emergency_acknowledge")
    assert [(e["actor"], e["target"]) for e in entries] == [("asha", "web-urgent00000000000")]

    # a new warning sign from the same patient needs a new acknowledgement
    emergency(tracker, "web-urgent00000000000", "it is getting worse, my tongue is swollen")
    worse = counts(cleo, after=after_ack["cursor"])
    assert worse["emergencies"] == 1 and [a["sender_id"] for a in worse["new"]] == ["web-urgent00000000000"]
    assert card(cleo, "web-urgent00000000000")["trigger"] == "it is getting worse, my tongue is swollen"


def test_the_counts_poll_is_cheap(console, tracker):
    """Once the index is in step, a poll reads the tracker store once and the console database twice."""
    seed(tracker, 60)
    cleo = browser(console, "cleo")
    cursor = counts(cleo)["cursor"]
    engine = session_factory(console.settings.console_db_url).kw["bind"]
    statements: list[str] = []

    def seen(conn: Any, cursor_: Any, statement: str, *args: Any) -> None:
        if "console_conversations" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        result = counts(cleo, after=cursor)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert result["waiting"] == 60 and result["emergencies"] == 10 and len(result["unacknowledged"]) == 10
    assert len(statements) == 2, statements


# ---------------------------------------------------------------- the migration


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_migration_0006_keeps_the_waiting_patients(db_url):
    """From revision 0005, with patients waiting, to the head and back: kinds and messages filled in."""
    from alembic import command
    from alembic.config import Config

    from console.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.downgrade(config, "0005")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for sender, handoff_now, urgent in (("a", True, True), ("b", True, False), ("c", False, False)):
            conn.execute(
                text(
                    "INSERT INTO console_conversations (sender_id, channel, started_at, last_at, handoff, emergency, "
                    "last_user_text) VALUES (:s, 'webchat', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :h, :e, :t)"
                ),
                {"s": sender, "h": handoff_now, "e": urgent, "t": f"words of {sender}"},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT sender_id, alert_kind, trigger_text, claimed_by FROM console_conversations ORDER BY sender_id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("a", "emergency", "words of a", None),
        ("b", "handoff", "words of b", None),
        ("c", None, "", None),
    ]
    command.downgrade(config, "0005")
    command.upgrade(config, "head")
    engine.dispose()
