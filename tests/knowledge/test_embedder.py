"""knowledge/embedder.py: a single query takes the short path through the model's modules and gets exactly the
vector sentence-transformers' own `encode` gives it (retrieval, calibration and the index built in batches all
compare against those vectors), whatever the text."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

TEXTS = [
    "how long does the swelling last after mesotherapy on the face",
    "price?",
    "",
    "मेसोथेरेपी का एक सेशन कितने का है?",
    "kitna kharcha hoga hair meso ka",
    "word " * 700,  # longer than the model reads: cut the same way
    "\ufffd\u200b emoji 💉 and tabs\tand\nlines",
]


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_one_query_gets_the_vector_sentence_transformers_gives_it(embedder, text):
    quick = embedder.encode([text])
    shipped = embedder.model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert quick.shape == (1, 384) and quick.dtype == np.float32 and quick.flags["C_CONTIGUOUS"]
    assert np.allclose(quick, shipped, atol=1e-6)
    assert abs(float(np.linalg.norm(quick)) - 1.0) < 1e-5


def test_a_query_alone_matches_the_same_query_in_a_batch(embedder):
    alone = np.vstack([embedder.encode([t]) for t in TEXTS[:5]])
    batch = embedder.encode(TEXTS[:5])
    assert np.allclose(alone, batch, atol=1e-5)
