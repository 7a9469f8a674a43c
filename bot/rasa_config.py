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
from core.web_origins import origin_of

FAIL_CLOSED_STORE = "bot.tracker_store.FailClosedSQLTrackerStore"


def tracker_store(url: str, start_timeout: float = 60.0) -> dict[str, Any]:
    """The fail-closed SQL tracker store's settings from an SQLAlchemy-style URL."""
    parsed = urlparse(url)
    dialect = parsed.scheme.split("+")[0]
    if dialect == "sqlite":
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if not path:
            raise ValueError(f"tracker store URL {url!r}: use sqlite:///path/to/file.db")
        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        # Rasa's Redis lock store that keeps answering (locks in each process) while Redis is down
        "type": "bot.lock_store.DegradingRedisLockStore",
        "url": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int((parsed.path or "/1").lstrip("/") or 1),
    }
    if parsed.password:
        store["password"] = unquote(parsed.password)
    return store


def action_endpoint(settings: Settings) -> dict[str, Any]:
    """Where Rasa calls the action server, with the shared secret the action server requires
    (actions/server.py); Rasa 3.6's `EndpointConfig` sends `headers` with every request."""
    endpoint: dict[str, Any] = {"url": settings.action_server_url}
    if settings.action_server_secret:
        endpoint["headers"] = {"Authorization": f"Bearer {settings.action_server_secret}"}
    return endpoint


def endpoints(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action_endpoint": action_endpoint(settings),
        "tracker_store": tracker_store(settings.tracker_db_url, settings.tracker_start_timeout_seconds),
    }
    locks = lock_store(settings.lock_store_url)
    if locks:
        data["lock_store"] = locks
    return data


def channel_limits(settings: Settings) -> dict[str, int]:
    """The channels' abuse limits (bot/channels/limits.py `Limits`), the same for every channel."""
    return {
        "per_address": settings.channel_rate_per_address,
        "auth_failures_per_address": settings.channel_auth_failures_per_address,
        "per_sender": settings.channel_rate_per_sender,
        "queue_per_sender": settings.channel_queue_per_sender,
        "per_key": settings.rest_rate_per_key,
        "messages_per_body": settings.whatsapp_messages_per_body,
        "trusted_proxies": settings.trusted_proxies,
    }


def rest_credentials(settings: Settings) -> dict[str, Any]:
    """The REST channel: its API keys' hashes (bot/channels/api_keys.py); without keys it is open in
    development and test only (the evaluation scorer and curl need no key) and off in production."""
    keys = settings.rest_api_key_hashes
    return {
        "api_keys": keys,
        "open_without_key": not keys and settings.env != "production",
        "limits": channel_limits(settings),
    }


def claims(settings: Settings) -> dict[str, float]:
    """How the messaging apps' channels take back messages a dead process claimed (bot/channels/recovery.py)."""
    return {
        "claim_lease_seconds": settings.claim_lease,
        "recovery_seconds": settings.channel_recovery_seconds,
    }


def credentials(settings: Settings) -> dict[str, Any]:
    """Only configured channels are listed; secrets are written to a file readable by its owner only."""
    deliveries = settings.channel_db_url or settings.tracker_db_url
    creds: dict[str, Any] = {
        # Strict REST channel (same URL as Rasa's stock one: /webhooks/rest/webhook)
        "bot.channels.rest.ValidatedRestInput": rest_credentials(settings),
        # The web widget and its API (/webhooks/webchat/): the hashes of its server-issued sessions are kept
        # beside the delivery log; browsers on other pages than these (or Rasa's own) are refused
        "bot.channels.webchat.WebChatInput": {
            "sessions_db_url": deliveries,
            "session_days": settings.widget_session_days,
            "origins": list(settings.allowed_widget_origins) + [o for o in [origin_of(settings.public_url)] if o],
            "limits": channel_limits(settings),
        },
        # Staff replies to handed-off conversations (/webhooks/staff/reply), authorised by the Rasa token
        "bot.channels.staff.StaffReplyInput": {"token": settings.rasa_token or ""},
    }
    if settings.telegram_enabled:
        creds["bot.channels.telegram.TelegramInput"] = {
            "access_token": settings.telegram_bot_token,
            "secret_token": settings.telegram_secret_token,
            "api_base": settings.telegram_api_base,
            "deliveries_db_url": deliveries,
            "limits": channel_limits(settings),
            **claims(settings),
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
            "limits": channel_limits(settings),
            "max_message_age_seconds": settings.whatsapp_max_message_age_hours * 3600,
            **claims(settings),
        }
    return creds


def _write_private(path: Path, text: str) -> None:
    """Writes a file only its owner can read: both files hold secrets (channel tokens, the action server's
    secret, a database password). The mode is set before any secret is written."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def write(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    out = settings.rasa_run_dir
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    header = "# GENERATED from the settings (core/settings.py, MESO_* variables) by bot/rasa_config.py\n"
    _write_private(out / "endpoints.yml", header + yaml.safe_dump(endpoints(settings), sort_keys=False))
    _write_private(out / "credentials.yml", header + yaml.safe_dump(credentials(settings), sort_keys=False))
    return out


if __name__ == "__main__":
    try:
        print(write())
    except ValueError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(1)
