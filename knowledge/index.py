"""Builds, saves and loads the search index: dense vectors (faiss), BM25 (bm25s), the
passages and the fitted calibration, all under one manifest keyed by a fingerprint of
the passages, the out-of-scope anchors, the model and this code's index format."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import yaml

from knowledge.calibration import Calibration, fit_calibration
from knowledge.embedder import Embedder, model_fingerprint
from knowledge.finetune import is_finetuned, is_held_out
from knowledge.lexical import LexicalIndex
from knowledge.passages import Passage, Reviewed, content_hash, load_passages, passage_files
from knowledge.scoring import ANSWER_DOC_WEIGHT, DEFAULT_FUSION, OOS, DocTable, Fusion, score
from knowledge.text import clip

INDEX_FORMAT = 3  # 3: calibrated on patient messages too (knowledge.index.patient_probes)
MANIFEST = "manifest.json"


class IndexUnusable(RuntimeError):
    """Base class: the index on disk cannot be used as it is."""


class IndexMissing(IndexUnusable):
    pass


class IndexStale(IndexUnusable):
    pass


class IndexCorrupt(IndexUnusable):
    pass


@dataclass(frozen=True)
class Sources:
    """Where an index's inputs live."""

    passages_dir: Path
    calibration_file: Path
    model_path: Path
    patient_messages_dir: Path | None = None
    """Labelled patient messages (the training split of understanding/corpus/) the confidence is also
    calibrated on, so it describes patients' own words and not only the passages' variants."""

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(f"format={INDEX_FORMAT}\0".encode())
        digest.update(content_hash(passage_files(self.passages_dir), self.passages_dir).encode())
        digest.update(self.calibration_file.read_bytes())
        digest.update(model_fingerprint(self.model_path).encode())
        for path in _message_files(self.patient_messages_dir):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()


def _message_files(folder: Path | None) -> list[Path]:
    return sorted(folder.glob("*.jsonl")) if folder is not None and folder.is_dir() else []


CALIBRATION_ROUTES = ("answer", "out_of_scope")
"""Patient messages used as calibration probes: questions the passages answer (right when the top topic is
one the message asks about), and ones they must not (never right). Small talk is not among them: the NLU
routes it before retrieval, and as negatives its short messages pushed vague questions ("which is better")
below the out-of-scope floor instead of offering topics to choose from."""


@dataclass(frozen=True)
class Probe:
    text: str
    topics: tuple[str, ...]
    """The topics a right answer may come from; empty for a message no passage should answer."""


def patient_probes(folder: Path | None) -> list[Probe]:
    """First messages in English or Hinglish (the retrieval model's languages; Devanagari goes through the
    Hindi path) from the labelled patient messages, as calibration probes."""
    probes = []
    for path in _message_files(folder):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # the corpus lint reports it; calibration never fails on one bad line
            if not isinstance(item, dict) or item.get("route") not in CALIBRATION_ROUTES:
                continue
            if item.get("lang") not in ("en", "hinglish") or item.get("after") or not isinstance(item.get("text"), str):
                continue
            topics = item.get("topics") if item.get("route") == "answer" else []
            probes.append(Probe(item["text"], tuple(t for t in topics or [] if isinstance(t, str))))
    return probes


@dataclass
class KnowledgeIndex:
    passages: dict[str, Passage]
    table: DocTable
    dense: faiss.Index
    lexical: LexicalIndex
    lexical_scale: float
    calibration: Calibration
    manifest: dict[str, object]
    fusion: Fusion = DEFAULT_FUSION


