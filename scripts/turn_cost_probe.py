"""Where Rasa's CPU goes in one turn, at turn k of a real conversation: each part Rasa runs for a turn, timed
alone on the tracker as it was at that turn (scripts/bench_turn_cost.py runs this and writes the report).
Runs in the Rasa server's environment (.venv-rasa, Python 3.10); prints one JSON object.

    .venv-rasa/bin/python scripts/turn_cost_probe.py --db tracker.db --sender S --model meso.tar.gz --turns 1,50

The parts, in the order a turn runs them: reading the conversation from the tracker store (SQLite, one
session's events; as Rasa 3.6 ships it, and with bot/event_types.py's lookup of event classes), NLU on the message, the policies' prediction of the action, the action call's body (the
tracker serialised with every event, and the domain when Rasa sends it), checking the action server's answer
against Rasa's schema (as Rasa 3.6 ships it, and compiled once: bot/action_validation.py), and saving the
turn's new events. Each is the median of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def median_ms(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--db", required=True, help="the SQLite tracker database holding the conversation")
    ap.add_argument("--sender", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--turns", default="1,50", help="comma-separated turn numbers (1 = the first message)")
    ap.add_argument("--repeat", type=int, default=30)
    return ap.parse_args(argv)


class Probe:
    """The conversation as stored, the model, and a scratch tracker store of its own."""

    def __init__(self, args: argparse.Namespace) -> None:
        from rasa.core.agent import Agent
        from rasa.core.tracker_store import SQLTrackerStore

        self.repeat = args.repeat
        self.agent = Agent.load(args.model)
        self.processor = self.agent.processor
        assert self.processor is not None
        self.domain = self.agent.domain
        self.loop = asyncio.new_event_loop()
        source = SQLTrackerStore(self.domain, dialect="sqlite", db=args.db)
        full = self.loop.run_until_complete(source.retrieve_full_tracker(args.sender))
        if full is None:
            raise SystemExit(f"no conversation {args.sender!r} in {args.db}")
        self.events = list(full.events)
        self.scratch = SQLTrackerStore(self.domain, dialect="sqlite", db=str(Path(tempfile.mkdtemp()) / "probe.db"))
        self.saved = 0

    def tracker_of(self, events: list[Any], sender: str) -> Any:
        from rasa.shared.core.trackers import DialogueStateTracker

        return DialogueStateTracker.from_events(sender, events, slots=self.domain.slots)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def save_ms(self, before: list[Any], after: list[Any]) -> float:
        """Saving one turn's new events to a conversation that holds the ones before (a sender of its own)."""
        self.saved += 1
        sender = f"probe-save-{self.saved}"
        self.run(self.scratch.save(self.tracker_of(before, sender)))
        t0 = time.perf_counter()
        self.run(self.scratch.save(self.tracker_of(after, sender)))
        return (time.perf_counter() - t0) * 1000

    def turn(self, k: int) -> dict[str, Any]:
        from jsonschema import validate
        from rasa.core.actions.action import RemoteAction
        from rasa.core.channels.channel import UserMessage
        from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
        from rasa.shared.core.trackers import EventVerbosity

        from bot import event_types
        from bot.action_validation import response_validator

        events, processor, domain, repeat = self.events, self.processor, self.domain, self.repeat
        assert processor is not None
        users = [i for i, e in enumerate(events) if isinstance(e, UserUttered)]
        if k > len(users):
            raise SystemExit(f"the conversation has {len(users)} turns, not {k}")
        start = users[k - 1]
        end = users[k] if k < len(users) else len(events)
        skipped = ("action_listen", "action_extract_slots", "action_session_start")
        action_at = next(
            (
                i
                for i in range(start, end)
                if isinstance(events[i], ActionExecuted) and events[i].action_name not in skipped
            ),
            start + 1,
        )
        before_turn, at_action, after_turn = events[:start], events[:action_at], events[:end]
        message = events[start]
        # what the action server answered: the action's events after it, its messages as responses
        answered = events[action_at + 1 : end]
        response = {
            "events": [e.as_dict() for e in answered if not isinstance(e, (BotUttered, ActionExecuted))],
            "responses": [{"text": e.text, **(e.data or {})} for e in answered if isinstance(e, BotUttered)],
        }
        seeded = f"probe-read-{k}"
        self.run(self.scratch.save(self.tracker_of(before_turn, seeded)))
        at = self.tracker_of(at_action, "probe")
        body = {"next_action": "action_answer", "sender_id": "probe", "tracker": at.current_state(EventVerbosity.ALL)}
        spec = RemoteAction.action_response_format_spec()
        few = max(5, repeat // 3)

        def read() -> Any:
            return self.run(self.scratch.retrieve(seeded))

        shipped_read, quick_read = event_types.timed_both(lambda: median_ms(read, repeat))
        parts = {
            "tracker store: read the conversation (Rasa 3.6)": shipped_read,
            "tracker store: read, event classes looked up (bot/event_types.py)": quick_read,
            "NLU: parse the message": median_ms(
                lambda: self.run(processor.parse_message(UserMessage(message.text))), repeat
            ),
            "policies: predict the action": median_ms(lambda: processor._predict_next_with_tracker(at), repeat),
            "action call: the tracker serialised (every event)": median_ms(
                lambda: json.dumps(at.current_state(EventVerbosity.ALL)), repeat
            ),
            "action call: the domain serialised": median_ms(lambda: json.dumps(domain.as_dict()), repeat),
            "action answer checked: jsonschema.validate (Rasa 3.6)": median_ms(lambda: validate(response, spec), few),
            "action answer checked: compiled once (bot/action_validation.py)": median_ms(
                lambda: response_validator().validate(response), repeat
            ),
            "tracker store: save the turn's events": statistics.median(
                [self.save_ms(before_turn, after_turn) for _ in range(few)]
            ),
        }
        return {
            "events": len(after_turn),
            "body_bytes": len(json.dumps(body)),
            "domain_bytes": len(json.dumps(domain.as_dict())),
            "parts_ms": parts,
        }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    probe = Probe(args)
    print(json.dumps({"turns": {t: probe.turn(int(t)) for t in args.turns.split(",")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
