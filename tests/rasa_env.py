"""Running a snippet in the Rasa server's own environment (.venv-rasa, Python 3.10) from a test: the project
on PYTHONPATH, no bytecode written; a missing environment fails the test with what to run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa(script: str, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python -c script args...` in .venv-rasa, from the project root; with `check`, the test fails unless it
    exits 0 (without it, the caller reads the exit code and the output)."""
    if not RASA_PYTHON.exists():
        pytest.fail("needs .venv-rasa: run `make setup`")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert not check or done.returncode == 0, done.stderr[-3000:]
    return done
