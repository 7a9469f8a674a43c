"""The cluster capacity benchmark's pure parts (scripts/bench_cluster.py; the benchmark itself starts clusters and
runs Locust for an hour): a step read from Locust's CSV files, the capacity chosen from the steps, the report's
table; and the load test's lock, kept out of the project's environments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.settings import PROJECT_ROOT
from scripts import bench_cluster as bc
from scripts.benchlib import read_section, write_section
from tests.scripts.test_locks import not_in_lock, read_lock

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def step(patients: int, p95: float, failures: int = 0, turns_per_s: float = 1.0) -> bc.Step:
    return bc.Step(patients, 100, turns_per_s, p95 / 2, p95, 400, failures)


def test_a_step_is_read_from_locusts_csv_files(tmp_path: Path) -> None:
    prefix = tmp_path / "rasa1-50"
    (tmp_path / "rasa1-50_stats.csv").write_text(
        f"{HEADER}\n"
        "POST,patient turn,420,2,180,230.5,40,2100,900,4.67,0.02,180,210,240,260,400,650,900,1100,2100,2100,2100\n"
        "GET,widget: poll,300,0,5,6,2,30,100,3.3,0,5,6,7,8,9,12,20,25,30,30,30\n"
        ",Aggregated,720,2,50,120,2,2100,500,8.0,0.02,50,150,200,220,300,500,800,1000,2100,2100,2100\n"
    )
    (tmp_path / "rasa1-50_failures.csv").write_text(
        "Method,Name,Error,Occurrences\n"
        "POST,patient turn,HTTP 502,1\n"
        "POST,patient turn,a warning sign without the urgent reply (kind answer),1\n"
    )
    got = bc.read_step(prefix, 50, generator_cores=0.25)
    assert got == bc.Step(
        50,
        turns=420,
        turns_per_s=4.67,
        p50_ms=180.0,
        p95_ms=650.0,
        requests=720,
        failures=2,
        reasons=(
            "1 × patient turn: HTTP 502",
            "1 × patient turn: a warning sign without the urgent reply (kind answer)",
        ),
        generator_cores=0.25,
    )
    assert not got.passed and not got.saturated  # failed requests, but fewer than 5 %


def test_a_step_without_turns_neither_passes_nor_goes_on(tmp_path: Path) -> None:
    (tmp_path / "s_stats.csv").write_text(
        f"{HEADER}\n,Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
    )
    got = bc.read_step(tmp_path / "s", 10)
    assert got.turns == 0 and got.p95_ms != got.p95_ms  # NaN
    assert not got.passed and got.saturated


def test_capacity_is_the_most_patients_under_one_second_without_failures() -> None:
    steps = [step(10, 120), step(25, 300), step(50, 480, failures=1), step(100, 990), step(150, 1000)]
    assert bc.capacity(steps) == steps[3]  # 50 had a failure; 150 is at the limit
    assert [s.saturated for s in steps] == [False, False, False, False, True]
    assert bc.capacity([step(10, 1500)]) is None
    assert bc.capacity([]) is None
    many_failures = step(25, 200, failures=21)  # over 5 % of the step's 400 requests
    assert many_failures.saturated and not many_failures.passed


def made_up_run() -> bc.Run:
    bare = bc.Target(bc.BARE, 1, steps=[step(10, 50, turns_per_s=1.0), step(100, 300, turns_per_s=9.8),
                                        step(150, 1200, turns_per_s=12.0)])  # fmt: skip
    one = bc.Target("1 Rasa", 1, 2, steps=[step(10, 200, turns_per_s=1.0), step(25, 1400, turns_per_s=2.0)])
    one.steps.append(step(100, 5000, failures=3))  # the reference step, run after the ladder stopped
    two = bc.Target("2 Rasa", 2, 2, steps=[step(10, 150, turns_per_s=1.0), step(100, 800, turns_per_s=4.9)])
    four = bc.Target("4 Rasa", 4, 2, error="the cluster (4 Rasa processes) was not ready after 900 s")
    return bc.Run(
        command=".venv/bin/python scripts/bench_cluster.py --report docs/benchmarks.md",
        plan=bc.FULL,
        targets=[bare, one, two, four],
        commit="abc1234",
        date="2026-01-01",
        cpu="Some CPU",
        cores=2,
        memory_gib=24,
        rasa="3.6.21",
        locust="2.47.0",
        seconds=3600,
    )


def test_the_report_table_has_capacity_per_core_against_the_bare_bot() -> None:
    text = bc.report(made_up_run())
    assert "`.venv/bin/python scripts/bench_cluster.py --report docs/benchmarks.md` at abc1234" in text
    assert "Some CPU, 2 cores, 24 GiB; Rasa 3.6.21, Locust 2.47.0" in text
    assert (
        "| bare Rasa bot (1 process, no action server, in-memory tracker) | 100 | 9.8 | 150 / 300 | 4.90 | 1 (itself) | 300 |"
        in text
    )
    assert "| 1 | 10 | 1.0 | 100 / 200 | 0.50 | 0.10× | 5000 (3 failed) |" in text
    # the ladder never went over the limit with 2 processes: its top is a lower bound
    assert "| 2 | ≥ 100 (the ladder's top) | 4.9 | 400 / 800 | 2.45 | 0.50× | 800 |" in text
    assert "| 4 | not measured | — | — | — | — | n/a |" in text
    slow = bc.Target("1 Rasa", 1, 2, steps=[step(10, 1200), step(100, 4000)])
    assert bc.capacity_cells(slow, 2, 4.9) == ["under 10", "—", "—", "—", "—"]
    assert "- 4 Rasa: the cluster (4 Rasa processes) was not ready after 900 s" in text
    assert "| 1 Rasa | 25 ✗ | 2.0 | 700 | 1400 | 400 | 0 | nan |" in text
    assert "2 action servers" in text and "--quick" not in text


def test_the_report_says_how_much_cpu_each_server_spends_per_turn_at_capacity() -> None:
    run = made_up_run()
    bare, one = run.targets[0], run.targets[1]
    # the bare bot at 9.8 turns/s used 0.098 cores: 10 ms a turn; the machine 0.196 cores in all
    bare.steps[1] = replace(bare.steps[1], server_cores=(("Rasa", 0.098),), machine_cores=0.196)
    # 1 Rasa at 1.0 turn/s: Rasa 40 ms, action servers 120 ms, console 2 ms, the machine 200 ms a turn
    one.steps[0] = replace(
        one.steps[0], server_cores=(("Rasa", 0.04), ("action servers", 0.12), ("console", 0.002)), machine_cores=0.2
    )
    text = bc.report(run)
    assert "| target | patients | Rasa | action servers | console | everything else | whole machine |" in text
    assert "| bare Rasa bot | 100 | 10.0 | — | — | 10.0 | 20.0 |" in text
    assert "| 1 Rasa | 10 | 40.0 | 120.0 | 2.0 | 38.0 | 200.0 |" in text
    assert "| 2 Rasa |" not in text.split("### CPU per turn")[1].split("### Steps")[0]  # not measured: no row
    assert "### CPU per turn" not in bc.report(made_up_run())  # no CPU measured, no table


def test_the_report_goes_into_its_own_section(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n<!-- bench:turns -->\nturns\n<!-- /bench:turns -->\n\n"
                      "<!-- bench:console -->\nconsole\n<!-- /bench:console -->\n")  # fmt: skip
    write_section(report, bc.SECTION, bc.report(made_up_run()))
    text = report.read_text()
    assert text.index("bench:turns -->") < text.index("bench:cluster -->") < text.index("bench:console -->")
    assert (read_section(report, "cluster") or "").startswith("## Cluster capacity under load")
    assert read_section(report, "console") == "console"


def test_locust_has_its_own_lock_outside_the_project_environments() -> None:
    req = PROJECT_ROOT / "requirements"
    assert not_in_lock(req / "load.txt", req / "load.lock") == []
    pins = read_lock(req / "load.lock")
    assert pins["locust"].hashes and all(pin.hashes for pin in pins.values())
    assert "locust" not in read_lock(req / "app.lock"), "CI installs app.lock: Locust stays in load.lock"
