"""Conversation level: Rasa's own checks on the project, run with the project's Rasa environment.

- `rasa data validate`: domain, NLU data, rules and stories agree (no warnings allowed).
- `rasa test core` on tests/conversations/*.yml: every story (each path and the digressions) is
  predicted exactly, NLU included.
"""

from __future__ import annotations

import subprocess

import pytest

from core.settings import PROJECT_ROOT
from tests.rasa_env import run_in_rasa

pytestmark = pytest.mark.slow
RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
AS_SERVED = "from bot import model_loading; model_loading.install(); from rasa.__main__ import main; main()"
"""`rasa ARGS` with the model loaded the way bot.rasa_run loads it for patients (bot/model_loading.py)."""
MODEL = PROJECT_ROOT / "var" / "rasa" / "models" / "meso.tar.gz"
GENERATED = PROJECT_ROOT / "var" / "rasa" / "data"


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    if not RASA.exists() or not MODEL.exists():
        pytest.fail("needs .venv-rasa and a trained model: run `make test` (it trains first)")
    return run_in_rasa(AS_SERVED, *args, timeout=timeout, check=False)


def test_rasa_data_validate_is_clean():
    out = rasa(
        "data",
        "validate",
        "--fail-on-warnings",
        "--config",
        "config.yml",
        "--domain",
        "bot/domain.yml",
        "--data",
        "bot/data",
        str(GENERATED),
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]


def test_conversation_stories_pass(tmp_path):
    out = rasa(
        "test",
        "core",
        "--model",
        str(MODEL),
        "--stories",
        "tests/conversations",
        "--endpoints",
        str(PROJECT_ROOT / "var" / "rasa" / "endpoints.yml"),
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
    )
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text() if failed.exists() else ""
    assert out.returncode == 0, detail + out.stdout[-3000:] + out.stderr[-3000:]
