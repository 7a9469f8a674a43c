"""bot/model_loading.py in the Rasa server's own environment: the trained model loaded the quick way reads
patients' messages exactly as Rasa's own loading does (same intents, same confidences to the last digit, same
entities), in much less time; and `python -m bot.rasa_run` installs it before Rasa starts."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import MODEL
from tests.rasa_env import run_in_rasa

SCRIPT = r"""
import asyncio, json, sys, time
from rasa.core.agent import Agent
from bot import model_loading

texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")][:150]
texts += ["", "?", "मेसोथेरेपी", "a" * 3000, "I can't breathe", "hello", "bye"]

def read_all(agent):
    async def go():
        out = []
        for text in texts:
            parsed = await agent.parse_message(text)
            out.append([parsed["intent"], parsed["intent_ranking"], parsed["entities"]])
        return out
    return asyncio.run(go())

def timed_load():
    started = time.perf_counter()
    agent = Agent.load(sys.argv[1])
    return agent, time.perf_counter() - started

shipped, shipped_seconds = timed_load()
model_loading.install()
model_loading.install()  # twice: still one replacement
quick, quick_seconds = timed_load()
print(json.dumps({"shipped": read_all(shipped), "quick": read_all(quick), "n": len(texts),
                  "shipped_seconds": shipped_seconds, "quick_seconds": quick_seconds}))
"""

LAUNCHER = r"""
import sys
from bot import rasa_run
import rasa.__main__
rasa.__main__.main = lambda: None  # everything main() does before Rasa runs, without running it
sys.argv = ["bot.rasa_run", "run", "--model", "m.tar.gz"]
rasa_run.main()
from rasa.utils.tensorflow.models import RasaModel
from bot.model_loading import load
print(RasaModel.load.__func__ is load)
"""


@pytest.mark.slow
def test_the_quick_load_reads_messages_exactly_as_rasas_own_load_does():
    if not MODEL.exists():
        pytest.fail("needs a trained model: run `make train`")
    corpus = "understanding/corpus/train/answer_a.jsonl"
    out = json.loads(run_in_rasa(SCRIPT, str(MODEL), corpus, timeout=300).stdout.strip().splitlines()[-1])
    assert out["n"] > 150
    assert out["quick"] == out["shipped"]  # floats compared exactly, not rounded
    intents = {intent["name"] for intent, _, _ in out["quick"]}
    assert len(intents) > 1, "every message read as one intent: the comparison would prove nothing"
    # not a speed target (make bench measures start-up): the training graph is no longer traced at all
    assert out["quick_seconds"] < out["shipped_seconds"]


@pytest.mark.slow
def test_the_rasa_launcher_installs_it_before_rasa_starts():
    assert run_in_rasa(LAUNCHER).stdout.strip().splitlines()[-1] == "True"
