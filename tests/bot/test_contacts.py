"""Call-back contacts in the channels' database (bot/channels/contacts.py), without Rasa, on SQLite and
PostgreSQL: the widget's body is taken strictly (a name, a real-looking phone number, consent), one contact per
conversation with a newer one replacing the older, the console reads and takes exactly what it copied, and
erasure removes one patient's contact only. The HTTP side is tested against the real servers in
tests/e2e/test_console_transcript.py; the console's side in tests/console/test_contacts.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from bot.channels.contacts import (
    ContactIn,
    ContactProblem,
    ContactStore,
    contacts,
    forget_senders,
    parse_contact,
    read_contacts,
    take,
)

GOOD = {"name": "Asha Rao", "phone": "+91 98765 43210", "consent": True}


@pytest.fixture
def store(db_url: str) -> Iterator[ContactStore]:
    store = ContactStore(db_url)
    yield store
    store.engine.dispose()


def problem(body: object) -> ContactProblem:
    with pytest.raises(ContactProblem) as caught:
        parse_contact(body)
    return caught.value


# -- what the widget may send ---------------------------------------------------------------------------


def test_a_name_and_a_phone_number_with_consent_are_taken_as_typed():
    assert parse_contact(GOOD) == ContactIn("Asha Rao", "+91 98765 43210")
    assert parse_contact({**GOOD, "phone": " (022) 2345-6789 ", "name": "  Dr.\tMehta \n"}) == ContactIn(
        "Dr. Mehta", "(022) 2345-6789"
    )
    assert parse_contact({**GOOD, "phone": "07700.900123"}).phone == "07700.900123"


def test_without_consent_nothing_is_taken():
    for consent in (False, None, "true", 1):
        refused = problem({**GOOD, "consent": consent})
        assert refused.status == 403 and "consent" in str(refused)
    assert problem({k: v for k, v in GOOD.items() if k != "consent"}).status == 403


@pytest.mark.parametrize(
    "phone",
    [
        "123456",
        "1234567890123456",
        "call me",
        "+91 98765 43210 ext 5",
        "++919876543210",
        "98765/43210",
        919876543210,
        None,
        "+" + "1" * 40,
        "９８７６５４３２１０",
    ],
)
def test_what_is_not_a_phone_number_is_refused_with_a_reason(phone):
    refused = problem({**GOOD, "phone": phone})
    assert refused.status == 400 and "`phone` must be a phone number" in str(refused)


def test_a_name_is_required_cleaned_and_bounded():
    assert problem({**GOOD, "name": "   "}).status == 400
    assert problem({**GOOD, "name": None}).status == 400
    assert "longer than 80" in str(problem({**GOOD, "name": "A" * 81}))
    assert parse_contact({**GOOD, "name": "Zo\x00e \ud800"}).name == "Zo e \ufffd"  # no NUL, no lone surrogate


def test_the_body_is_strict():
    assert problem([GOOD]).status == 400
    assert problem("Asha, +91 98765 43210").status == 400
    unknown = problem({**GOOD, "email": "asha@example.com"})
    assert unknown.status == 400 and "unknown field `email`" in str(unknown)


# -- the store --------------------------------------------------------------------------------------------


def test_one_contact_per_conversation_and_a_newer_one_replaces_it(store: ContactStore):
    assert store.save("web-aaaaaaaaaaaaaaaa", "webchat", ContactIn("Asha", "+91 98765 43210"), now=1_790_000_000.0)
    assert not store.save(
        "web-aaaaaaaaaaaaaaaa", "webchat", ContactIn("Asha R", "+91 90000 11111"), now=1_790_000_060.0
    )
    store.save("web-bbbbbbbbbbbbbbbb", "webchat", ContactIn("Ben", "07700 900123"), now=1_790_000_100.0)
    found = read_contacts(store.engine, ["web-aaaaaaaaaaaaaaaa", "web-bbbbbbbbbbbbbbbb", "web-nobody"])
    assert set(found) == {"web-aaaaaaaaaaaaaaaa", "web-bbbbbbbbbbbbbbbb"}
    asha = found["web-aaaaaaaaaaaaaaaa"]
    assert (asha.name, asha.phone, asha.channel) == ("Asha R", "+91 90000 11111", "webchat")
    assert asha.consent_at == datetime.fromtimestamp(1_790_000_060.0, timezone.utc)


def test_the_console_takes_only_the_version_it_copied(store: ContactStore):
    sender = "web-aaaaaaaaaaaaaaaa"
    store.save(sender, "webchat", ContactIn("Asha", "+91 98765 43210"), now=1_790_000_000.0)
    copied = read_contacts(store.engine, [sender])[sender]
    store.save(sender, "webchat", ContactIn("Asha", "+91 90000 11111"), now=1_790_000_500.0)  # meanwhile
    assert not take(store.engine, copied)  # the newer number stays for the console's next look
    newer = read_contacts(store.engine, [sender])[sender]
    assert newer.phone == "+91 90000 11111"
    assert take(store.engine, newer)
    assert read_contacts(store.engine, [sender]) == {}


def test_erasure_removes_one_patients_contact_only(store: ContactStore):
    store.save("web-aaaaaaaaaaaaaaaa", "webchat", ContactIn("Asha", "+91 98765 43210"))
    store.save("web-bbbbbbbbbbbbbbbb", "webchat", ContactIn("Ben", "07700 900123"))
    assert forget_senders(store.engine, ["web-aaaaaaaaaaaaaaaa", "web-unknown"]) == 1
    assert set(read_contacts(store.engine, ["web-aaaaaaaaaaaaaaaa", "web-bbbbbbbbbbbbbbbb"])) == {
        "web-bbbbbbbbbbbbbbbb"
    }


def test_before_any_contact_there_is_nothing_to_read_or_forget(db_url: str):
    engine = sa.create_engine(db_url)
    try:
        assert read_contacts(engine, ["web-aaaaaaaaaaaaaaaa"]) == {}
        assert forget_senders(engine, ["web-aaaaaaaaaaaaaaaa"]) == 0
    finally:
        engine.dispose()


def test_a_row_that_was_tampered_with_is_skipped_not_a_crash(store: ContactStore):
    store.save("web-aaaaaaaaaaaaaaaa", "webchat", ContactIn("Asha", "+91 98765 43210"))
    with store.engine.begin() as conn:
        conn.execute(
            contacts.insert().values(
                sender_id="web-bbbbbbbbbbbbbbbb",
                channel="webchat",
                name="x",
                phone="not a number",
                consent_at=0.0,
                saved_at=0.0,
            )
        )
    found = read_contacts(store.engine, ["web-aaaaaaaaaaaaaaaa", "web-bbbbbbbbbbbbbbbb"])
    assert set(found) == {"web-aaaaaaaaaaaaaaaa"}
