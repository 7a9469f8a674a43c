"""Rasa's NLU verdict for a list of texts, in bulk, without starting a server.

Run with the Rasa environment (`.venv-rasa/bin/python scripts/nlu_parse.py MODEL IN.json OUT.json`):
IN holds a JSON list of strings, OUT gets a JSON object mapping each text to
{"intent", "confidence", "entities"}. `scripts/bench_understanding.py` uses it to replay the
assistant's whole routing (NLU, then the action server's checks) in one process per environment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any


async def _parse(model: str, texts: list[str]) -> dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    out: dict[str, Any] = {}
    for text in texts:
        parsed = await agent.parse_message(text)
        intent = parsed.get("intent") or {}
        out[text] = {
            "intent": intent.get("name"),
            "confidence": float(intent.get("confidence") or 0.0),
            "entities": [{"entity": e.get("entity"), "value": e.get("value")} for e in parsed.get("entities") or []],
        }
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    logging.disable(logging.WARNING)
    model, src, dst = argv
    texts = json.loads(Path(src).read_text(encoding="utf-8"))
    result = asyncio.run(_parse(model, [t for t in texts if isinstance(t, str)]))
    Path(dst).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
