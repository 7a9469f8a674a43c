"""The knowledge CLI as a clinic's maintainer uses it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, Settings


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "knowledge", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_lint_passes_on_the_real_knowledge_base() -> None:
    out = run("lint")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 error(s)" in out.stdout


@pytest.mark.slow
def test_search_prints_ranked_hits_and_decision(retriever, index_settings: Settings) -> None:
    out = run("search", "kitne sessions lagenge", env={"MESO_INDEX_DIR": str(index_settings.index_dir)})
    assert out.returncode == 0, out.stderr
    assert "decision:" in out.stdout and "number_of_sessions-" in out.stdout


@pytest.mark.slow
def test_search_without_index_and_no_rebuild_is_a_clear_error(tmp_path) -> None:
    out = run("search", "does it hurt", "--no-rebuild", env={"MESO_INDEX_DIR": str(tmp_path / "none")})
    assert out.returncode == 2
    assert "no index" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_eval_scores_an_evaluation_file(retriever, index_settings: Settings, shared_dir) -> None:
    out = run("eval", str(shared_dir / "eval" / "dev.jsonl"), env={"MESO_INDEX_DIR": str(index_settings.index_dir)})
    assert out.returncode == 0, out.stderr
    assert "top1=" in out.stdout and "abstention=" in out.stdout
