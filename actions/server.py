"""Starts the action server: loads the knowledge index and clinic facts first (so the first
patient does not wait), then serves Rasa's action webhook.

    python -m actions.server [--port 5055]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time


def main(argv: list[str] | None = None) -> int:
    from core.settings import get_settings

    settings = get_settings()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=settings.action_port)
    ap.add_argument("--host", default=settings.bind_host)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [actions] %(levelname)s %(message)s")
    logging.getLogger("sanic").setLevel(logging.WARNING)

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
    import os

    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions.actions")
    os.environ.setdefault("SANIC_HOST", args.host)
    run(executor, port=args.port, auto_reload=False, endpoints=str(settings.rasa_run_dir / "endpoints.yml"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
