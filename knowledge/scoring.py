"""Turns per-document dense and lexical scores into passage hits, topic scores and the
features the confidence model reads. Used identically at build time (calibration) and
at query time, so the calibration describes exactly what search does."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OOS = "_out_of_scope"
"""Group id of the out-of-scope anchor documents."""


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical evidence are weighted (dense 1/lexical 0 = dense alone)."""

    dense: float = 0.75
    lexical: float = 0.25


DEFAULT_FUSION = Fusion()

ANSWER_DOC_WEIGHT = 0.9
"""A passage's answer text is long; its similarity to a short question counts a bit less."""

FEATURES = ("top", "margin", "oos_gap", "dense_top", "lexical_top")


@dataclass(frozen=True)
class DocTable:
    """Which group (passage id, or OOS) and kind each indexed document belongs to."""

    group_of_doc: np.ndarray  # int index into groups, per document
    doc_weight: np.ndarray  # float, per document
    groups: tuple[str, ...]  # passage ids, and OOS last
    topic_of_group: tuple[str, ...]  # topic per group (OOS for the anchors)

    @property
    def oos_group(self) -> int:
        return self.groups.index(OOS)


@dataclass(frozen=True)
class Scored:
    passage_scores: np.ndarray  # fused score per group (OOS included)
    passage_dense: np.ndarray
    passage_lexical: np.ndarray
    topic_order: list[tuple[str, float]]  # (topic, best passage score), best first, OOS excluded
    oos: float
    features: np.ndarray


def squash(lexical: np.ndarray, scale: float) -> np.ndarray:
    """BM25 scores are unbounded; s/(s+scale) maps them to 0..1 keeping absolute strength."""
    return lexical / (lexical + scale)


def group_max(values: np.ndarray, table: DocTable) -> np.ndarray:
    out = np.full(len(table.groups), -1.0, dtype=np.float32)
    np.maximum.at(out, table.group_of_doc, values)
    return out


def score(
    dense: np.ndarray,
    lexical: np.ndarray,
    table: DocTable,
    lexical_scale: float,
    exclude: np.ndarray | None = None,
    fusion: Fusion = DEFAULT_FUSION,
) -> Scored:
    """dense: cosine per document; lexical: raw BM25 per document.
    exclude: boolean mask of documents to leave out (leave-one-out calibration)."""
    d = dense * table.doc_weight
    lex = squash(lexical, lexical_scale)
    if exclude is not None:
        d = np.where(exclude, -1.0, d)
        lex = np.where(exclude, 0.0, lex)
    pd = group_max(d.astype(np.float32), table)
    pl = np.maximum(group_max(lex.astype(np.float32), table), 0.0)
    fused = fusion.dense * np.maximum(pd, 0.0) + fusion.lexical * pl
    oos_idx = table.oos_group
    best: dict[str, float] = {}
    for g, topic in enumerate(table.topic_of_group):
        if g == oos_idx:
            continue
        s = float(fused[g])
        if s > best.get(topic, -1.0):
            best[topic] = s
    order = sorted(best.items(), key=lambda kv: -kv[1])
    top = order[0][1] if order else 0.0
    second = order[1][1] if len(order) > 1 else 0.0
    oos = float(fused[oos_idx])
    mask = np.ones(len(fused), dtype=bool)
    mask[oos_idx] = False
    features = np.array(
        [top, top - second, top - oos, float(pd[mask].max(initial=0.0)), float(pl[mask].max(initial=0.0))],
        dtype=np.float64,
    )
    return Scored(fused, pd, pl, order, oos, features)
