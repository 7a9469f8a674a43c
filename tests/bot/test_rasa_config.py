"""The Rasa server's endpoints and credentials come from the one settings object."""

from __future__ import annotations

import pytest
import yaml

from bot import rasa_config
from core.settings import Settings


def test_sqlite_by_default(tmp_path):
    settings = Settings(rasa_run_dir=tmp_path, tracker_db_url=f"sqlite:///{tmp_path / 'db' / 't.db'}")
    out = rasa_config.write(settings)
    endpoints = yaml.safe_load((out / "endpoints.yml").read_text())
    assert endpoints["tracker_store"] == {
        "type": "bot.tracker_store.FailClosedSQLTrackerStore",  # never a silent switch to memory
        "dialect": "sqlite",
        "db": str(tmp_path / "db" / "t.db"),
        "start_timeout": 60.0,
    }
    assert endpoints["action_endpoint"] == {"url": settings.action_server_url}  # no secret set: no header
    assert "lock_store" not in endpoints
    credentials = yaml.safe_load((out / "credentials.yml").read_text())
    assert set(credentials) == {
        "bot.channels.rest.ValidatedRestInput",
        "bot.channels.webchat.WebChatInput",
        "bot.channels.staff.StaffReplyInput",
    }
    for name in ("credentials.yml", "endpoints.yml"):
        assert (out / name).stat().st_mode & 0o077 == 0, name  # secrets: owner only
    assert out.stat().st_mode & 0o077 == 0


def test_moving_a_port_moves_the_url_rasa_and_the_console_call(tmp_path, monkeypatch):
    """MESO_ACTION_PORT alone once left Rasa calling port 5055: every answer was the fallback, and personal
    medical questions were not handed to a clinician (the channel's fallback only knows warning signs)."""
    for name in ("MESO_ACTION_SERVER_URL", "MESO_RASA_URL"):
        monkeypatch.delenv(name, raising=False)
    moved = Settings(rasa_run_dir=tmp_path, action_port=5955, rasa_port=5905)
    endpoints = yaml.safe_load((rasa_config.write(moved) / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["url"] == "http://localhost:5955/webhook"
    assert moved.rasa_url == "http://localhost:5905"
    chosen = Settings(action_port=5955, action_server_url="http://actions.internal:80/webhook", rasa_url="http://r:1")
    assert (chosen.action_server_url, chosen.rasa_url) == ("http://actions.internal:80/webhook", "http://r:1")


def test_rasa_sends_the_action_servers_secret_in_a_header(tmp_path):
    settings = Settings(
        rasa_run_dir=tmp_path / "run", action_server_secret="a" * 32, tracker_db_url=f"sqlite:///{tmp_path / 't.db'}"
    )
    endpoints = yaml.safe_load((rasa_config.write(settings) / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"] == {
        "url": settings.action_server_url,
        "headers": {"Authorization": "Bearer " + "a" * 32},  # Rasa 3.6's EndpointConfig sends these
    }


def test_messaging_channels_are_listed_only_when_configured(tmp_path):
    settings = Settings(
        rasa_run_dir=tmp_path,
        telegram_bot_token="1:abc",
        telegram_secret_token="s" * 20,
        whatsapp_access_token="tok",
        whatsapp_phone_number_id="42",
        whatsapp_app_secret="app-secret",
        whatsapp_verify_token="verify",
        tracker_db_url=f"sqlite:///{tmp_path / 't.db'}",
    )
    credentials = rasa_config.credentials(settings)
    telegram = credentials["bot.channels.telegram.TelegramInput"]
    assert telegram["secret_token"] == "s" * 20
    assert telegram["deliveries_db_url"] == settings.tracker_db_url
    whatsapp = credentials["bot.channels.whatsapp.WhatsAppInput"]
    assert whatsapp["app_secret"] == "app-secret"
    assert whatsapp["phone_number_id"] == "42"
    for channel in (telegram, whatsapp):  # a dead process's messages are taken back by the others
        assert channel["claim_lease_seconds"] == settings.claim_lease
        assert channel["recovery_seconds"] == settings.channel_recovery_seconds


@pytest.mark.parametrize(
    "fields",
    [
        {"telegram_bot_token": "1:abc"},  # no secret token: anyone could post updates
        {"telegram_bot_token": "1:abc", "telegram_secret_token": "short"},
        {"telegram_bot_token": "1:abc", "telegram_secret_token": "has spaces in it, not allowed"},
        {"whatsapp_access_token": "tok", "whatsapp_phone_number_id": "42"},  # no app secret / verify token
    ],
)
def test_messaging_channels_refuse_to_run_without_their_secrets(fields):
    with pytest.raises(ValueError, match="MESO_"):
        Settings(**fields)


def test_postgres_and_redis_for_production_like_runs(tmp_path):
    settings = Settings(
        rasa_run_dir=tmp_path,
        tracker_db_url="postgresql://meso:s%40cret@db.internal:5433/conversations",
        lock_store_url="redis://cache:6380/2",
    )
    endpoints = rasa_config.endpoints(settings)
    assert endpoints["tracker_store"] == {
        "type": "bot.tracker_store.FailClosedSQLTrackerStore",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "conversations",
        "username": "meso",
        "password": "s@cret",
        "start_timeout": 60.0,
    }
    assert endpoints["lock_store"] == {
        "type": "bot.lock_store.DegradingRedisLockStore",
        "url": "cache",
        "port": 6380,
        "db": 2,
    }


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "nonsense"])
def test_unsupported_tracker_urls_are_refused(url):
    with pytest.raises(ValueError):
        rasa_config.tracker_store(url)


def test_production_refuses_unsafe_defaults(tmp_path):
    clinic = tmp_path / "clinic.yml"
    clinic.write_text(
        (Settings().clinic_file.read_text()).replace("is_example: true", "is_example: false"), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="MESO_RASA_TOKEN"):
        Settings(env="production", clinic_file=clinic)
    with pytest.raises(ValueError, match="MESO_ACTION_SERVER_SECRET"):
        Settings(env="production", clinic_file=clinic, rasa_token="x" * 32)
    with pytest.raises(ValueError, match="MESO_ACTION_SERVER_SECRET"):
        Settings(env="production", clinic_file=clinic, rasa_token="x" * 32, action_server_secret="short")
    with pytest.raises(ValueError, match="must differ"):
        Settings(env="production", clinic_file=clinic, rasa_token="x" * 32, action_server_secret="x" * 32)
    secret = "y" * 32
    with pytest.raises(ValueError, match="PostgreSQL"):
        Settings(env="production", clinic_file=clinic, rasa_token="x" * 32, action_server_secret=secret)
    with pytest.raises(ValueError, match="MESO_CONSOLE_DB_URL"):
        Settings(
            env="production",
            clinic_file=clinic,
            rasa_token="x" * 32,
            action_server_secret=secret,
            tracker_db_url="postgresql://u@h/db",
        )
    safe = Settings(
        env="production",
        clinic_file=clinic,
        rasa_token="x" * 32,
        action_server_secret=secret,
        tracker_db_url="postgresql://u@h/db",
        console_db_url="postgresql://u@h/console",
    )
    assert safe.secure_cookies
    with pytest.raises(ValueError, match="SECURE_COOKIES"):
        Settings(**{**safe.model_dump(), "console_secure_cookies": False})
