"""REST API keys (bot/channels/api_keys.py): one per integration, only hashes in the settings and in
Rasa's credentials, a keys file only its owner can read, and no REST channel without keys in
production."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot import rasa_config
from bot.channels.api_keys import ApiKeys, configured, hash_key
from core.settings import PROJECT_ROOT, Settings

KEY = "k" * 30
OTHER = "o" * 30


def test_keys_from_the_setting_and_the_file_become_hashes(tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"# the clinic's CRM\ncrm={KEY}\n\nsite={hash_key(OTHER)}\n")
    keys_file.chmod(0o600)
    entries = configured(f"partner={hash_key('p' * 40)}", keys_file)
    assert entries == [f"partner={hash_key('p' * 40)}", f"crm={hash_key(KEY)}", f"site={hash_key(OTHER)}"]
    keys = ApiKeys.from_entries(entries)
    assert keys.match(KEY) == "crm" and keys.match(OTHER) == "site" and keys.match("p" * 40) == "partner"
    assert keys.match("k" * 29) is None and keys.match("") is None and keys.match(None) is None
    assert not ApiKeys.from_entries([])


@pytest.mark.parametrize(
    "value",
    [
        f"crm={KEY}",  # a raw key in the environment: hashes only
        "crm=sha256:abc",
        f"CRM={hash_key(KEY)}",
        f"the-crm={hash_key(KEY)}",  # a hyphen would make rest-<name>-<sender> ambiguous
        f"crm={hash_key(KEY)},crm={hash_key(OTHER)}",
        f"crm={hash_key(KEY)},site={hash_key(KEY)}",
        "no-equals-sign",
    ],
)
def test_bad_key_settings_stop_the_services_with_the_variables_name(value):
    with pytest.raises(ValueError, match=r"MESO_REST_API_KEYS|REST API key"):
        Settings(rest_api_keys=value)


def test_a_keys_file_others_can_read_is_refused(tmp_path):
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"crm={KEY}\n")
    keys_file.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        Settings(rest_api_keys_file=keys_file)
    keys_file.chmod(0o600)
    keys_file.write_text("crm=short\n")
    with pytest.raises(ValueError, match="24-256"):
        Settings(rest_api_keys_file=keys_file)
    with pytest.raises(ValueError, match="cannot read"):
        Settings(rest_api_keys_file=tmp_path / "missing")


def test_without_keys_rest_is_open_in_development_and_off_in_production():
    dev = rasa_config.rest_credentials(Settings())
    assert dev["api_keys"] == [] and dev["open_without_key"] is True
    production = rasa_config.rest_credentials(Settings.model_construct(env="production"))
    assert production["api_keys"] == [] and production["open_without_key"] is False
    keyed = rasa_config.rest_credentials(Settings(rest_api_keys=f"crm={hash_key(KEY)}"))
    assert keyed["api_keys"] == [f"crm={hash_key(KEY)}"] and keyed["open_without_key"] is False
    assert KEY not in str(rasa_config.credentials(Settings(rest_api_keys=f"crm={hash_key(KEY)}")))


def test_the_command_makes_a_key_and_its_hash():
    out = subprocess.run(
        [sys.executable, "-m", "bot.channels.api_keys", "new", "crm"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    raw, hashed = [line for line in out.stdout.splitlines() if not line.startswith("#")]
    key = raw.removeprefix("crm=")
    assert len(key) >= 24 and hashed == f"crm={hash_key(key)}"
    assert ApiKeys.from_entries([hashed]).match(key) == "crm"
