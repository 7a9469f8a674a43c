"""BM25 over the same documents as the dense index (bm25s), on stemmed words plus
character n-grams so that drug names, brand names and typos still match."""

from __future__ import annotations

import logging
from pathlib import Path

import bm25s
import numpy as np

from knowledge.text import lexical_tokens

logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    def __init__(self, bm25: bm25s.BM25) -> None:
        self.bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25()
        # bm25s needs at least one token per document; "_" stands in for an empty one.
        bm25.index([lexical_tokens(t) or ["_"] for t in texts], show_progress=False)
        return cls(bm25)

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per document (zeros when no query token is in the vocabulary)."""
        num_docs = int(self.bm25.scores["num_docs"])
        tokens = [t for t in lexical_tokens(query) if t in self.bm25.vocab_dict]
        if not tokens:
            return np.zeros(num_docs, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def save(self, directory: Path) -> None:
        self.bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(directory), show_progress=False, verbosity=0))
