"""Knowledge gaps (questions the assistant was unsure about or could not answer, grouped) and the
curated passages behind a reply."""

from __future__ import annotations


def gaps(console, **params) -> list[dict]:
    response = console.client.get("/api/gaps", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_similar_unsure_questions_are_grouped_and_counted(console, tracker):
    tracker.turn("web-a000000000000000", "can mesotherapy fix my double chin", "Which do you mean?", kind="clarify")
    tracker.turn("web-b000000000000000", "mesotherapy for a double chin?", "Maybe.", confidence=0.41)
    tracker.turn("web-c000000000000000", "Mesotherapy double chin fix", "Which do you mean?", kind="clarify")
    tracker.turn("web-d000000000000000", "what is the weather in Paris", "I can help with...", kind="out_of_scope")
    tracker.turn("web-e000000000000000", "does it hurt?", "Mild stinging.", confidence=0.93)
    console.login("rita")
    found = gaps(console)
    assert [g["count"] for g in found] == [3, 1]
    chin, weather = found
    assert "double chin" in chin["question"].lower()
    assert chin["kinds"] == ["clarify", "low_confidence"]
    assert {e["sender_id"] for e in chin["examples"]} == {
        "web-a000000000000000",
        "web-b000000000000000",
        "web-c000000000000000",
    }
    assert weather["kinds"] == ["out_of_scope"]
    # a confident answer is not a gap
    assert all("hurt" not in e["text"] for g in found for e in g["examples"])


def test_gaps_hide_identifiers_and_respect_the_date_range(console, tracker):
    tracker.turn("web-f000000000000000", "text me on 0612345678 about fat", "Which?", kind="clarify")
    console.login("rita")
    (gap,) = gaps(console)
    assert "0612345678" not in gap["question"] and "[phone]" in gap["question"]
    assert gaps(console, since="2030-01-01T00:00:00Z") == []


def test_a_passage_behind_a_reply_can_be_read_with_its_sources(console):
    console.login("cleo")
    response = console.client.get("/api/passages/pain-01")
    assert response.status_code == 200, response.text
    passage = response.json()
    assert passage["topic"] == "pain" and passage["answer"] and passage["sources"]
    assert console.client.get("/api/passages/no-such-passage").status_code == 404


def test_knowledge_views_need_a_login(console):
    anonymous = console.as_new_client()
    assert anonymous.get("/api/gaps").status_code == 401
    assert anonymous.get("/api/passages/pain-01").status_code == 401
