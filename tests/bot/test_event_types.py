"""bot/event_types.py in the Rasa server's own environment: with the lookup installed, every stored event
name gives the class Rasa's own walk gives, unknown names fail with Rasa's error (or give the caller's
default, never remembered), a conversation read back is the conversation written, and `python -m
bot.rasa_run` installs it."""

from __future__ import annotations

import json

import pytest

from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import json
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from bot import event_types

names = sorted({c.type_name for c in all_subclasses(Event)})

def outcome(name, default=None):
    try:
        found = Event.resolve_by_type(name, default)
        return None if found is None else found.__name__
    except ValueError as error:
        return "ValueError: " + str(error)

ASKED = [*names, "teleport", "topic", ""]
shipped = {n: outcome(n) for n in ASKED}
shipped_default = outcome("teleport", SlotSet)

events = [
    {"event": "action", "name": "action_session_start", "timestamp": 1.0},
    {"event": "session_started", "timestamp": 2.0},
    {"event": "user", "text": "does it hurt?", "timestamp": 3.0,
     "parse_data": {"intent": {"name": "ask_question", "confidence": 0.9}, "entities": []}},
    {"event": "slot", "name": "last_topic", "value": "pain", "timestamp": 4.0},
    {"event": "bot", "text": "Most people feel little.", "data": {"custom": {"meta": {"kind": "answer"}}}, "timestamp": 5.0},
    {"event": "action", "name": "action_listen", "timestamp": 6.0},
]
before = [e.as_dict() for e in DialogueStateTracker.from_dict("p", events, []).events]

event_types.install()
event_types.install()  # twice: still one replacement
installed = Event.resolve_by_type is event_types.resolve_by_type
first = {n: outcome(n) for n in ASKED}
again = {n: outcome(n) for n in ASKED}  # now answered from the dictionary
with_default = outcome("teleport", SlotSet)
remembered_default = "teleport" in event_types._classes
after = [e.as_dict() for e in DialogueStateTracker.from_dict("p", events, []).events]
print(json.dumps({
    "names": names, "shipped": shipped, "first": first, "again": again, "installed": installed,
    "shipped_default": shipped_default, "with_default": with_default, "remembered_default": remembered_default,
    "before": before, "after": after, "user_class": outcome("user"), "remembered": sorted(event_types._classes),
}))
"""

LAUNCHER = r"""
import sys
from bot import rasa_run
import rasa.__main__
rasa.__main__.main = lambda: None  # everything main() does before Rasa runs, without running it
sys.argv = ["bot.rasa_run", "run", "--model", "m.tar.gz"]
rasa_run.main()
from rasa.shared.core.events import Event
from bot.event_types import resolve_by_type
print(Event.resolve_by_type is resolve_by_type)
"""


@pytest.mark.slow
def test_every_stored_event_reads_back_as_the_class_rasa_finds_and_unknown_ones_fail_the_same_way():
    out = json.loads(run_in_rasa(SCRIPT).stdout.strip().splitlines()[-1])
    assert out["installed"]
    assert len(out["names"]) >= 20  # every event kind Rasa stores: user, bot, action, slot, ...
    assert out["first"] == out["shipped"] and out["again"] == out["shipped"]
    assert out["shipped"]["user"] == "UserUttered" and out["shipped"]["slot"] == "SlotSet"
    assert out["shipped"]["teleport"].startswith("ValueError: Unknown event name 'teleport'")
    assert out["shipped"]["topic"] is None  # Rasa's backwards compatibility for the old TopicSet event
    # the caller's default for an unknown name, and it is not remembered for the next caller
    assert out["with_default"] == out["shipped_default"] == "SlotSet"
    assert not out["remembered_default"] and "topic" not in out["remembered"]
    # a conversation read back is the same conversation
    assert out["after"] == out["before"] and len(out["after"]) == 6


@pytest.mark.slow
def test_the_rasa_launcher_installs_the_lookup_before_rasa_starts():
    assert run_in_rasa(LAUNCHER).stdout.strip().splitlines()[-1] == "True"
