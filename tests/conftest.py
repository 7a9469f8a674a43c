"""Shared fixtures. The embedding model and the real index are built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared"


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
