"""The turn benchmark's report, from measurements made up here (the benchmark itself trains two
Rasa models and takes minutes): every section is there, the numbers land in the right rows, and
the report goes between its own markers."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from scripts import bench_turns as bt
from scripts.benchlib import read_section


def made_up_bench(tmp_path: Path) -> bt.Bench:
    args = argparse.Namespace(passes=1, cases=str(tmp_path / "dev.jsonl"), report=str(tmp_path / "r.md"))
    project = bt.Project(config={}, domain={}, intents=["greet"], custom_actions={"action_answer"}, has_override=True)
    conversations = [bt.Conversation("c1", ["does it hurt", "and the cost?"])]
    bench = bt.Bench(args, conversations, project, tmp_path, train_real_s=None, train_bare_s=42.0)
    done = subprocess.Popen(["true"])
    done.wait()
    bench.real = bt.Server(bt.REAL, 5005, done, tmp_path / "run.log", launch_to_ready_s=30.0, self_reported_s=25.0)
    bench.bare = bt.Server(bt.BARE, 5006, done, tmp_path / "bare.log", launch_to_ready_s=20.0)
    for server, base in ((bench.real, 50.0), (bench.bare, 20.0)):
        server.launch_to_webhook_s = server.launch_to_ready_s
        server.first_turn_ms = base * 2
        for k in range(len(conversations[0].turns)):
            server.samples.append(bt.Sample(server.name, 0, "c1", k, "s", base + k * 10, 0.0, 0.0, True, "answer"))
    bench.real.samples.append(bt.Sample(bt.REAL, 0, "c1", 2, "s", 999.0, 0.0, 0.0, False))
    bench.mem = [("Rasa server (real)", 1, 600.0, 700.0), ("action server (real)", 2, 400.0, 450.0)]
    bench.load = {"latency run": 0.5}
    bench.breakdown[bt.REAL].action_direct_by_name["action_answer"] = [12.0]
    bench.total_s = 120.0
    return bench


def test_report_has_every_section_with_the_measured_numbers(tmp_path: Path) -> None:
    text = bt.report(made_up_bench(tmp_path))
    for heading in (
        "## Turns through the REST channel",
        "### Per-turn latency",
        "### Where the time of a turn goes",
        "### Training and start-up",
        "### Memory after the latency run",
        "### Other load on the machine",
        "### Against the targets",
    ):
        assert heading in text
    assert "| real assistant | 2 | 55.0 ms | 59.5 ms | 60.0 ms | 55.0 ms | 1 |" in text  # one failed request
    assert "| bare Rasa bot | 2 | 25.0 ms | 29.5 ms | 30.0 ms | 25.0 ms | 0 |" in text
    assert "not measured (`--skip-train`) | 42 s |" in text
    assert "| real assistant, total | 1,000 MiB | 1,150 MiB |" in text
    assert "**The machine was not quiet during the latency run** (0.50 cores" in text
    assert "real assistant turn p50: 55.0 ms (target <= 60 ms): **met**" in text
    assert "| action server alone: `action_answer` (1) | 12.0 ms | |" in text


def test_report_goes_into_the_turns_section(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n<!-- bench:console -->\nconsole\n<!-- /bench:console -->\n")
    bt.write_section(report, "turns", bt.report(made_up_bench(tmp_path)))
    text = report.read_text()
    assert text.index("<!-- bench:turns -->") < text.index("<!-- bench:console -->")
    assert (read_section(report, "turns") or "").startswith("## Turns through the REST channel")
