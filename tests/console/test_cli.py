"""The first admin is created from the command line; there is no default account or password."""

from __future__ import annotations

import io

from console.__main__ import main
from console.db import migrate, session_factory
from console.models import User


def test_fresh_database_has_no_accounts(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(url)
    with session_factory(url)() as db:
        assert db.query(User).count() == 0


def test_create_admin_reads_the_password_and_refuses_weak_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MESO_CONSOLE_DB_URL", f"sqlite:///{tmp_path / 'c.db'}")
    from core.settings import get_settings

    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert main(["create-admin", "owner", "--password-stdin"]) == 1
        assert "at least 12 characters" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO("a much better passphrase\n"))
        assert main(["create-admin", "owner", "--password-stdin"]) == 0
        assert "created admin 'owner'" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO("a much better passphrase\n"))
        assert main(["create-admin", "owner", "--password-stdin"]) == 1
        assert "taken" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
