"""What the benchmark scripts (scripts/bench_*.py) and the end-to-end tests (tests/e2e/conftest.py)
share: starting and stopping server processes, free ports, waiting for a port or URL, memory and
CPU load from /proc, the machine's description, and the report's sections.

Report sections: each benchmark owns one section of docs/benchmarks.md between
`<!-- bench:NAME -->` and `<!-- /bench:NAME -->` and replaces only that; sections are kept in the
order of SECTIONS under the report's title.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT_TITLE = "# Benchmarks"
SECTIONS = (
    "retrieval",
    "turns",
    "turn-cost",
    "cluster",
    "faults",
    "widgets",
    "console",
    "understanding-heldout",
    "understanding-train",
)
"""Every benchmark's section name, in the order they appear in the report."""


# --- ports ----------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def wait_port_free(port: int, timeout: float = 5.0) -> bool:
    """True once nothing listens on the port any more (False if something still does after `timeout`)."""
    deadline = time.monotonic() + timeout
    while port_open(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def url_answers(url: str, timeout: float = 1.0) -> bool:
    """True when a GET of the URL answers 2xx; False for anything else, a garbled answer included (while a
    server is still starting, a probe of its port can even connect to itself and read its own request back)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (OSError, urllib.error.HTTPError, http.client.HTTPException, ValueError):
        return False


def wait_until(
    ready: Callable[[], bool], *, timeout: float, proc: subprocess.Popen | None = None, what: str = "the server"
) -> float:
    """Polls `ready` until it is true; seconds it took. Raises RuntimeError when `proc` exits first
    or after `timeout`."""
    t0 = time.monotonic()
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        if ready():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{what} was not ready after {timeout:.0f} s")
        time.sleep(0.05)


# --- processes ------------------------------------------------------------------------------------


def own_session() -> None:
    """Popen's preexec_fn for a server stopped with Ctrl-C: a session (process group) of its own, and SIGINT
    back to its default. A process started from a background job of a non-interactive shell inherits SIGINT
    ignored, and a shell script cannot trap a signal ignored at its start: scripts/run.sh would then keep
    restarting the servers that Ctrl-C stopped instead of stopping with them."""
    os.setsid()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_group(proc: subprocess.Popen, stop_signal: int = signal.SIGINT, timeout: float = 30.0) -> bool:
    """Stops a process started in its own session (`own_session`) and everything it started: the stop
    signal to its process group, SIGKILL after `timeout`, then SIGKILL to whatever is left of the
    group. True when the stop signal alone ended the process and, within 2 s, every process of its
    group (nothing had to be killed)."""
    clean = True
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, stop_signal)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            clean = False
    if clean:
        deadline = time.monotonic() + 2.0
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        clean = not group_members(proc.pid)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    for _ in range(50):  # a process group id stays reserved while any member lives
        if not group_members(proc.pid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.1)
    return clean


class Processes:
    """Every process a benchmark starts, each in its own session (process group), so that one
    os.killpg reaches the process and everything it started; stop_all() in a finally block."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stop_signal: dict[int, int] = {}

    def start(
        self, cmd: Sequence[str | Path], *, log: Path, cwd: Path, env: dict[str, str], stop_signal: int = signal.SIGINT
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                [str(c) for c in cmd], cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, preexec_fn=own_session
            )
        self.procs.append(proc)
        self.stop_signal[proc.pid] = stop_signal
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
        stop_group(proc, self.stop_signal.get(proc.pid, signal.SIGINT), timeout)
        if proc.poll() is None:
            print(f"warning: process {proc.pid} did not exit", flush=True)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.procs)):
            self.stop(proc)

    def run_timed(self, cmd: Sequence[str | Path], *, log: Path, cwd: Path, env: dict[str, str]) -> float:
        """Runs a command to completion (its own process group, stopped with the others on
        Ctrl-C); wall time in s. RuntimeError with the log's last lines when it fails."""
        t0 = time.perf_counter()
        proc = self.start(cmd, log=log, cwd=cwd, env=env, stop_signal=signal.SIGTERM)
        rc = proc.wait()
        elapsed = time.perf_counter() - t0
        self.procs.remove(proc)
        if rc != 0:
            raise RuntimeError(
                f"{' '.join(map(str, cmd))} failed with exit code {rc}; last lines of {log}:\n{tail(log)}"
            )
        return elapsed


def tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- signals --------------------------------------------------------------------------------------

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_stop_signals() -> None:
    """Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt, so a benchmark stops through its clean-up (SIGINT
    set too: a process started in the background may get it ignored)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_interrupt)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Stop signals ignored inside (a clean-up runs to its end), raising KeyboardInterrupt again after."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    try:
        yield
    finally:
        interrupt_on_stop_signals()


# --- /proc ----------------------------------------------------------------------------------------


def proc_stats() -> dict[int, list[str]]:
    """pid -> the fields of /proc/<pid>/stat after the command name (index 0 is the state, 1 the
    parent pid, 2 the process group, 11-14 utime, stime, cutime, cstime)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            out[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            continue
    return out


def group_members(pgid: int) -> list[int]:
    """The live processes of a process group (zombies, already dead, left out)."""
    return sorted(p for p, f in proc_stats().items() if int(f[2]) == pgid and f[0] != "Z")


def children(pid: int) -> list[int]:
    """Direct children of pid."""
    return sorted(p for p, f in proc_stats().items() if int(f[1]) == pid)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB; (0, 0) once it has gone."""
    values = {}
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def descendants(pid: int) -> list[int]:
    """Every live process started, directly or not, by pid (itself left out)."""
    stats = proc_stats()
    kids: dict[int, list[int]] = {}
    for p, f in stats.items():
        kids.setdefault(int(f[1]), []).append(p)
    out, todo = [], list(kids.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return sorted(out)


def cpu_ticks(pids: Sequence[int]) -> int:
    """User and system CPU the processes have used so far, in clock ticks (a process gone counts 0)."""
    stats = proc_stats()
    return sum(sum(int(x) for x in stats[p][11:13]) for p in pids if p in stats)


class CpuByServer:
    """CPU each server of a running assistant uses during a phase, found among its launcher and the launcher's
    descendants by command line (`servers`: name -> words of the command line)."""

    tick = os.sysconf("SC_CLK_TCK")

    def __init__(self, launcher: int, servers: dict[str, str]) -> None:
        family = [launcher, *descendants(launcher)]
        self.pids = {name: [p for p in family if word in cmdline(p)] for name, word in servers.items()}
        self.start = {name: cpu_ticks(pids) for name, pids in self.pids.items()}

    def seconds(self) -> dict[str, float]:
        """CPU seconds per server since the meter started."""
        return {name: (cpu_ticks(pids) - self.start[name]) / self.tick for name, pids in self.pids.items()}


class LoadMeter:
    """How much CPU the rest of the machine used during a phase: all busy time (/proc/stat) minus
    this process's own (itself and every descendant, including reaped children), in cores."""

    tick = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.t0, self.busy0, self.ours0 = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, int, int]:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
        busy = user + nice + system + irq + softirq + steal
        stats = proc_stats()
        kids: dict[int, list[int]] = {}
        for pid, f in stats.items():
            kids.setdefault(int(f[1]), []).append(pid)
        ours, todo = 0, [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in stats:
                ours += sum(int(x) for x in stats[pid][11:15])
            todo += kids.get(pid, [])
        return time.monotonic(), busy, ours

    def machine(self) -> float:
        """Average number of cores busy on the whole machine since the meter started (every process)."""
        t1, busy1, _ = self._snapshot()
        return (busy1 - self.busy0) / self.tick / max(t1 - self.t0, 1e-9)

    def others(self) -> float:
        """Average number of cores busy with other processes since the meter started."""
        t1, busy1, ours1 = self._snapshot()
        foreign = max(0, (busy1 - self.busy0) - (ours1 - self.ours0))
        return foreign / self.tick / max(t1 - self.t0, 1e-9)


# --- the machine ----------------------------------------------------------------------------------


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
    """The short commit the benchmark ran at, "+dirty" with uncommitted changes to tracked files."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        return "uncommitted"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# --- the report -----------------------------------------------------------------------------------


def markers(name: str) -> tuple[str, str]:
    if name not in SECTIONS:
        raise ValueError(f"unknown benchmark section {name!r}: add it to SECTIONS in scripts/benchlib.py")
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def write_section(report: Path, name: str, body: str) -> None:
    """Puts `body` between the section's markers in the report: in place of the section's previous
    text, or, when the report has none yet, after the sections that come before it in SECTIONS."""
    begin, end = markers(name)
    block = f"{begin}\n{body.strip()}\n{end}"
    text = report.read_text() if report.exists() else f"{REPORT_TITLE}\n"
    start = text.find(begin)
    stop = text.find(end, start) if start >= 0 else -1
    if start >= 0 and stop >= 0:
        text = text[:start] + block + text[stop + len(end) :]
    else:
        at = _insertion_point(text, name)
        before, after = text[:at].rstrip("\n"), text[at:].lstrip("\n")
        text = before + "\n\n" + block + "\n" + ("\n" + after if after else "")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(text if text.endswith("\n") else text + "\n")


def _insertion_point(text: str, name: str) -> int:
    """After the end marker of the last section ordered before `name`, else before the first one
    ordered after it, else at the end."""
    index = SECTIONS.index(name)
    for earlier in reversed(SECTIONS[:index]):
        end = markers(earlier)[1]
        if end in text:
            return text.index(end) + len(end)
    for later in SECTIONS[index + 1 :]:
        begin = markers(later)[0]
        if begin in text:
            return text.index(begin)
    return len(text)


def read_section(report: Path, name: str) -> str | None:
    """The text between a section's markers, or None when the report has no such section."""
    begin, end = markers(name)
    text = report.read_text() if report.exists() else ""
    start = text.find(begin)
    stop = text.find(end, start) if start >= 0 else -1
    return text[start + len(begin) : stop].strip() if start >= 0 and stop >= 0 else None