def _oos_questions(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [q for group in data.values() for q in group]


def _documents(
    passages: list[Passage], oos: list[str]
) -> tuple[list[str], list[str], list[int], list[float], list[str]]:
    """texts, kinds, group index, weight per document; and the group ids."""
    rows: list[tuple[str, str, int, float]] = []
    for g, p in enumerate(passages):
        rows += [(q, "heldout" if is_held_out(n) else "question", g, 1.0) for n, q in enumerate(p.questions)]
        rows.append((p.title, "title", g, 1.0))
        rows.append((p.answer, "answer", g, ANSWER_DOC_WEIGHT))
    rows += [(q, "oos", len(passages), 1.0) for q in oos]
    texts, kinds, group_of, weights = (list(col) for col in zip(*rows, strict=True))
    return texts, kinds, group_of, weights, [p.id for p in passages] + [OOS]  # type: ignore[return-value]


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(sources: Sources, embedder: Embedder, out_dir: Path, fusion: Fusion = DEFAULT_FUSION) -> KnowledgeIndex:
    """Build the whole index from the passages and write it atomically to out_dir."""
    started = time.perf_counter()
    passages = load_passages(sources.passages_dir)
    texts, kinds, group_of, weights, groups = _documents(passages, _oos_questions(sources.calibration_file))
    topic_of = {p.id: p.topic for p in passages}
    table = DocTable(
        group_of_doc=np.asarray(group_of, dtype=np.int64),
        doc_weight=np.asarray(weights, dtype=np.float32),
        groups=tuple(groups),
        topic_of_group=tuple(topic_of.get(g, OOS) for g in groups),
    )
    vectors = embedder.encode(texts)
    dense = faiss.IndexFlatIP(vectors.shape[1])
    dense.add(vectors)
    lexical = LexicalIndex.build(texts)

    # Leave-one-out over question variants and out-of-scope anchors: search each one
    # against the index without itself, and learn how features relate to being right.
    # A fine-tuned model has seen most variants in training: calibrate it only on the
    # variants it was not trained on, so its confidence is not flattered.
    probe_kinds = ("heldout", "oos") if is_finetuned(sources.model_path) else ("question", "heldout", "oos")
    probe = [i for i, k in enumerate(kinds) if k in probe_kinds]
    raw_lex = [lexical.scores(texts[i]) for i in probe]
    tops = [float(np.delete(r, i).max(initial=0.0)) for r, i in zip(raw_lex, probe, strict=True)]
    lexical_scale = float(np.median([t for t in tops if t > 0]) if any(tops) else 1.0)
    feats, labels = [], []
    sims = vectors[probe] @ vectors.T
    for row, i in enumerate(probe):
        exclude = np.zeros(len(texts), dtype=bool)
        exclude[i] = True
        s = score(sims[row], raw_lex[row], table, lexical_scale, exclude=exclude, fusion=fusion)
        truth = table.topic_of_group[group_of[i]]
        feats.append(s.features)
        labels.append(int(truth != OOS and bool(s.topic_order) and s.topic_order[0][0] == truth))
    # Patients' own words (never documents of the index, so nothing to leave out).
    messages = patient_probes(sources.patient_messages_dir)
    if messages:
        message_vectors = embedder.encode([clip(m.text) for m in messages])
        for m, sims_row in zip(messages, message_vectors @ vectors.T, strict=True):
            s = score(sims_row, lexical.scores(clip(m.text)), table, lexical_scale, fusion=fusion)
            feats.append(s.features)
            labels.append(int(bool(m.topics) and bool(s.topic_order) and s.topic_order[0][0] in m.topics))
    calibration = fit_calibration(np.asarray(feats), np.asarray(labels))

    manifest: dict[str, object] = {
        "format": INDEX_FORMAT,
        "fingerprint": sources.fingerprint(),
        "model": embedder.name,
        "dim": int(vectors.shape[1]),
        "documents": len(texts),
        "passages": len(passages),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.perf_counter() - started, 2),
        "lexical_scale": lexical_scale,
        "fusion": {"dense": fusion.dense, "lexical": fusion.lexical},
        "calibration": calibration.to_dict(),
        "calibration_set": {"probes": len(probe), "patient_messages": len(messages), "top1_correct": int(sum(labels))},
    }
    _write(out_dir, passages, table, dense, lexical, manifest)
    return KnowledgeIndex(
        {p.id: p for p in passages}, table, dense, lexical, lexical_scale, calibration, manifest, fusion
    )


