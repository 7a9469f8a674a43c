"""Registering the messaging webhooks (python -m core.webhooks), against the fake platform API."""

from __future__ import annotations

import pytest

from core.settings import Settings
from core.webhooks import SetupError, main, register_telegram, whatsapp_instructions
from tests.e2e.fake_platforms import FakePlatforms


@pytest.fixture()
def platforms():
    fake = FakePlatforms()
    yield fake
    fake.close()


def telegram_settings(platforms: FakePlatforms, **extra) -> Settings:
    return Settings(
        telegram_bot_token="42:abc",
        telegram_secret_token="a-secret-of-enough-length",
        telegram_api_base=platforms.telegram_base,
        **extra,
    )


def test_telegram_webhook_is_registered_with_the_secret_token(platforms):
    info = register_telegram(telegram_settings(platforms, public_url="https://chat.clinic.example/"))
    assert info["url"] == "https://chat.clinic.example/webhooks/telegram/webhook"
    (call,) = platforms.matching(lambda r: r.method == "setWebhook")
    assert call.path == "/telegram/bot42:abc/setWebhook"
    assert call.body["secret_token"] == "a-secret-of-enough-length"
    assert set(call.body["allowed_updates"]) == {"message", "edited_message", "callback_query"}


@pytest.mark.parametrize("public_url", [None, "http://chat.clinic.example"])
def test_registration_needs_a_public_https_address(platforms, public_url):
    with pytest.raises(SetupError, match="MESO_PUBLIC_URL"):
        register_telegram(telegram_settings(platforms, public_url=public_url))
    assert platforms.matching(lambda r: True) == []


def test_a_refusing_platform_gives_a_clear_error(platforms):
    platforms.fail_paths.add("setWebhook")
    with pytest.raises(SetupError, match="500"):
        register_telegram(telegram_settings(platforms, public_url="https://chat.clinic.example"))


def test_whatsapp_instructions_name_the_callback_url_not_the_secrets():
    settings = Settings(
        public_url="https://chat.clinic.example",
        whatsapp_access_token="tok-secret",
        whatsapp_phone_number_id="42",
        whatsapp_app_secret="app-secret-value",
        whatsapp_verify_token="verify-value",
    )
    text = whatsapp_instructions(settings)
    assert "https://chat.clinic.example/webhooks/whatsapp/webhook" in text
    assert "app-secret-value" not in text and "tok-secret" not in text and "verify-value" not in text


def test_cli_without_configuration_explains_what_is_missing(capsys, monkeypatch):
    monkeypatch.delenv("MESO_TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["telegram"]) == 1
    assert "MESO_TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
    assert main(["nonsense"]) == 2
