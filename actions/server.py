"""Starts the action server: loads the knowledge index and clinic facts first (so the first
patient does not wait), then serves Rasa's action webhook.

    MESO_ACTION_SERVER_SECRET=... python -m actions.server [--port 5055] [--host 127.0.0.1]

The action server is private: only Rasa calls it. It listens on MESO_ACTION_BIND_HOST (loopback by
default, separate from MESO_BIND_HOST), sends no CORS headers (so no web page open in a browser on the
host can call it), and answers nothing but GET /health without the shared secret Rasa sends in
`Authorization: Bearer <MESO_ACTION_SERVER_SECRET>` (endpoints.yml, bot/rasa_config.py): a forged
tracker cannot write staff alerts. It refuses to start without a secret; scripts/run.sh makes a random
one per run when none is set. Files it creates are owner-only (umask 077).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic
    from sanic.request import Request
    from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

OPEN_ROUTES = frozenset({("GET", "/health"), ("HEAD", "/health")})
"""The only calls answered without the secret: the readiness probe of scripts/run.sh."""
MIN_SECRET = 16


def authorized(header: str | None, secret: str) -> bool:
    """Whether an Authorization header carries the shared secret; compared in constant time."""
    expected = f"Bearer {secret}".encode()
    given = (header or "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, expected)


def create_app(executor: ActionExecutor, secret: str) -> Sanic:
    """Rasa SDK's action webhook app with the secret required on every route but the health probe, and
    no CORS: the SDK's CORS extension is given no origin, and any Access-Control-* header is removed."""
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    if len(secret) < MIN_SECRET:
        raise ValueError(f"the action server's secret must have at least {MIN_SECRET} characters")
    app = sdk_app(executor, cors_origins=None, auto_reload=False)

    async def require_secret(request: Request) -> HTTPResponse | None:
        if (request.method, request.path) in OPEN_ROUTES or authorized(request.headers.get("authorization"), secret):
            return None
        log.warning("refused a %s %s without the action server's secret", request.method, request.path)
        return response.json({"error": "not authorized"}, status=401)

    async def no_cors(request: Request, answer: HTTPResponse) -> None:
        for name in [h for h in answer.headers if h.lower().startswith("access-control-")]:
            del answer.headers[name]

    # first of all request middleware (before the CORS extension's preflight answers), last on the way out
    app.register_middleware(require_secret, "request", priority=1000)
    app.register_middleware(no_cors, "response", priority=-1000)
    return app


def main(argv: list[str] | None = None) -> int:
    from core.settings import get_settings

    os.umask(0o077)
    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=settings.action_port)
    ap.add_argument("--host", default=settings.action_bind_host)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [actions] %(levelname)s %(message)s")
    logging.getLogger("sanic").setLevel(logging.WARNING)
    secret = settings.action_server_secret or ""
    if len(secret) < MIN_SECRET:
        print(
            f"[actions] cannot start: MESO_ACTION_SERVER_SECRET must be set (at least {MIN_SECRET} random characters; "
            "scripts/run.sh makes one per run): without it anyone who reaches this port could write staff alerts",
            file=sys.stderr,
        )
        return 2

    t0 = time.perf_counter()
    import torch

    # One thread per request: with the default (all cores) a single answer slows down badly as soon
    # as anything else uses a core (measured in scripts/bench_turns.py).
    torch.set_num_threads(1)
    from actions.services import get_services

    try:
        services = get_services()
    except Exception as exc:
        print(f"[actions] cannot start: {exc}", file=sys.stderr)
        return 1
    services.retriever.search("warm up")
    print(
        f"[actions] knowledge index ready: {len(services.passages)} passages, clinic {services.clinic.name!r} "
        f"({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    from rasa_sdk.constants import DEFAULT_KEEP_ALIVE_TIMEOUT
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions.actions")
    app = create_app(executor, secret)
    app.config.KEEP_ALIVE_TIMEOUT = DEFAULT_KEEP_ALIVE_TIMEOUT
    log.info("action server on http://%s:%s (secret required)", args.host, args.port)
    app.run(host=args.host, port=args.port, workers=1, legacy=True, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
