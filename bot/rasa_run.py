"""Starts `rasa run` with its HTTP API protected by a JWT secret that is on no command line.

Rasa 3.6 reads `--jwt-secret` (and `--auth-token`) only from its command line, which `ps` shows to every
user of the host. This launcher reads the secret from MESO_RASA_TOKEN in its own environment (which only
the same user and root can read: /proc/<pid>/environ is mode 0400) and hands it to Rasa's argument parser
inside the process, so the command line `ps` shows is `python -m bot.rasa_run run --model ...` without it.
Rasa then accepts only a JWT signed with that secret in the Authorization header (HS256, made by
core/rasa_api.py); with no `--auth-token`, a `?token=` in the URL is refused.

    MESO_RASA_TOKEN=... .venv-rasa/bin/python -m bot.rasa_run run --model ... [other `rasa run` options]

Without MESO_RASA_TOKEN the HTTP API stays off and only the channels are served. A secret given on the
command line is refused. The process's files are created owner-only (umask 077). Before Rasa starts it
installs bot/action_validation.py (the action server's answers checked against a schema compiled once).
It also installs bot/model_loading.py (the trained model loaded without tracing a training graph) and
bot/event_types.py (each stored event's class found with a dictionary lookup). It runs in the Rasa environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

SECRET_VARIABLE = "MESO_RASA_TOKEN"
SECRET_OPTIONS = ("-t", "--auth-token", "--jwt-secret", "--jwt-private-key")
"""What would put a secret on the command line (or re-enable the URL token)."""


def rasa_argv(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Rasa's own argument list: `rasa run`, the API options with the secret, then the caller's options."""
    if not argv or argv[0] != "run":
        raise SystemExit("usage: python -m bot.rasa_run run [rasa run options]")
    for arg in argv:
        if arg.split("=", 1)[0] in SECRET_OPTIONS or arg == "--enable-api":
            raise SystemExit(
                f"bot.rasa_run: {arg.split('=', 1)[0]} is not accepted: the API secret comes from {SECRET_VARIABLE} "
                "in the environment, never from the command line"
            )
    secret = environ.get(SECRET_VARIABLE, "").strip()
    # "--jwt-secret=<secret>" in one argument: a random secret may start with "-", which argparse would
    # otherwise read as an option ("argument --jwt-secret: expected one argument") and Rasa would not start
    api = ["--enable-api", f"--jwt-secret={secret}", "--jwt-method", "HS256"] if secret else []
    return ["rasa", "run", *api, *argv[1:]]


def main() -> None:
    os.umask(0o077)  # the tracker database, logs and anything else Rasa writes: owner only
    sys.argv = rasa_argv(sys.argv[1:], os.environ)
    from rasa.__main__ import main as rasa_main

    from bot import action_validation, event_types, model_loading

    action_validation.install()  # the action server's answers checked with a compiled schema (about 30 ms less per turn)
    model_loading.install()  # the trained model loaded without tracing a training graph (about 25 s less per start)
    event_types.install()  # each stored event's class found with a dictionary lookup (about 4 ms less per 50 events read)
    rasa_main()


if __name__ == "__main__":
    main()
