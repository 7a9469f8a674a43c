"""Choosing the routing policy's values without the held-out split: the route classifier trained
without half of the corpus's training messages (fold b, by a hash of the id), then that half routed
through `actions.respond.respond` (with Rasa's NLU verdicts, cached as scripts/bench_understanding.py
caches them; the NLU is not trained on the corpus) under each policy variant below. The table in
understanding/README.md ("How these values were chosen") comes from it.

    .venv/bin/python scripts/understanding_folds.py        # about 5 minutes on 2 cores

Prints one table per variant (the bench's columns); reads the training split only.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions import routing  # noqa: E402
from actions.services import Services  # noqa: E402
from scripts import bench_understanding as bench  # noqa: E402
from understanding import corpus  # noqa: E402
from understanding import router as route_classifier  # noqa: E402

BEFORE = {
    "topic_head_min": 1.01,
    "topic_head_agrees_min": 1.01,
    "router_out_of_scope_min": 1.01,
    "refuse_other_treatment": False,
    "router_confirms_min": 1.01,
    "router_keeps_handoff_min": 0.25,
    "topic_head_min_content_words": 0,
}
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("retrieval chooses the topic (before)", BEFORE),
    ("the head overrules retrieval at 0.5", {**BEFORE, "topic_head_min": 0.5}),
    (
        "... at 0.4, agreeing with an unsure retrieval at 0.25",
        {**BEFORE, "topic_head_min": 0.4, "topic_head_agrees_min": 0.25},
    ),
    (
        "... and the classifier's out of scope at 0.45 refuses",
        {**BEFORE, "topic_head_min": 0.4, "topic_head_agrees_min": 0.25, "router_out_of_scope_min": 0.45},
    ),
    (
        "... and a question about another treatment alone is refused",
        {"router_confirms_min": 1.01, "router_keeps_handoff_min": 0.25, "topic_head_min_content_words": 0},
    ),
    (
        "... and a sure classifier confirms booking, clinic information, a person",
        {"router_keeps_handoff_min": 0.25, "topic_head_min_content_words": 0},
    ),
    (
        "... and the NLU's handoff kept at 0.4",
        {"topic_head_min_content_words": 0},
    ),
    ("... and a message of fewer than 3 content words keeps its clarifying question (the policy now)", {}),
    ("the policy now with the NLU's handoff kept at 0.5", {"router_keeps_handoff_min": 0.5}),
]


def fold_of(message_id: str) -> str:
    return "a" if int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % 2 == 0 else "b"


def main() -> int:
    held_back = [m for m in corpus.load("train") if fold_of(m.id) == "b"]
    texts = {m.text for m in held_back}
    examples = [e for e in route_classifier.training_examples() if not (e.source == "corpus" and e.text in texts)]
    classifier = route_classifier.train(examples)
    nlu = bench.nlu_verdicts([m.text for m in held_back] + [m.after for m in held_back if m.after])
    svc = Services.load()
    svc.alerts = bench._NoAlerts()  # type: ignore[assignment]
    svc.router = classifier
    policy = routing.POLICY
    now = dict(policy.__dict__)
    try:
        for label, changes in VARIANTS:
            policy.__dict__.update(replace(routing.RoutingPolicy(), **changes).__dict__)
            outcomes = bench.run(held_back, svc, nlu)
            print(bench.tables(f"{label}: training split fold b, {len(held_back)} messages", outcomes))
            print()
    finally:
        policy.__dict__.update(now)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
