"""A small client for Rasa's HTTP API (enabled with MESO_RASA_TOKEN): what the staff side needs
to hand a conversation back to the assistant.

    python -m core.rasa_api handback SENDER_ID
"""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from typing import Any

from core.settings import Settings, get_settings


class RasaApiError(RuntimeError):
    pass


def _post_events(settings: Settings, sender_id: str, events: list[dict[str, Any]]) -> None:
    if not settings.rasa_token:
        raise RasaApiError("MESO_RASA_TOKEN is not set, so Rasa's HTTP API is not enabled")
    sender = urllib.parse.quote(sender_id, safe="")
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{sender}/tracker/events?" + urllib.parse.urlencode(
        {"token": settings.rasa_token, "include_events": "NONE"}
    )
    req = urllib.request.Request(
        url, data=json.dumps(events).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        urllib.request.urlopen(req, timeout=10).close()
    except OSError as exc:
        raise RasaApiError(f"Rasa at {settings.rasa_url} refused the events: {exc}") from exc


def hand_back(sender_id: str, settings: Settings | None = None) -> None:
    """Ends a handoff: the assistant answers this patient again."""
    _post_events(
        settings or get_settings(),
        sender_id,
        [
            {"event": "slot", "name": "handoff", "value": False},
            {"event": "slot", "name": "handoff_reason", "value": None},
            {"event": "slot", "name": "hold_notices", "value": 0.0},
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "handback":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        hand_back(sys.argv[2])
    except RasaApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"{sys.argv[2]}: handed back to the assistant")
