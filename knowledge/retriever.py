"""Hybrid search (dense + BM25) with a calibrated confidence and an abstain decision.

Usage::

    >>> from knowledge import Retriever
    >>> retriever = Retriever.open()  # loads (or rebuilds) the cached index
    >>> result = retriever.search("dard hota hai kya")
    >>> result.decision, result.top.topic, result.confidence
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from core.settings import Settings, get_settings
from knowledge import index as index_mod
from knowledge.embedder import Embedder
from knowledge.index import KnowledgeIndex, Sources
from knowledge.overlay import OverlayFollower
from knowledge.results import CLOSEST_TO_OUT_OF_SCOPE, LOW_CONFIDENCE, TOO_CLOSE, WEAK_MATCH, Decision, Hit, Result
from knowledge.scoring import OOS, score
from knowledge.text import clip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Thresholds:
    answer: float = 0.35
    """Calibrated confidence needed to answer."""
    min_score: float = 0.45
    """Fused score the best passage needs before an answer is considered at all."""
    unsure: float = 0.12
    """Below this (or when an out-of-scope anchor wins) the query is out of scope."""
    min_margin: float = 0.02
    """Top two topics closer than this (fused score) are too close to pick one."""
    candidate_window: float = 0.08
    max_candidates: int = 3


def sources_from(settings: Settings) -> Sources:
    from knowledge.embedder import default_model_path

    return Sources(
        passages_dir=settings.passages_dir,
        calibration_file=settings.calibration_file,
        model_path=settings.model_path or default_model_path(),
        patient_messages_dir=settings.calibration_messages_dir,
    )


class Retriever:
    def __init__(self, index: KnowledgeIndex, embedder: Embedder, thresholds: Thresholds | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.thresholds = thresholds or Thresholds()
        self.rebuilt = False
        """True when open() had to build the index (missing, stale or corrupted, or asked to)."""
        self.overlay: OverlayFollower | None = None
        """Approved question variants not yet in the passages (knowledge/overlay.py), when followed."""

    def follow_overlay(self, path: Path, calibration_file: Path, every: float = 3.0) -> None:
        """From now on, search the index plus the approved variants of the overlay file at `path`,
        looking at the file at most every `every` seconds (the action server does; the CLI does not)."""
        self.overlay = OverlayFollower(path, self.index, calibration_file, self.embedder, every)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        rebuild: Literal["auto", "never", "always"] = "auto",
        embedder: Embedder | None = None,
        thresholds: Thresholds | None = None,
    ) -> Retriever:
        """Load the cached index. With rebuild="auto" a missing, stale or corrupted index is
        rebuilt (and said so on stderr); with "never" it raises IndexMissing/IndexStale/IndexCorrupt."""
        settings = settings or get_settings()
        sources = sources_from(settings)
        idx = None
        if rebuild != "always":
            try:
                idx = index_mod.load(settings.index_dir, sources.fingerprint())
            except index_mod.IndexUnusable as exc:
                if rebuild == "never":
                    raise
                log.warning("knowledge index: %s. Rebuilding it now.", exc)
        # The model loads only after the index check, so a refused index costs no model load.
        embedder = embedder or Embedder(sources.model_path)
        rebuilt = idx is None
        if idx is None:
            idx = index_mod.build(sources, embedder, settings.index_dir)
        retriever = cls(idx, embedder, thresholds)
        retriever.rebuilt = rebuilt
        return retriever

    def search(self, text: str, k: int = 5) -> Result:
        query = clip(text if isinstance(text, str) else "")
        if not any(ch.isalnum() for ch in query):
            return Result(query=query, decision="empty", confidence=0.0, reasons=("nothing to search",))
        idx = self.index if self.overlay is None else self.overlay.current()
        vector = self.embedder.encode([query])
        total = idx.dense.ntotal
        sims, ids = idx.dense.search(vector, total)
        dense = np.empty(total, dtype=np.float32)
        dense[ids[0]] = sims[0]
        s = score(dense, idx.lexical.scores(query), idx.table, idx.lexical_scale, fusion=idx.fusion)
        confidence = idx.calibration.confidence(s.features)

        oos_g = idx.table.oos_group
        order = [g for g in np.argsort(-s.passage_scores) if g != oos_g][:k]
        hits = tuple(
            Hit(
                passage_id=idx.table.groups[g],
                topic=idx.table.topic_of_group[g],
                title=idx.passages[idx.table.groups[g]].title,
                score=round(float(s.passage_scores[g]), 4),
                dense=round(float(s.passage_dense[g]), 4),
                lexical=round(float(s.passage_lexical[g]), 4),
            )
            for g in order
        )
        t = self.thresholds
        top_score = s.topic_order[0][1] if s.topic_order else 0.0
        candidates = tuple(
            topic for topic, sc in s.topic_order[: t.max_candidates] if top_score - sc <= t.candidate_window
        )
        margin = float(s.features[1])
        decision: Decision
        reasons: list[str] = []
        if confidence >= t.answer and margin >= t.min_margin and top_score >= t.min_score and s.oos < top_score:
            decision = "answer"
        elif s.oos >= top_score:
            decision, reasons = "out_of_scope", [CLOSEST_TO_OUT_OF_SCOPE]
        elif confidence >= t.unsure:
            decision = "unsure"
            reasons = [
                TOO_CLOSE if margin < t.min_margin else WEAK_MATCH if top_score < t.min_score else LOW_CONFIDENCE
            ]
            if len(candidates) < 2 and len(s.topic_order) > 1:
                candidates = tuple(topic for topic, _ in s.topic_order[:2])
        else:
            decision, reasons = "out_of_scope", ["confidence below the out-of-scope floor"]
        return Result(
            query=query,
            decision=decision,
            confidence=round(confidence, 4),
            hits=hits,
            candidates=candidates if decision != "out_of_scope" else (),
            out_of_scope_score=round(s.oos, 4),
            reasons=tuple(reasons),
        )


__all__ = ["OOS", "Retriever", "Thresholds"]
