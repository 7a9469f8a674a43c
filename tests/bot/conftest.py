"""Fixtures for the channels' small tables (widget sessions, feedback, call-back contacts): each store's
tests run on SQLite and on a throwaway database of the local PostgreSQL (marked `postgres` by
tests/conftest.py through the `db_url` parameter)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import PSQL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """An empty database of the test's own: the store creates its tables on first use."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'channels.db'}"
        return
    name = f"meso_channels_{uuid.uuid4().hex[:8]}"
    subprocess.run([*PSQL, f"create database {name}"], capture_output=True, check=True, timeout=30)
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        subprocess.run([*PSQL, f"drop database if exists {name} with (force)"], capture_output=True, timeout=30)
