"""Starts the cluster's processes, restarts one that exits while the others keep serving, and stops them all.

The same policy as scripts/run.sh: a process that exits is started again after a delay that doubles on each
exit (1, 2, 4 ... 30 s) and goes back to 1 s once it has stayed up a minute; each exit, restart and return to
health is one log line. Processes stay in the launcher's process group, so Ctrl-C in the terminal reaches every
one of them at once; `stop_all` then ends whatever is left (SIGTERM, SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scripts.benchlib import url_answers

MAX_BACKOFF = 30.0
UP_RESET = 60.0
RECHECK = 2.0
"""Seconds between two health probes of a restarted process that is not answering yet."""


class StartFailed(RuntimeError):
    """A process exited, or did not answer its health URL in time, while the cluster was starting."""


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    env: Mapping[str, str]
    log: Path
    health: Callable[[], bool]
    """True once the process serves (its health URL answers)."""


def http_health(url: str) -> Callable[[], bool]:
    return lambda: url_answers(url)


@dataclass
class Running:
    """One service's process and its restart state."""

    service: Service
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    delay: float = 1.0
    due: float | None = None
    """When an exited process is started again (None while it runs)."""
    waiting: bool = False
    """Restarted, not answering its health URL yet."""
    checked: float = 0.0
    history: list[int] = field(default_factory=list)
    """The process ids it has had, oldest first."""


class Supervisor:
    def __init__(self, cwd: Path, say: Callable[[str], None]) -> None:
        self.cwd = cwd
        self.say = say
        self.running: dict[str, Running] = {}

    # -- starting ------------------------------------------------------------------------------------

    def launch(self, service: Service) -> Running:
        """Starts (or starts again) a service, its output appended to its log."""
        state = self.running.setdefault(service.name, Running(service))
        with service.log.open("ab") as log:
            state.process = subprocess.Popen(
                service.argv, cwd=self.cwd, env=dict(service.env), stdout=log, stderr=subprocess.STDOUT
            )
        state.started = time.monotonic()
        state.history.append(state.process.pid)
        return state

    def wait_ready(self, names: Iterable[str], timeout: float) -> None:
        """Waits until each named service answers its health check; StartFailed when one exits or time runs out."""
        pending = list(names)
        deadline = time.monotonic() + timeout
        while pending:
            for name in list(pending):
                state = self.running[name]
                assert state.process is not None
                if state.process.poll() is not None:
                    raise StartFailed(
                        f"{name} exited with code {state.process.returncode} while starting; its log: "
                        f"{state.service.log} (last lines below)\n{tail(state.service.log)}"
                    )
                if state.service.health():
                    pending.remove(name)
                    self.say(f"{name} ready")
            if pending and time.monotonic() > deadline:
                raise StartFailed(
                    f"{', '.join(pending)} did not become ready in {timeout:.0f} s; logs in {self.logs_of(pending)}"
                )
            if pending:
                time.sleep(0.3)

    def logs_of(self, names: Iterable[str]) -> str:
        return ", ".join(str(self.running[n].service.log) for n in names)

    # -- watching ------------------------------------------------------------------------------------

    def tick(self) -> None:
        """One round of supervision: notice exits, restart what is due, notice returns to health."""
        now = time.monotonic()
        for name, state in self.running.items():
            process = state.process
            if state.due is None and process is not None:
                code = process.poll()
                if code is None:
                    if state.waiting and now - state.checked >= RECHECK:
                        state.checked = now
                        if state.service.health():
                            state.waiting = False
                            self.say(f"{name} ready again")
                    continue
                if now - state.started >= UP_RESET:
                    state.delay = 1.0
                how = f" (killed by signal {-code})" if code < 0 else ""
                self.say(
                    f"{name} exited with code {code}{how}; restarting in {state.delay:.0f} s. Log: {state.service.log}"
                )
                state.due = now + state.delay
                state.delay = min(state.delay * 2, MAX_BACKOFF)
                state.waiting = False
            elif state.due is not None and now >= state.due:
                state.due = None
                self.launch(state.service)
                state.waiting = True
                state.checked = now
                assert state.process is not None
                self.say(f"restarting {name} (pid {state.process.pid})")

    def supervise(self, interval: float = 0.5) -> None:
        """Forever (until KeyboardInterrupt or another exception)."""
        while True:
            self.tick()
            time.sleep(interval)

    # -- stopping ------------------------------------------------------------------------------------

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM to every live process (Ctrl-C may have reached them already), SIGKILL to any left after `grace`."""
        live = [s.process for s in self.running.values() if s.process is not None and s.process.poll() is None]
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in live:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(timeout=10)
        for state in self.running.values():
            state.due = None


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
