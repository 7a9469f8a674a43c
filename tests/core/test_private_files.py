"""core/private_files.py makes what an earlier run left world-readable owner-only: the project's own
folders whole, and data files wherever they are configured (never a folder outside the project)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core import private_files
from core.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_data_files_and_project_folders_become_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = tmp_path / "project"
    monkeypatch.setattr(private_files, "PROJECT_ROOT", project)
    run_dir = project / "var" / "rasa"
    (run_dir / "logs").mkdir(parents=True)
    shared = tmp_path / "shared"  # a folder outside the project, e.g. /srv or /tmp
    shared.mkdir()
    files = {
        "tracker": run_dir / "tracker.db",
        "wal": run_dir / "tracker.db-wal",
        "log": run_dir / "logs" / "rasa.log",
        "endpoints": run_dir / "endpoints.yml",
        "console": shared / "console.db",
        "console-journal": shared / "console.db-journal",
        "alerts": shared / "alerts.jsonl",
        "unrelated": shared / "someone-elses.txt",
    }
    for path in files.values():
        path.write_text("x")
        path.chmod(0o644)
    for folder in (project / "var", run_dir, run_dir / "logs", shared):
        folder.chmod(0o755)
    (run_dir / "link").symlink_to(files["unrelated"])
    settings = Settings(
        rasa_run_dir=run_dir,
        index_dir=project / "var" / "index",
        tracker_db_url=f"sqlite:///{files['tracker']}",
        console_db_url=f"sqlite:///{files['console']}",
        alerts_file=files["alerts"],
    )

    changed = private_files.tighten(settings)

    for name, path in files.items():
        assert mode(path) == (0o644 if name == "unrelated" else 0o600), name
    for folder in (project / "var", run_dir, run_dir / "logs"):
        assert mode(folder) == 0o700, folder
    assert mode(shared) == 0o755  # not ours: only our files in it are changed
    assert files["unrelated"] not in changed
    assert private_files.tighten(settings) == []  # nothing left to change


def test_only_sqlite_urls_name_files():
    assert private_files.sqlite_file("sqlite:////srv/meso/t.db") == Path("/srv/meso/t.db")
    assert private_files.sqlite_file("postgresql://u:p@h/db") is None
    assert private_files.sqlite_file(None) is None
