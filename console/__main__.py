"""Staff console commands.

python -m console serve                          # the console on MESO_CONSOLE_PORT (8000)
python -m console create-admin USERNAME          # asks for the password twice
python -m console create-user USERNAME --role clinician [--password-stdin]
python -m console migrate                        # bring the console's tables up to date
python -m console purge                          # retention purge + at-rest redaction now (for cron)
python -m console erase SENDER_ID                # erase one patient's data (audited)
"""

from __future__ import annotations

import argparse
import getpass
import sys

from core.settings import Settings, get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the console")
    sub.add_parser("migrate", help="apply the database migrations")
    sub.add_parser("purge", help="run the retention purge and at-rest redaction now")
    sub.add_parser("erase", help="erase one patient's data everywhere (audited)").add_argument("sender_id")
    for name in ("create-admin", "create-user"):
        cmd = sub.add_parser(name, help=f"{name.replace('-', ' ')} (password asked, or read from stdin)")
        cmd.add_argument("username")
        if name == "create-user":
            cmd.add_argument("--role", choices=["clinician", "reviewer", "admin"], required=True)
        cmd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        print(f"error: invalid settings: {exc}", file=sys.stderr)
        return 1

    if args.command == "serve":
        import uvicorn

        from console.app import create_app

        # no access log: paths and query strings carry sender ids and search text (patient data)
        uvicorn.run(
            create_app(settings),
            host=settings.bind_host,
            port=settings.console_port,
            log_level="info",
            access_log=False,
        )
        return 0
    if args.command == "migrate":
        from console.db import migrate

        migrate(settings.console_db_url)
        print("console database is up to date")
        return 0
    if args.command in ("purge", "erase"):
        return _patient_data(args.command, settings, getattr(args, "sender_id", ""))

    from console.accounts import AccountError, create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    role = "admin" if args.command == "create-admin" else args.role
    try:
        user = create_user(settings.console_db_url, args.username, password, role)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.role} {user.username!r}")
    return 0


def _patient_data(command: str, settings: Settings, sender_id: str) -> int:
    """`purge` and `erase`, audited with the actor cli:<os user>."""
    from console import erasure, retention
    from console.db import migrate, session_factory

    try:
        actor = f"cli:{getpass.getuser()}"[:64]
    except (OSError, KeyError):
        actor = "cli"
    migrate(settings.console_db_url)
    with session_factory(settings.console_db_url)() as db:
        if command == "purge":
            report = retention.run(db, settings, actor)
            print(f"purged {report.purged.expired} conversations older than {report.purged.cutoff:%Y-%m-%d %H:%M} UTC")
            print("removed", ", ".join(f"{k}={v}" for k, v in report.purged.removed.counts().items()))
            if report.redacted is not None:
                print(f"redacted {report.redacted.events} stored messages, {report.redacted.alerts} alerts")
            return 0
        removed = erasure.erase(db, settings, sender_id, actor)
    if not removed.anything:
        print(f"error: nothing is stored for {sender_id!r}", file=sys.stderr)
        return 1
    print(f"erased {sender_id!r}:", ", ".join(f"{k}={v}" for k, v in removed.counts().items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
