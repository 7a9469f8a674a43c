"""The widget-polling benchmark's pure parts (scripts/bench_widgets.py; the benchmark itself opens 1,000 widgets
on a cluster, `make bench-widgets`): the CPU a poll costs and the report's rows."""

from __future__ import annotations

import math

from scripts import bench_widgets as bw


def phase(name: str, polling: str, polls: int, cores: float) -> bw.Phase:
    p = bw.Phase(name, polling, seconds=60.0, server_cores=cores)
    p.polls_ms = [2.0] * polls
    p.turns_ms = [150.0, 300.0]
    return p


def test_cpu_per_poll_is_the_cpu_above_the_patients_only_phase_over_the_polls():
    reference = phase("patients only", "", 0, 0.40)
    polling = phase("polling", "count", 19_800, 0.73)
    assert math.isclose(polling.cpu_per_poll_ms(reference), 0.33 * 60 / 19_800 * 1000)
    quieter = phase("polling", "count", 100, 0.30)  # noise below the reference is no negative cost
    assert quieter.cpu_per_poll_ms(reference) == 0.0
    assert math.isnan(reference.cpu_per_poll_ms(reference))


def test_the_report_has_one_row_per_phase_and_says_what_staff_replies_took():
    reference = phase("patients only", "", 0, 0.40)
    polling = phase("polling", "count", 19_800, 0.73)
    polling.staff_sent, polling.seen_after_s = 3, [1.0, 2.0, 3.5]
    unseen = phase("polling, whole reads", "whole", 19_000, 1.50)
    unseen.staff_sent = 2
    text = bw.report([reference, polling, unseen], widgets=1000, patients=20, command="cmd", seconds=300)
    rows = [line for line in text.splitlines() if line.startswith("| polling") or line.startswith("| patients")]
    assert len(rows) == 3
    assert "2.0 s / 3.5 s (3 of 3)" in rows[1]
    assert "none of 2" in rows[2]
    assert "| — |" in rows[0]  # no polls: no CPU per poll
