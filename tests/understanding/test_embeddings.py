"""understanding/embeddings.py: a patient's new message in Latin letters is embedded by multilingual-e5 once per
turn, for the learned safety detector's emergency and personal scores and the route classifier alike (each reads
the normalised message; the embedding is remembered per text). A new message costs about 20 ms of CPU per
embedding, so a second one would be the largest avoidable cost of a turn. A message in Devanagari is embedded
as written for the router (the safety normalisation folds Hindi spellings), so it costs two."""

from __future__ import annotations

import uuid

import pytest

from actions.safety import learned
from understanding import router as router_module
from understanding.embeddings import as_embedded, e5

pytestmark = pytest.mark.slow

NEW_MESSAGES = [
    "Does it HURT a lot?? I can't decide, my friend said it's sooo painful",
    "mujhe sugar hai, kya main meso kara sakti hoon",
    "How long   is the downtime\nafter a session?",
]
HINDI = "मेसो किन-किन चीज़ों के लिए किया जाता है? कहाँ होता है।"


@pytest.fixture(scope="module")
def parts():
    return learned.build(), router_module.build()


@pytest.mark.parametrize("message", NEW_MESSAGES, ids=range(len(NEW_MESSAGES)))
def test_a_new_message_is_embedded_once_for_the_safety_detector_and_the_router(parts, message, monkeypatch):
    detector, router = parts
    message = f"{message} {uuid.uuid4().hex[:6]}"  # new to this process's memory
    embedder = e5()
    computed: list[str] = []
    real = embedder.model.query

    def counted(text):
        computed.append(text)
        return real(text)

    monkeypatch.setattr(embedder.model, "query", counted)
    detector.emergency(message)
    detector.personal(message)
    router.guess(message)
    assert computed == [as_embedded(message)]


def test_the_embedded_text_is_the_safety_detectors_single_window():
    for message in NEW_MESSAGES:
        assert learned.windows(message) == [as_embedded(message)]


def test_a_message_in_devanagari_keeps_its_spelling_for_the_router(parts, monkeypatch):
    detector, router = parts
    message = f"{HINDI} {uuid.uuid4().hex[:6]}"
    embedder = e5()
    computed: list[str] = []
    real = embedder.model.query

    def counted(text):
        computed.append(text)
        return real(text)

    monkeypatch.setattr(embedder.model, "query", counted)
    detector.emergency(message)
    router.guess(message)
    assert computed == [learned.windows(message)[0], " ".join(message.split())]
    assert "ज़" in computed[1] and "कहाँ" in computed[1] and "।" in computed[1]
