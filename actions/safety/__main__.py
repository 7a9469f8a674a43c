"""Command line for the safety layer.

python -m actions.safety lint     # check the reviewed catalogues and texts (exit 1 on an error)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["lint"]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    from actions.safety.lint import lint_all

    issues = lint_all()
    errors = [i for i in issues if i.level == "error"]
    warnings = [i for i in issues if i.level == "warning"]
    for issue in errors:
        print(issue)
    if warnings:
        print(f"{len(warnings)} rule(s) awaiting clinical review (reviewed.by is a placeholder)")
    print(f"safety lint: {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
