"""The settings the Rasa server process itself needs (dialogue timeout, staff alerts), read from the
environment. Rasa runs in the Python 3.10 environment, which has no pydantic-settings, so it cannot
load core/settings.py; scripts/run.sh exports these variables from the typed settings (so `.env`
applies too), and the defaults below are the same as there (a test checks it).

Standard library only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.alerts import StaffAlerts

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIALOGUE_TIMEOUT = 8.0
MAX_DIALOGUE_TIMEOUT = 120.0
DEFAULT_ALERTS_FILE = PROJECT_ROOT / "var" / "alerts.jsonl"


@dataclass(frozen=True)
class RasaRuntime:
    dialogue_timeout: float
    """Seconds a channel waits for the dialogue before it answers by itself (MESO_DIALOGUE_TIMEOUT_SECONDS)."""
    alerts_file: Path
    staff_alert_url: str | None


def read_runtime(environ: Mapping[str, str]) -> RasaRuntime:
    """The runtime settings from environment variables; a value that is not valid is logged and the
    default is used instead (a bad timeout must never turn into no timeout)."""
    raw = environ.get("MESO_DIALOGUE_TIMEOUT_SECONDS", "").strip()
    timeout = DEFAULT_DIALOGUE_TIMEOUT
    if raw:
        try:
            timeout = float(raw)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= MAX_DIALOGUE_TIMEOUT:
            log.error(
                "MESO_DIALOGUE_TIMEOUT_SECONDS=%r is not a number of seconds in (0, %s]: using %s",
                raw,
                MAX_DIALOGUE_TIMEOUT,
                DEFAULT_DIALOGUE_TIMEOUT,
            )
            timeout = DEFAULT_DIALOGUE_TIMEOUT
    alerts = environ.get("MESO_ALERTS_FILE", "").strip()
    return RasaRuntime(
        dialogue_timeout=timeout,
        alerts_file=Path(alerts) if alerts else DEFAULT_ALERTS_FILE,
        staff_alert_url=environ.get("MESO_STAFF_ALERT_URL", "").strip() or None,
    )


def runtime() -> RasaRuntime:
    return read_runtime(os.environ)


@lru_cache(maxsize=4)
def _alerts(path: Path, url: str | None) -> StaffAlerts:
    from core.alerts import StaffAlerts

    return StaffAlerts(path, url)


def staff_alerts() -> StaffAlerts:
    """The staff alerts (file, and webhook when configured) as the action server writes them."""
    settings = runtime()
    return _alerts(settings.alerts_file, settings.staff_alert_url)
