"""The clinic's web pages allowed to use the widget (core/web_origins.py, MESO_WIDGET_ORIGINS): parsing,
matching, what Rasa's CORS gets, and what production refuses. The real servers' CORS answers are
tested in tests/e2e/test_security_widget.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core import web_origins
from core.settings import Settings


def sanic_cors_allows(origin: str, patterns: list[str]) -> bool:
    """How Sanic-CORS 2.0 (Rasa's CORS) matches an Origin header against the `--cors` values."""
    for pattern in patterns:
        if any(c in pattern for c in "*\\]?"):
            if re.match(pattern, origin, flags=re.IGNORECASE):
                return True
        elif origin.lower() == pattern.lower():
            return True
    return False


def test_origins_are_parsed_and_normalised_as_browsers_send_them():
    assert web_origins.parse("https://www.Clinic.example/, https://clinic.example:443 http://localhost:8080") == (
        "https://www.clinic.example",
        "https://clinic.example",
        "http://localhost:8080",
    )
    assert web_origins.parse(["http://127.0.0.1:*", "http://127.0.0.1:*"]) == ("http://127.0.0.1:*",)
    assert web_origins.parse("") == () and web_origins.parse(None) == ()


@pytest.mark.parametrize(
    "bad",
    [
        "*",
        "https://*.clinic.example",
        "https://clinic.example/chat",
        "clinic.example",
        "ftp://clinic.example",
        "https://clinic.example:*",
        "https://clinic.example:99999",
        "null",
    ],
)
def test_anything_but_an_origin_is_refused(bad: str):
    with pytest.raises(ValueError, match="widget origin"):
        web_origins.parse(bad)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://www.clinic.example", True),
        ("HTTPS://WWW.CLINIC.EXAMPLE", True),
        ("http://localhost:5005", True),
        ("http://localhost", True),
        ("http://127.0.0.1:41234", True),
        ("https://evil.example", False),
        ("https://www.clinic.example.evil.example", False),
        ("http://www.clinic.example", False),  # another scheme is another origin
        ("http://localhost.evil.example", False),
        ("http://localhost:5005.evil.example", False),
        ("http://127.0.0.1.evil.example:80", False),
        ("null", False),
    ],
)
def test_the_widget_check_and_rasas_cors_agree(origin: str, allowed: bool):
    configured = web_origins.parse("https://www.clinic.example") + web_origins.DEVELOPMENT_DEFAULT
    assert web_origins.allows(origin, configured) is allowed
    assert sanic_cors_allows(origin, web_origins.for_rasa(configured)) is allowed


def test_no_origins_means_no_cors_at_all():
    assert web_origins.for_rasa(()) == []
    assert not web_origins.allows("http://localhost:5005", ())


def test_defaults_allow_local_pages_in_development_and_none_in_production(monkeypatch):
    assert Settings(env="development").allowed_widget_origins == web_origins.DEVELOPMENT_DEFAULT
    assert Settings(env="test").allowed_widget_origins == web_origins.DEVELOPMENT_DEFAULT
    assert Settings(widget_origins="https://www.clinic.example").allowed_widget_origins == (
        "https://www.clinic.example",
    )
    monkeypatch.setenv("MESO_WIDGET_ORIGINS", "https://www.clinic.example, https://clinic.example")
    assert Settings().widget_origins == ("https://www.clinic.example", "https://clinic.example")


@pytest.fixture
def production(tmp_path) -> dict[str, Any]:
    """Settings production accepts, apart from the widget's (as tests/bot/test_rasa_config.py makes them)."""
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


@pytest.mark.parametrize("unsafe", ["http://www.clinic.example", "http://localhost:*", "http://localhost:8080"])
def test_production_refuses_plain_http_and_any_port_origins(unsafe: str, production: dict[str, Any]):
    with pytest.raises(ValueError, match="MESO_WIDGET_ORIGINS"):
        Settings(**production, widget_origins=unsafe)


def test_production_allows_only_the_configured_https_pages(production: dict[str, Any]):
    assert Settings(**production).allowed_widget_origins == ()  # only pages Rasa serves itself
    configured = Settings(**production, widget_origins="https://www.clinic.example")
    assert configured.allowed_widget_origins == ("https://www.clinic.example",)


def test_origin_of_public_url():
    assert web_origins.origin_of("https://Chat.clinic.example/") == "https://chat.clinic.example"
    assert web_origins.origin_of("https://chat.clinic.example:443/rasa") == "https://chat.clinic.example"
    assert web_origins.origin_of("") is None and web_origins.origin_of("chat.clinic.example") is None
