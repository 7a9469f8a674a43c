"""Shared fixtures and the test tiers. The embedding model and the real index are built once per
session.

Markers, applied here by folder so no test file has to remember them:
- e2e: tests/e2e (the real servers through scripts/run.sh; need both environments and a trained
  model). Every e2e test is also slow.
- slow: builds or loads real models and indexes, or runs Rasa (set in the test files, and on e2e).
- postgres: needs the local PostgreSQL (the console tests' "postgresql" database parameter and
  tests/e2e/test_postgres_tracker.py). Without a reachable PostgreSQL they skip, saying why,
  unless MESO_REQUIRE_POSTGRES=1 (CI sets it), when they fail.

`make test-fast` runs `-m "not slow and not e2e and not postgres"`.

Temporary files (tmp_path) go to a fresh folder in /dev/shm when there is one: the console tests
create SQLite databases by the hundred, and on a disk each commit waits for fsync (the suite takes
about twice as long). The folder is removed at the end unless MESO_KEEP_TEST_TMP=1; pass
--basetemp to choose another place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared"
TESTS = Path(__file__).resolve().parent
POSTGRES_FILES = {"test_postgres_tracker.py"}
"""Test files that need PostgreSQL as a whole (besides tests parametrised with db_url=postgresql)."""
REQUIRE_POSTGRES = "MESO_REQUIRE_POSTGRES"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-tA", "-d", "postgres", "-c"]


SHM = Path("/dev/shm")
_OWN_BASETEMP = pytest.StashKey[Path]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """tmp_path in memory (before pytest's own tmp_path plugin reads --basetemp)."""
    if config.option.basetemp is None and SHM.is_dir() and os.access(SHM, os.W_OK):
        config.option.basetemp = tempfile.mkdtemp(prefix="meso-tests-", dir=SHM)
        config.stash[_OWN_BASETEMP] = Path(config.option.basetemp)


def pytest_unconfigure(config: pytest.Config) -> None:
    own = config.stash.get(_OWN_BASETEMP, None)
    if own is not None and os.environ.get("MESO_KEEP_TEST_TMP") != "1":
        shutil.rmtree(own, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(item.path).resolve().relative_to(TESTS).parts
        if parts[0] == "e2e":
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
        callspec = getattr(item, "callspec", None)
        if parts[-1] in POSTGRES_FILES or (callspec is not None and callspec.params.get("db_url") == "postgresql"):
            item.add_marker(pytest.mark.postgres)


@cache
def postgres_problem() -> str | None:
    """Why the local PostgreSQL (127.0.0.1:5432, user postgres) cannot be used, or None."""
    if shutil.which("psql") is None:
        return "the psql client is not installed"
    try:
        subprocess.run([*PSQL, "select 1"], capture_output=True, text=True, check=True, timeout=15)
    except subprocess.CalledProcessError as exc:
        return f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {exc.stderr.strip()}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"PostgreSQL at 127.0.0.1:5432 (user postgres) is not reachable: {exc}"
    return None


def need_postgres() -> None:
    """Skip the calling test when PostgreSQL is not reachable, or fail it when MESO_REQUIRE_POSTGRES=1."""
    problem = postgres_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(f"{problem} ({REQUIRE_POSTGRES}=1: PostgreSQL tests must run)")
    pytest.skip(f"{problem}; set {REQUIRE_POSTGRES}=1 to make this a failure")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture of a postgres test is set up (so no fixture fails for want of it)."""
    if item.get_closest_marker("postgres") is not None:
        need_postgres()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the real passages, with the index in a private temp folder."""
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def embedder():
    from knowledge.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def retriever(index_settings: Settings, embedder):
    """The real retriever on the real knowledge base (index built once for the session)."""
    from knowledge.retriever import Retriever

    return Retriever.open(index_settings, rebuild="always", embedder=embedder)
