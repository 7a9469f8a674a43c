"""Export of the filtered conversations as CSV and JSON lines: admins only, redacted like the
screens, safe to open in a spreadsheet, and audited."""

from __future__ import annotations

import csv
import io
import json


def test_csv_export_has_one_row_per_message_with_its_metadata(console, conversations):
    console.login("ada")
    response = console.client.get("/api/export", params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["sender_id"] for r in rows} == {"web-aaaaaaaaaaaaaaaa", "tg-1001", "wa-4477", "rest-1"}
    answer = next(r for r in rows if r["sender_id"] == "web-aaaaaaaaaaaaaaaa" and r["role"] == "bot")
    assert answer["kind"] == "answer" and answer["topics"] == "pain" and answer["passage_ids"] == "pain-01"
    assert answer["disclaimer"] == "True"
    staff = next(r for r in rows if r["role"] == "staff")
    assert staff["author"] == "dr.rao" and staff["text"] == "Hello, Dr Rao here."


def test_export_follows_the_list_filters(console, conversations):
    console.login("ada")
    response = console.client.get("/api/export", params={"format": "jsonl", "kind": "handoff"})
    assert response.status_code == 200, response.text
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["conversation"]["sender_id"] for r in records] == ["tg-1001"]
    assert [m["role"] for m in records[0]["messages"]] == ["patient", "bot", "staff"]
    assert records[0]["messages"][1]["meta"]["kind"] == "handoff"


def test_export_redacts_identifiers_and_defuses_spreadsheet_formulas(console, tracker):
    tracker.turn("web-pii0000000000000", '=HYPERLINK("http://evil") mail me: jo@example.com', "Sure.")
    tracker.turn("web-pii0000000000000", "or call 06 12 34 56 78", "Thanks.")
    console.login("ada")
    text = console.client.get("/api/export", params={"format": "csv"}).text
    assert "jo@example.com" not in text and "06 12 34 56 78" not in text
    patient = [r["text"] for r in csv.DictReader(io.StringIO(text)) if r["role"] == "patient"]
    assert patient[0].startswith("'=")  # shown as text, never run as a formula
    assert "[email]" in patient[0] and "[phone]" in patient[1]


def test_each_conversation_stays_one_line_whatever_characters_a_patient_typed(console, tracker):
    odd = "a\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k"
    tracker.turn("web-lines00000000000", odd, "Sure.")
    tracker.turn("web-plain00000000000", "does it hurt?", "A little.")
    console.login("ada")
    text = console.client.get("/api/export", params={"format": "jsonl"}).text
    lines = text.splitlines()  # every line break Python knows, not only \n
    assert len(lines) == 2 and len(text.split("\n")) == 3
    records = {json.loads(line)["conversation"]["sender_id"]: json.loads(line) for line in lines}
    patient = next(m for m in records["web-lines00000000000"]["messages"] if m["role"] == "patient")
    assert patient["text"].replace("\r", "\n").startswith("a\nb") and "\u2028" in patient["text"]


def test_export_is_for_admins_and_is_audited(console, conversations):
    console.login("rita")
    assert console.client.get("/api/export").status_code == 403
    console.login("cleo")
    assert console.client.get("/api/export").status_code == 403
    console.login("ada")
    assert console.client.get("/api/export", params={"format": "jsonl", "channel": "telegram"}).status_code == 200
    entry = console.client.get("/api/audit", params={"action": "export"}).json()["items"][0]
    assert entry["actor"] == "ada"
    detail = json.loads(entry["detail"])
    assert detail["format"] == "jsonl" and detail["conversations"] == 1 and detail["filters"] == {"channel": "telegram"}


def test_bad_export_format_is_a_clear_422(console, conversations):
    console.login("ada")
    response = console.client.get("/api/export", params={"format": "xlsx"})
    assert response.status_code == 422
