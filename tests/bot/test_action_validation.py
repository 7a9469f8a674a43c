"""bot/action_validation.py in the Rasa server's own environment: with the compiled validator installed, Rasa
accepts the same action server answers and refuses the same ones, with Rasa's own error and message, as its
shipped check (`jsonschema.validate` on every turn); and `python -m bot.rasa_run` installs it."""

from __future__ import annotations

import json

import pytest

from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import json
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from bot import action_validation

ANSWERS = {
    "a curated answer": {"events": [{"event": "slot", "name": "last_topic", "value": "cost", "timestamp": None}],
                          "responses": [{"text": "About INR 5,000", "custom": {"meta": {"kind": "answer"}}}]},
    "nothing": {},
    "no events, one reply": {"events": [], "responses": [{"text": "Hello"}]},
    "events not a list": {"events": {"event": "slot"}},
    "an unknown event": {"events": [{"event": "teleport", "where": "mars"}]},
    "a slot event without a name": {"events": [{"event": "slot", "value": 1}]},
    "a reply that is not an object": {"responses": ["Hello"]},
}

def outcome(action, answer):
    try:
        return ["accepted", action._validate_action_result(answer)]
    except ValidationError as error:
        return ["refused", error.message]

action = RemoteAction("action_answer", None)
shipped = {name: outcome(action, answer) for name, answer in ANSWERS.items()}
action_validation.install()
action_validation.install()  # twice: still one replacement
assert RemoteAction._validate_action_result is action_validation.validate_action_result
compiled = {name: outcome(RemoteAction("action_answer", None), answer) for name, answer in ANSWERS.items()}
print(json.dumps({"shipped": shipped, "compiled": compiled}))
"""

LAUNCHER = r"""
import sys
from bot import rasa_run
import rasa.__main__
rasa.__main__.main = lambda: None  # everything main() does before Rasa runs, without running it
sys.argv = ["bot.rasa_run", "run", "--model", "m.tar.gz"]
rasa_run.main()
from rasa.core.actions.action import RemoteAction
from bot.action_validation import validate_action_result
print(RemoteAction._validate_action_result is validate_action_result)
"""


@pytest.mark.slow
def test_the_compiled_check_accepts_and_refuses_exactly_what_rasa_does_with_its_message():
    out = json.loads(run_in_rasa(SCRIPT).stdout.strip().splitlines()[-1])
    assert out["compiled"] == out["shipped"]
    verdicts = {name: verdict for name, (verdict, _) in out["compiled"].items()}
    assert [n for n, v in verdicts.items() if v == "accepted"] == [
        "a curated answer",
        "nothing",
        "no events, one reply",
    ]
    refused = [message for verdict, message in out["compiled"].values() if verdict == "refused"]
    assert refused and all("Failed to validate Action server response" in m for m in refused)


@pytest.mark.slow
def test_the_rasa_launcher_installs_it_before_rasa_starts():
    assert run_in_rasa(LAUNCHER).stdout.strip().splitlines()[-1] == "True"
