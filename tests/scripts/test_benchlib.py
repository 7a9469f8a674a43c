"""The helpers the benchmarks and the end-to-end tests share (scripts/benchlib.py): report sections
that replace only their own text and keep their order, and process groups that are stopped whole."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scripts.benchlib import (
    CpuByServer,
    Processes,
    free_port,
    group_members,
    port_open,
    read_section,
    stop_group,
    url_answers,
    wait_port_free,
    write_section,
)


def test_sections_replace_only_their_own_text(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text(
        "# Benchmarks\n\nIntro kept as written.\n\n<!-- bench:turns -->\nold turns\n<!-- /bench:turns -->\n\n"
        "<!-- bench:console -->\nconsole\n<!-- /bench:console -->\n\nA closing note.\n"
    )
    write_section(report, "turns", "## Turns\n\nnew turns")
    text = report.read_text()
    assert read_section(report, "turns") == "## Turns\n\nnew turns"
    assert "old turns" not in text
    assert text.startswith("# Benchmarks\n\nIntro kept as written.\n")
    assert read_section(report, "console") == "console" and text.endswith("A closing note.\n")


def test_new_sections_take_their_place_in_the_order(tmp_path: Path) -> None:
    report = tmp_path / "benchmarks.md"
    write_section(report, "console", "C")
    write_section(report, "retrieval", "R")
    write_section(report, "turns", "T")
    text = report.read_text()
    assert text.startswith("# Benchmarks\n")
    assert text.index("bench:retrieval") < text.index("bench:turns") < text.index("bench:console")
    write_section(report, "turns", "T again")
    assert report.read_text() == text.replace("\nT\n", "\nT again\n")


def test_the_real_report_has_every_section_once() -> None:
    report = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
    text = report.read_text()
    for name in ("retrieval", "turns", "cluster", "faults", "console"):
        assert text.count(f"<!-- bench:{name} -->") == 1 and text.count(f"<!-- /bench:{name} -->") == 1
        assert read_section(report, name)


def test_an_unknown_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown benchmark section"):
        write_section(tmp_path / "r.md", "tunrs", "typo")


def test_free_port_is_free_and_a_listener_is_seen() -> None:
    port = free_port()
    assert not port_open(port)
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert port_open(port)
        assert not wait_port_free(port, timeout=0.3)
    assert wait_port_free(port, timeout=2)


def test_stop_group_ends_the_process_and_its_children(tmp_path: Path) -> None:
    # A parent that starts a child and ignores nothing: both belong to the new process group.
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    for _ in range(100):
        if len(group_members(proc.pid)) == 2:
            break
        subprocess.run(["sleep", "0.05"])
    assert len(group_members(proc.pid)) == 2
    assert stop_group(proc, signal.SIGTERM, timeout=10)
    assert group_members(proc.pid) == [] and proc.returncode is not None


def test_a_process_that_ignores_the_stop_signal_is_killed_and_reported(tmp_path: Path) -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    assert stop_group(proc, signal.SIGINT, timeout=0.5) is False
    assert proc.returncode == -signal.SIGKILL and group_members(proc.pid) == []


def test_run_timed_reports_a_failing_command_with_its_log(tmp_path: Path) -> None:
    procs = Processes()
    log = tmp_path / "cmd.log"
    assert procs.run_timed([sys.executable, "-c", "print('fine')"], log=log, cwd=tmp_path, env={}) >= 0
    with pytest.raises(RuntimeError, match="exit code 3") as err:
        procs.run_timed(
            [sys.executable, "-c", "print('what went wrong'); raise SystemExit(3)"], log=log, cwd=tmp_path, env={}
        )
    assert "what went wrong" in str(err.value) and procs.procs == []


def test_a_garbled_answer_is_not_healthy_and_never_raises() -> None:
    """A port that answers with something other than HTTP (a probe connected to itself reads its own request
    back) is simply not up yet: the cluster's supervisor keeps waiting instead of crashing."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def echo() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(1024))

        thread = threading.Thread(target=echo, daemon=True)
        thread.start()
        assert url_answers(f"http://127.0.0.1:{port}/webhooks/rest/") is False
        thread.join(timeout=5)


def test_cpu_by_server_counts_each_servers_own_cpu_among_the_launchers_descendants() -> None:
    """A launcher (like scripts/run.sh) with a busy server and an idle one under it: the busy one's CPU is
    counted under its name, the idle one's stays near zero, a name with no process gets 0."""
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass\ntime.sleep(30)"
    idle = "import time; time.sleep(30)"
    launcher = subprocess.Popen(
        ["sh", "-c", f'{sys.executable} -c "{busy}" busy-server & {sys.executable} -c "{idle}" idle-server & wait'],
        start_new_session=True,
    )
    try:
        import time

        time.sleep(0.3)  # both started
        meter = CpuByServer(launcher.pid, {"busy": "busy-server", "idle": "idle-server", "absent": "no-such"})
        assert meter.pids["busy"] and meter.pids["idle"] and not meter.pids["absent"]
        time.sleep(2.5)
        used = meter.seconds()
        assert used["busy"] > 0.3 and used["idle"] < 0.1 and used["absent"] == 0.0
    finally:
        stop_group(launcher)
