"""After an erasure or a retention purge the audit log keeps its rows (who did what, when) but names no
patient: the sender id becomes one pseudonym per patient (console/audit.py). The database accepts that
change and no other (migration 0005)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from console.db import session_factory
from tests.console.test_erasure import is_pseudonym, use_alerts_file
from tests.console.test_retention import old_conversations


def audit_rows(console) -> list[tuple[int, str, str | None, str | None, str]]:
    """(id, action, actor, target, detail) of every audit row, read straight from the database."""
    with session_factory(console.settings.console_db_url)() as db:
        rows = db.execute(text("SELECT id, action, actor, target, detail FROM console_audit ORDER BY id"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def staff_touch(console, sender: str) -> None:
    """An admin opens the conversation and reviews, tags and annotates it: audit rows naming the sender."""
    assert console.client.get(f"/api/conversations/{sender}").status_code == 200
    assert console.client.put(f"/api/conversations/{sender}/review").status_code == 204
    assert console.client.post(f"/api/conversations/{sender}/tags", json={"tag": "x"}).status_code == 204


def test_erasure_pseudonymises_the_patients_audit_rows_and_keeps_them(console, conversations, tmp_path):
    use_alerts_file(console, tmp_path)
    console.login("ada")
    for sender in ("tg-1001", "wa-4477"):
        staff_touch(console, sender)
    before = audit_rows(console)
    assert sum(target == "tg-1001" for _, _, _, target, _ in before) == 3

    assert console.client.delete("/api/patients/tg-1001").status_code == 200

    after = audit_rows(console)
    assert not any("tg-1001" in f"{target} {detail}" for _, _, _, target, detail in after)
    assert len(after) == len(before) + 1  # no row removed; the erasure's own row added
    erased = {target for _, _, _, target, _ in after if is_pseudonym(target)}
    assert len(erased) == 1  # one pseudonym for all of the patient's rows, the erasure's included
    (pseudonym,) = erased
    assert [(a, actor) for _, a, actor, target, _ in after if target == pseudonym] == [
        ("view_transcript", "ada"),
        ("review", "ada"),
        ("tag", "ada"),
        ("erase", "ada"),
    ]
    # another patient's rows and the staff's own rows are unchanged
    kept = {row[0]: row for row in after}
    assert all(kept[row[0]] == row for row in before if row[3] != "tg-1001")


def test_a_retention_purge_pseudonymises_the_purged_patients_audit_rows(console, tracker, tmp_path):
    use_alerts_file(console, tmp_path)
    old_conversations(tracker, time.time())
    console.login("ada")
    for sender in ("web-old", "wa-old-handoff", "web-recent"):
        staff_touch(console, sender)

    assert console.client.post("/api/retention/purge").json()["expired"] == 2

    rows = audit_rows(console)
    targets = [target for _, _, _, target, _ in rows]
    assert "web-old" not in targets and "wa-old-handoff" not in targets
    assert targets.count("web-recent") == 3  # within the limit: still named
    pseudonyms = [t for t in targets if is_pseudonym(t)]
    assert len(pseudonyms) == 6 and len(set(pseudonyms)) == 2  # one per purged patient
    assert [a for _, a, _, _, _ in rows].count("purge") == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE console_audit SET target = 'someone else' WHERE target IS NOT NULL",
        "UPDATE console_audit SET target = 'erased-0123456789ab', actor = 'mallory' WHERE target IS NOT NULL",
        "UPDATE console_audit SET target = 'erased-0123456789ab', detail = '' WHERE target IS NOT NULL",
        "UPDATE console_audit SET target = 'erased-0123456789ab' WHERE target IS NULL",  # a login row
        "UPDATE console_audit SET target = 'erased-not-hex-digits' WHERE target IS NOT NULL",
        "DELETE FROM console_audit",
    ],
)
def test_the_database_allows_only_the_pseudonym_change(console, conversations, statement):
    console.login("ada")
    staff_touch(console, "tg-1001")
    before = audit_rows(console)
    with session_factory(console.settings.console_db_url)() as db:
        with pytest.raises(DBAPIError):
            db.execute(text(statement))
            db.commit()
        db.rollback()
    assert audit_rows(console) == before


def test_the_pseudonym_change_itself_is_allowed(console, conversations):
    console.login("ada")
    staff_touch(console, "tg-1001")
    with session_factory(console.settings.console_db_url)() as db:
        db.execute(text("UPDATE console_audit SET target = 'erased-0123456789ab' WHERE target = 'tg-1001'"))
        db.commit()
    assert [t for _, _, _, t, _ in audit_rows(console)].count("erased-0123456789ab") == 3
