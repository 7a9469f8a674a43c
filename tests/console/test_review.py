"""Reviewing: mark reviewed, tags, notes; the list filters on them; every change is audited."""

from __future__ import annotations

from tests.console.conftest import listed


def test_reviewer_marks_tags_and_notes_and_the_list_filters_on_them(console, conversations):
    assert console.client.put("/api/conversations/rest-1/review").status_code == 204
    assert console.client.post("/api/conversations/rest-1/tags", json={"tag": "Missing-Passage"}).status_code == 204
    assert console.client.post("/api/conversations/tg-1001/tags", json={"tag": "missing-passage"}).status_code == 204
    note = console.client.post("/api/conversations/rest-1/notes", json={"text": "Add a passage on numbing cream."})
    assert note.status_code == 201 and note.json()["author"] == "rita"

    assert listed(console, reviewed="true") == ["rest-1"]
    assert "rest-1" not in listed(console, reviewed="false")
    assert listed(console, tag="missing-passage") == ["tg-1001", "rest-1"]
    assert console.client.get("/api/tags").json() == [{"tag": "missing-passage", "conversations": 2}]
    transcript = console.client.get("/api/conversations/rest-1").json()["conversation"]
    assert transcript["reviewed"] and transcript["tags"] == ["missing-passage"]
    notes = console.client.get("/api/conversations/rest-1/notes").json()
    assert [n["text"] for n in notes] == ["Add a passage on numbing cream."]

    assert console.client.delete("/api/conversations/rest-1/review").status_code == 204
    assert console.client.delete("/api/conversations/rest-1/tags/missing-passage").status_code == 204
    assert listed(console, reviewed="true") == []
    assert listed(console, tag="missing-passage") == ["tg-1001"]

    console.client.cookies.clear()
    console.login("ada")
    actions = [e["action"] for e in console.client.get("/api/audit", params={"actor": "rita"}).json()["items"]]
    for action in ("review", "tag", "note", "unreview", "untag"):
        assert action in actions


def test_clinicians_read_notes_but_do_not_review(console, conversations):
    console.client.post("/api/conversations/rest-1/notes", json={"text": "checked"})
    console.client.cookies.clear()
    console.login("cleo")
    assert console.client.get("/api/conversations/rest-1/notes").status_code == 200
    assert console.client.put("/api/conversations/rest-1/review").status_code == 403
    assert console.client.post("/api/conversations/rest-1/tags", json={"tag": "x"}).status_code == 403


def test_unknown_conversations_and_bad_tags_are_refused(console, conversations):
    assert console.client.put("/api/conversations/nobody/review").status_code == 404
    assert console.client.post("/api/conversations/rest-1/tags", json={"tag": "<script>"}).status_code == 422
    assert console.client.post("/api/conversations/rest-1/notes", json={"text": ""}).status_code == 422