def _passage_record(p: Passage) -> dict[str, object]:
    return {
        "id": p.id,
        "topic": p.topic,
        "title": p.title,
        "answer": p.answer,
        "questions": list(p.questions),
        "sources": list(p.sources),
        "audience_safety": p.audience_safety,
        "reviewed": {"by": p.reviewed.by, "on": p.reviewed.on},
        "tags": list(p.tags),
        "answer_with_price_list": p.answer_with_price_list,
    }


def _write(
    out_dir: Path,
    passages: list[Passage],
    table: DocTable,
    dense: faiss.Index,
    lexical: LexicalIndex,
    manifest: dict[str, object],
) -> None:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=out_dir.parent))
    try:
        (tmp / "passages.json").write_text(json.dumps([_passage_record(p) for p in passages]))
        (tmp / "docs.json").write_text(
            json.dumps(
                {
                    "group_of_doc": table.group_of_doc.tolist(),
                    "doc_weight": table.doc_weight.tolist(),
                    "groups": list(table.groups),
                    "topic_of_group": list(table.topic_of_group),
                }
            )
        )
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        lexical.save(tmp / "bm25")
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest["files"] = {str(p.relative_to(tmp)): _file_sha(p) for p in files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(directory: Path) -> dict[str, object]:
    path = directory / MANIFEST
    if not path.is_file():
        raise IndexMissing(f"no index at {directory} (run `python -m knowledge build`)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict) or "fingerprint" not in manifest:
        raise IndexCorrupt(f"{path} is not an index manifest")
    return manifest


def load(directory: Path, expected_fingerprint: str) -> KnowledgeIndex:
    """Load a built index, refusing a missing, stale or corrupted one."""
    manifest = read_manifest(directory)
    if manifest.get("format") != INDEX_FORMAT or manifest["fingerprint"] != expected_fingerprint:
        raise IndexStale(
            f"the index at {directory} was built from other passages, anchors or model "
            "(fingerprint mismatch); rebuild it with `python -m knowledge build`"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"{directory}: manifest lists no files")
    for name, sha in files.items():
        path = directory / name
        if not path.is_file() or _file_sha(path) != sha:
            raise IndexCorrupt(f"{path} is missing or does not match its checksum")
    try:
        records = json.loads((directory / "passages.json").read_text())
        docs = json.loads((directory / "docs.json").read_text())
        dense = faiss.read_index(str(directory / "dense.faiss"))
        lexical = LexicalIndex.load(directory / "bm25")
    except Exception as exc:  # any parse failure here means the files are unusable
        raise IndexCorrupt(f"{directory}: {exc}") from exc
    passages = {
        r["id"]: Passage(
            id=r["id"],
            topic=r["topic"],
            title=r["title"],
            answer=r["answer"],
            questions=tuple(r["questions"]),
            sources=tuple(r["sources"]),
            audience_safety=r["audience_safety"],
            reviewed=Reviewed(**r["reviewed"]),
            tags=tuple(r["tags"]),
            answer_with_price_list=r["answer_with_price_list"],
        )
        for r in records
    }
    table = DocTable(
        group_of_doc=np.asarray(docs["group_of_doc"], dtype=np.int64),
        doc_weight=np.asarray(docs["doc_weight"], dtype=np.float32),
        groups=tuple(docs["groups"]),
        topic_of_group=tuple(docs["topic_of_group"]),
    )
    if dense.ntotal != len(table.group_of_doc):
        raise IndexCorrupt(
            f"{directory}: dense index holds {dense.ntotal} vectors for {len(table.group_of_doc)} documents"
        )
    return KnowledgeIndex(
        passages,
        table,
        dense,
        lexical,
        float(manifest["lexical_scale"]),  # type: ignore[arg-type]
        Calibration.from_dict(manifest["calibration"]),  # type: ignore[arg-type]
        manifest,
        Fusion(**manifest["fusion"]),  # type: ignore[arg-type]
    )
