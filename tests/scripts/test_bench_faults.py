"""The fault benchmark's pure parts (scripts/bench_faults.py; the benchmark itself starts a cluster on private
PostgreSQL and Redis servers and breaks them, `make bench-faults`): what counts as replied, stored, lost and
duplicated, how a patient reads an answer, and the report's table."""

from __future__ import annotations

from collections import Counter

from scripts import bench_faults as bf


def message(mid: str, replied: bool = True, tries: int = 1, fallback: bool = False) -> bf.Message:
    return bf.Message("s", mid, "Does it hurt?", "rest", tries=tries, replied=replied, fallback=fallback)


def test_a_message_counts_as_lost_when_unanswered_or_not_stored_and_as_duplicated_when_stored_twice():
    messages = [
        message("a"),  # answered, stored once
        message("b", tries=3),  # answered after two resends, stored once
        message("c", replied=False),  # never answered (stored or not, it is lost to the patient)
        message("d"),  # answered, never stored
        message("e", fallback=True),  # the channel's own reply, stored
        message("f"),  # stored twice
    ]
    stored = Counter({"client:a": 1, "client:b": 1, "client:c": 1, "client:e": 1, "client:f": 2, "client:x": 4})
    row = bf.tally("a fault", messages, stored)
    assert (row.sent, row.replied, row.fallback, row.resent) == (6, 5, 1, 1)
    assert (row.stored, row.lost, row.duplicated) == (5, 2, 1)


def test_an_answer_is_read_as_the_patient_sees_it():
    load = bf.Load("http://x", until=0)
    rest = message("r", replied=False)
    load.read_answer(rest, [{"recipient_id": "s", "text": "It is mildly uncomfortable."},
                            {"recipient_id": "s", "custom": {"meta": {"kind": "answer"}}}])  # fmt: skip
    assert rest.replied and not rest.fallback
    urgent = bf.Message("s", "u", bf.EMERGENCY, "rest")
    load.read_answer(urgent, [{"text": "Sorry, please try again."},
                              {"custom": {"meta": {"kind": "clarify", "reason": "channel_fallback"}}}])  # fmt: skip
    assert urgent.replied and urgent.fallback
    assert not urgent.urgent_ok  # a warning sign that did not get the urgent reply is counted
    empty = message("e", replied=False)
    load.read_answer(empty, [{"custom": {"meta": {"kind": "answer"}}}])
    assert not empty.replied  # metadata alone is not an answer
    widget = bf.Message("w", "w1", bf.EMERGENCY, "widget")
    load.read_answer(
        widget,
        {"messages": [{"role": "user", "text": bf.EMERGENCY}, {"role": "bot", "text": "Call 112 now."}],
         "cursor": 9, "kind": "emergency"},
    )  # fmt: skip
    assert widget.replied and widget.urgent_ok and widget.cursor == 9


def test_the_report_has_one_row_per_fault_and_its_notes():
    rows = [
        bf.Row("none (for comparison)", 10, 10, 0, 0, 10, 0, 0, 0),
        bf.Row("Redis stopped for 30 s", 12, 12, 1, 2, 12, 0, 0, 0, notes="not replied: 1 × ReadTimeout"),
    ]
    text = bf.report(rows, "scripts/bench_faults.py", 600, 30, 75)
    assert "| Redis stopped for 30 s | 12 | 12 | 1 | 2 | 12 | 0 | 0 | 0 |" in text
    assert "- Redis stopped for 30 s: not replied: 1 × ReadTimeout" in text
    assert text.startswith("## Faults under load (issue 15)")


def test_a_script_has_three_to_fifteen_messages_and_sometimes_a_warning_sign_or_a_request_for_a_person():
    load = bf.Load("http://x", until=0)
    scripts = [load.script() for _ in range(400)]
    assert all(3 <= len(s) <= 15 for s in scripts)
    assert any(bf.EMERGENCY in s for s in scripts) and any(bf.HANDOFF in s for s in scripts)
    assert sum(bf.EMERGENCY in s for s in scripts) < 60
