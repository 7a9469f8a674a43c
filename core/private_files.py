"""Owner-only data at rest: what the assistant keeps on disk (conversations in the SQLite tracker
database, the console's database with its audit log, the staff alerts file, the servers' logs, the
generated endpoints/credentials files with their secrets) is readable by the account that runs it and
nobody else on the host.

New files are owner-only because every server runs with umask 077 (scripts/run.sh, and the servers'
own entry points); `tighten` removes the group and other permissions from what an earlier version or
another tool left readable: files become 0600 (0700 if executable), folders 0700.

    python -m core.private_files     # scripts/run.sh runs it before starting the servers

Only the project's own folders are walked (var/, the Rasa run folder, the index folder); a database
or alerts file configured elsewhere is tightened itself, never the folder it lives in (that may be
/tmp or a shared volume).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings, get_settings

SQLITE_SIDECARS = ("", "-journal", "-wal", "-shm")
"""A SQLite database and the files SQLite keeps beside it."""


def sqlite_file(url: str | None) -> Path | None:
    """The file of an sqlite:///path URL (None for other databases)."""
    if not url or not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def private_folders(settings: Settings) -> list[Path]:
    """The project's own folders, walked whole."""
    return [PROJECT_ROOT / "var", settings.rasa_run_dir, settings.index_dir]


def private_files(settings: Settings) -> list[Path]:
    """Data files that may live anywhere: the alerts file and the SQLite databases (with their sidecars)."""
    files = [settings.alerts_file]
    for url in (settings.tracker_db_url, settings.console_db_url, settings.channel_db_url):
        database = sqlite_file(url)
        if database is not None:
            files += [database.with_name(database.name + suffix) for suffix in SQLITE_SIDECARS]
    return files


def _walk(folder: Path) -> Iterator[Path]:
    if not folder.is_dir() or folder.is_symlink():
        return
    yield folder
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            yield Path(root) / name


def _tighten_one(path: Path) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode) or not mode & 0o077:
        return False  # a link's target is not ours to change; already owner-only
    os.chmod(path, stat.S_IMODE(mode) & ~0o077)
    return True


def tighten(settings: Settings, extra: Iterable[Path] = ()) -> list[Path]:
    """Removes group and other permissions from the private folders (whole) and files; returns what changed."""
    changed: list[Path] = []
    seen: set[Path] = set()
    for folder in private_folders(settings):
        for path in _walk(folder):
            if path not in seen:
                seen.add(path)
                if _tighten_one(path):
                    changed.append(path)
    for path in [*private_files(settings), *extra]:
        if path not in seen and _tighten_one(path):
            changed.append(path)
    return changed


if __name__ == "__main__":
    done = tighten(get_settings())
    if done:
        print(f"made {len(done)} files and folders owner-only (first: {done[0]})", file=sys.stderr)
