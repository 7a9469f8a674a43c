"""bot/rasa_run.py: Rasa's HTTP API secret comes from the environment, never from the command line
(where `ps` shows it), and only as a JWT secret (no URL token)."""

from __future__ import annotations

import pytest

from bot.rasa_run import rasa_argv


def test_the_secret_is_added_inside_the_process_as_a_jwt_secret():
    argv = rasa_argv(["run", "--model", "m.tar.gz", "--port", "5005"], {"MESO_RASA_TOKEN": "s" * 32})
    assert argv == [
        "rasa", "run", "--enable-api", "--jwt-secret=" + "s" * 32, "--jwt-method", "HS256",
        "--model", "m.tar.gz", "--port", "5005",
    ]  # fmt: skip
    assert "--auth-token" not in argv  # Rasa then accepts no ?token= at all


def test_without_a_secret_the_api_stays_off():
    assert rasa_argv(["run", "--model", "m.tar.gz"], {}) == ["rasa", "run", "--model", "m.tar.gz"]


@pytest.mark.parametrize("given", [["--auth-token", "x"], ["-t", "x"], ["--jwt-secret=x"], ["--enable-api"]])
def test_a_secret_on_the_command_line_is_refused(given):
    with pytest.raises(SystemExit, match="not accepted"):
        rasa_argv(["run", *given], {"MESO_RASA_TOKEN": "s" * 32})


def test_a_secret_that_starts_with_a_dash_is_parsed_as_the_secret_not_as_an_option():
    """A random token starts with "-" one time in 64 (token_urlsafe): Rasa then refused to start with
    "argument --jwt-secret: expected one argument". The same parser shape as Rasa's reads it whole."""
    import argparse

    argv = rasa_argv(["run", "--port", "5005"], {"MESO_RASA_TOKEN": "-Xy_secret"})
    parser = argparse.ArgumentParser()
    parser.add_argument("--enable-api", action="store_true")
    parser.add_argument("--jwt-secret")
    parser.add_argument("--jwt-method")
    parser.add_argument("--port")
    assert parser.parse_args(argv[2:]).jwt_secret == "-Xy_secret"
