#!/usr/bin/env python
"""Pre-commit check on the files being committed: none larger than --max-kb (500 by default; a
model, a database or an index belongs in var/, built by the project, not in git) and none that
.gitignore excludes (added with `git add -f`: a generated file committed by mistake).

    .venv/bin/python scripts/check_added_files.py [--max-kb 500] FILE...
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def problems(files: list[str], max_kb: int) -> list[str]:
    out = []
    for name in files:
        path = Path(name)
        if path.is_file() and path.stat().st_size > max_kb * 1024:
            out.append(f"{name}: {path.stat().st_size // 1024} KB, over the {max_kb} KB limit")
    if files:
        ignored = subprocess.run(
            ["git", "ls-files", "-ci", "--exclude-standard", "--", *files], capture_output=True, text=True, check=False
        ).stdout.split()
        out += [f"{name}: matches .gitignore (generated?): git rm --cached {name}" for name in ignored]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--max-kb", type=int, default=500)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args(argv)
    found = problems(args.files, args.max_kb)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
