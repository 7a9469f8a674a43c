"""actions/safety/learned.py: the gate asks the learned detector for an emergency and a personal score of the
same message; the message is vectorised once for both, and each score is what the model gives that message's
own features (a new message never reuses the last one's)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from actions.safety import learned

pytestmark = pytest.mark.slow

MESSAGES = [
    "my lips have doubled in size since this morning",
    "how long does the swelling last?",
    "mujhe sugar hai, kya main meso kara sakti hoon",
    "मेरी आंख के पास सूजन बढ़ रही है",
    "long message about my week " * 60 + " and now I cannot breathe properly",
]


@pytest.fixture(scope="module")
def detector() -> learned.LearnedSafety:
    return learned.build()


def _expected(det: learned.LearnedSafety, model, text: str) -> float:
    parts = learned.windows(text)
    if det.features != "chars" and len(parts) > learned.MAX_EMBEDDED_WINDOWS:
        parts = det._likeliest(model, parts)
    return float(np.max(model.predict_proba(det._features(parts))[:, 1]))


def test_each_score_is_the_models_reading_of_that_message(detector):
    det = copy.copy(detector)
    for text in MESSAGES + MESSAGES[::-1]:  # every message after a different one
        assert det.emergency(text) == pytest.approx(_expected(det, det.emergency_model, text), abs=1e-12)
        assert det.personal(text) == pytest.approx(_expected(det, det.personal_model, text), abs=1e-12)


def test_the_two_scores_of_one_short_message_vectorise_it_once(detector, monkeypatch):
    det = copy.copy(detector)
    calls = []
    real = det._features

    def counted(texts):
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(det, "_features", counted)
    det.emergency(MESSAGES[0])
    det.personal(MESSAGES[0])
    assert len(calls) == 1
    det.emergency(MESSAGES[1])
    assert len(calls) == 2 and calls[1] != calls[0]
