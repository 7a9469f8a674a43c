"""`python -m understanding lint` (the corpus) and `python -m understanding build` (the route
classifier, cached under var/understanding/)."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    if argv[:1] == ["lint"]:
        from understanding.corpus import lint

        problems = lint()
        for p in problems:
            print(f"corpus: {p}", file=sys.stderr)
        print(f"understanding corpus: {len(problems)} problem(s)")
        return 1 if problems else 0
    if argv[:1] == ["build"]:
        from understanding import router

        built = router.build(force="--force" in argv)
        print(f"route classifier {built.fingerprint}: {json.dumps(built.stats)}")
        return 0
    print("usage: python -m understanding lint | build [--force]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
