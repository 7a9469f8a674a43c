"""Renders the Rasa server's endpoints.yml and credentials.yml from the typed settings (one source
of truth for ports, the tracker store and the lock store) into var/rasa/.

The tracker store is bot/tracker_store.py's `FailClosedSQLTrackerStore` (Rasa's SQL store, except
that a database failure is an error, never a silent switch to memory). Rasa 3.6 waits up to 5 minutes
for an action and reads no timeout from endpoints.yml (`RemoteAction.run` passes its own), so the
channels bound each turn instead (MESO_DIALOGUE_TIMEOUT_SECONDS, bot/channels/common.py).

    python -m bot.rasa_config      # prints the directory it wrote to
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from core.settings import Settings, get_settings

FAIL_CLOSED_STORE = "bot.tracker_store.FailClosedSQLTrackerStore"


def tracker_store(url: str, start_timeout: float = 60.0) -> dict[str, Any]:
    """The fail-closed SQL tracker store's settings from an SQLAlchemy-style URL."""
    parsed = urlparse(url)
    dialect = parsed.scheme.split("+")[0]
    if dialect == "sqlite":
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path:
            raise ValueError(f"tracker store URL {url!r}: use sqlite:///path/to/file.db")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {"type": FAIL_CLOSED_STORE, "dialect": "sqlite", "db": path, "start_timeout": start_timeout}
    if dialect in ("postgresql", "postgres"):
        store: dict[str, Any] = {
            "type": FAIL_CLOSED_STORE,
            "dialect": "postgresql",
            "url": parsed.hostname or "localhost",
            "port": parsed.port or 5432,
            "db": (parsed.path or "/rasa").lstrip("/") or "rasa",
        }
        if parsed.username:
            store["username"] = unquote(parsed.username)
        if parsed.password:
            store["password"] = unquote(parsed.password)
        store["start_timeout"] = start_timeout
        return store
    raise ValueError(f"tracker store URL {url!r}: only sqlite:/// and postgresql:// are supported")


def lock_store(url: str | None) -> dict[str, Any] | None:
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme != "redis":
        raise ValueError(f"lock store URL {url!r}: use redis://host:6379/1")
    store: dict[str, Any] = {
        "type": "redis",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int((parsed.path or "/1").lstrip("/") or 1),
    }
    if parsed.password:
        store["password"] = unquote(parsed.password)
    return store


def endpoints(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action_endpoint": {"url": settings.action_server_url},
        "tracker_store": tracker_store(settings.tracker_db_url, settings.tracker_start_timeout_seconds),
    }
    locks = lock_store(settings.lock_store_url)
    if locks:
        data["lock_store"] = locks
    return data


def credentials(settings: Settings) -> dict[str, Any]:
    """Only configured channels are listed; secrets are written to a file readable by its owner only."""
    deliveries = settings.channel_db_url or settings.tracker_db_url
    creds: dict[str, Any] = {
        # Strict REST channel (same URL as Rasa's stock one: /webhooks/rest/webhook)
        "bot.channels.rest.ValidatedRestInput": None,
        # The web widget and its API (/webhooks/webchat/)
        "bot.channels.webchat.WebChatInput": None,
        # Staff replies to handed-off conversations (/webhooks/staff/reply), authorised by the Rasa token
        "bot.channels.staff.StaffReplyInput": {"token": settings.rasa_token or ""},
    }
    if settings.telegram_enabled:
        creds["bot.channels.telegram.TelegramInput"] = {
            "access_token": settings.telegram_bot_token,
            "secret_token": settings.telegram_secret_token,
            "api_base": settings.telegram_api_base,
            "deliveries_db_url": deliveries,
        }
    if settings.whatsapp_enabled:
        creds["bot.channels.whatsapp.WhatsAppInput"] = {
            "access_token": settings.whatsapp_access_token,
            "phone_number_id": settings.whatsapp_phone_number_id,
            "app_secret": settings.whatsapp_app_secret,
            "verify_token": settings.whatsapp_verify_token,
            "api_base": settings.whatsapp_api_base,
            "template_name": settings.whatsapp_template_name or "",
            "template_language": settings.whatsapp_template_language,
            "deliveries_db_url": deliveries,
        }
    return creds


def write(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    out = settings.rasa_run_dir
    out.mkdir(parents=True, exist_ok=True)
    header = "# GENERATED from the settings (core/settings.py, MESO_* variables) by bot/rasa_config.py\n"
    (out / "endpoints.yml").write_text(header + yaml.safe_dump(endpoints(settings), sort_keys=False))
    creds = out / "credentials.yml"
    creds.touch(mode=0o600)
    creds.chmod(0o600)
    creds.write_text(header + yaml.safe_dump(credentials(settings), sort_keys=False))
    return out


if __name__ == "__main__":
    try:
        print(write())
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(1)
