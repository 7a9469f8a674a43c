"""What the Rasa process reads from its environment (bot/runtime.py) matches the typed settings, and a
bad value never turns the dialogue time limit off."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runtime import DEFAULT_DIALOGUE_TIMEOUT, read_runtime
from core.settings import Settings


def test_defaults_are_the_typed_settings_defaults():
    settings = Settings()
    runtime = read_runtime({})
    assert runtime.dialogue_timeout == settings.dialogue_timeout_seconds
    assert runtime.alerts_file == settings.alerts_file
    assert runtime.staff_alert_url is None


def test_values_passed_on_by_run_sh_are_used():
    runtime = read_runtime(
        {
            "MESO_DIALOGUE_TIMEOUT_SECONDS": "3.5",
            "MESO_ALERTS_FILE": "/srv/meso/alerts.jsonl",
            "MESO_STAFF_ALERT_URL": "https://chat.example/hook",
        }
    )
    assert runtime.dialogue_timeout == 3.5
    assert runtime.alerts_file == Path("/srv/meso/alerts.jsonl")
    assert runtime.staff_alert_url == "https://chat.example/hook"


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "nan", "inf", "100000"])
def test_a_bad_timeout_falls_back_to_the_default_never_to_waiting_forever(raw):
    assert read_runtime({"MESO_DIALOGUE_TIMEOUT_SECONDS": raw}).dialogue_timeout == DEFAULT_DIALOGUE_TIMEOUT


@pytest.mark.parametrize("seconds", [0.0, -2.0, 121.0])
def test_the_typed_settings_refuse_a_bad_timeout(seconds):
    with pytest.raises(ValueError, match="dialogue_timeout_seconds"):
        Settings(dialogue_timeout_seconds=seconds)
