"""The alert email and chat settings: read from the environment, refused when they would send nothing, send a
password in clear, or (production) post to plain http://; and what the Rasa process gets (JSON) is the same."""

from __future__ import annotations

from typing import Any

import pytest

from core.alert_channels import DeliveryConfig
from core.alert_channels.config import from_settings
from core.settings import Settings

SMTP: dict[str, Any] = {"smtp_host": "mail.clinic.example", "smtp_from": "alerts@clinic.example"}


@pytest.fixture
def production(tmp_path) -> dict[str, Any]:
    """Settings production accepts otherwise (as tests/core/test_web_origins.py makes them)."""
    clinic = tmp_path / "clinic.yml"
    clinic.write_text(Settings().clinic_file.read_text().replace("is_example: true", "is_example: false"))
    return {
        "env": "production",
        "clinic_file": clinic,
        "rasa_token": "x" * 32,
        "tracker_db_url": "postgresql://u@h/db",
        "console_db_url": "postgresql://u@h/console",
        "action_server_secret": "y" * 32,
    }


def test_recipients_and_kinds_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MESO_SMTP_HOST", "mail.clinic.example")
    monkeypatch.setenv("MESO_SMTP_FROM", "alerts@clinic.example")
    monkeypatch.setenv("MESO_ALERT_EMAIL_CLINICIAN", "dr.a@clinic.example, dr.b@clinic.example")
    monkeypatch.setenv("MESO_ALERT_SLACK_WEBHOOK_ADMIN", "https://hooks.slack.com/services/T0/B0/secret")
    monkeypatch.setenv("MESO_ALERT_KINDS_RECEPTION", "")
    settings = Settings()
    assert settings.alert_email_clinician == ("dr.a@clinic.example", "dr.b@clinic.example")
    assert settings.alert_slack_webhook_admin == ("https://hooks.slack.com/services/T0/B0/secret",)
    assert settings.alert_kinds_reception == ()
    assert settings.smtp_port is None and settings.smtp_security == "starttls"


def test_by_default_emergencies_go_to_clinicians_and_admins_handoffs_to_clinicians_bookings_to_admins_and_reception():
    settings = Settings()
    assert settings.alert_kinds_clinician == ("emergency", "handoff")
    assert settings.alert_kinds_admin == ("emergency", "booking")
    assert settings.alert_kinds_reception == ("booking",)
    assert from_settings(settings) is None  # nothing configured: the alerts file only


def test_the_configuration_the_rasa_process_gets_is_the_same():
    settings = Settings(
        **SMTP,
        smtp_user="alerts",
        smtp_password="s3cret-pass",
        alert_email_clinician="dr.a@clinic.example",
        alert_slack_webhook_reception="https://chat.clinic.example/hooks/abc",
        console_url="https://console.clinic.example",
    )
    config = from_settings(settings)
    assert config is not None and config.smtp is not None
    assert (config.smtp.port, config.smtp.password) == (587, "s3cret-pass")
    assert DeliveryConfig.from_json(config.to_json()) == config
    assert "s3cret-pass" not in repr(config)
    with pytest.raises(ValueError):
        DeliveryConfig.from_json('{"routes": 3}')


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"alert_email_admin": "boss@clinic.example"}, "MESO_SMTP_HOST"),
        ({**SMTP, "alert_email_admin": "not an address"}, "not an email address"),
        ({**SMTP, "alert_kinds_admin": "emergency,everything"}, "alert_kinds_admin"),
        ({**SMTP, "smtp_user": "alerts"}, "MESO_SMTP_PASSWORD"),
        ({**SMTP, "smtp_user": "alerts", "smtp_password": "pw", "smtp_security": "none"}, "unencrypted"),
        ({"alert_slack_webhook_clinician": "ftp://chat.example/hook"}, "MESO_ALERT_SLACK_WEBHOOK_CLINICIAN"),
        ({"console_url": "console.clinic.example"}, "MESO_CONSOLE_URL"),
    ],
)
def test_settings_that_would_not_work_or_would_leak_are_refused(values: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        Settings(**values)


def test_a_password_without_tls_is_allowed_only_to_a_mail_server_on_this_machine():
    local = Settings(
        smtp_host="127.0.0.1", smtp_from="a@clinic.example", smtp_security="none", smtp_user="u", smtp_password="p"
    )
    assert local.smtp_security == "none"


@pytest.mark.parametrize("role", ["clinician", "admin", "reception"])
def test_production_refuses_a_plain_http_chat_webhook_without_printing_its_secret(
    role: str, production: dict[str, Any]
):
    with pytest.raises(ValueError, match=f"MESO_ALERT_SLACK_WEBHOOK_{role.upper()}") as refused:
        webhook: dict[str, Any] = {f"alert_slack_webhook_{role}": "http://chat.clinic.example/hooks/the-secret-path"}
        Settings(**production, **webhook)
    assert "the-secret-path" not in str(refused.value)


def test_production_refuses_a_plain_http_console_link(production: dict[str, Any]):
    with pytest.raises(ValueError, match="MESO_CONSOLE_URL"):
        Settings(**production, console_url="http://console.clinic.example")


def test_production_accepts_https_webhooks_tls_mail_and_a_local_relay(production: dict[str, Any]):
    settings = Settings(
        **production,
        **SMTP,
        smtp_security="tls",
        smtp_user="alerts",
        smtp_password="pw",
        alert_email_clinician="dr.a@clinic.example",
        alert_slack_webhook_clinician="https://hooks.slack.com/services/T0/B0/x,http://127.0.0.1:9000/hook",
        console_url="https://console.clinic.example",
    )
    config = from_settings(settings)
    assert config is not None and config.smtp is not None and config.smtp.port == 465
