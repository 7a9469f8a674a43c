"""Approved question variants that are not in the YAML passages yet: the knowledge overlay.

The staff console writes it (`console/knowledge_proposals.py`) when an admin approves a reviewer's
proposal: a small JSON file (`MESO_KNOWLEDGE_OVERLAY_FILE`, default `var/knowledge/overlay.json`)
holding every approved variant and a version number that grows with each write::

    {"format": 1, "version": 4, "written_at": "...",
     "variants": [{"passage_id": "side_effects-02", "text": "will i look like a strawberry", "proposal_id": 7}]}

The action server's retriever follows it (`Retriever.follow_overlay`): at most every few seconds it
looks at the file's size and modification time (one `stat`); when they change it reads the file and,
for a new version, embeds the variants it has not embedded before and swaps in a copy of the index
with them added to the dense vectors and to BM25. The base index on disk is never touched and no
full rebuild runs. A missing file is an empty overlay; a broken one (unreadable, not this format, a
variant that is not text) is logged and ignored: whatever was answering before keeps answering.

Once the exported patch (`GET /api/knowledge/patch`) has landed in `knowledge/passages/` and the
index was rebuilt (`make train` or `python -m knowledge build`), the base index holds the variants
itself and the overlay skips them: it is then redundant, and may be deleted.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from knowledge.embedder import Embedder
from knowledge.index import KnowledgeIndex, _documents, _oos_questions
from knowledge.lexical import LexicalIndex
from knowledge.text import normalize

log = logging.getLogger(__name__)

FORMAT = 1
MAX_VARIANT_CHARS = 300
MAX_VARIANTS = 10_000
"""More than this in one file is not an overlay any more: refused (rebuild the index instead)."""


class OverlayError(ValueError):
    """An overlay file that cannot be used as it is."""


@dataclass(frozen=True)
class OverlayVariant:
    passage_id: str
    text: str
    proposal_id: int | None = None


@dataclass(frozen=True)
class Overlay:
    version: int
    variants: tuple[OverlayVariant, ...] = ()


EMPTY = Overlay(version=0)


def parse(raw: bytes) -> Overlay:
    """The overlay in `raw` (the file's bytes); OverlayError when it is not a valid one."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OverlayError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise OverlayError(f"not a knowledge overlay of format {FORMAT}")
    version, items = data.get("version"), data.get("variants")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise OverlayError("`version` must be a whole number, 0 or more")
    if not isinstance(items, list) or len(items) > MAX_VARIANTS:
        raise OverlayError(f"`variants` must be a list of at most {MAX_VARIANTS}")
    variants = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise OverlayError(f"variant {n} is not an object")
        passage_id, text, proposal = item.get("passage_id"), item.get("text"), item.get("proposal_id")
        if not isinstance(passage_id, str) or not passage_id.strip():
            raise OverlayError(f"variant {n}: `passage_id` must be text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_VARIANT_CHARS:
            raise OverlayError(f"variant {n}: `text` must be text of 1-{MAX_VARIANT_CHARS} characters")
        if proposal is not None and (not isinstance(proposal, int) or isinstance(proposal, bool)):
            raise OverlayError(f"variant {n}: `proposal_id` must be a whole number")
        variants.append(OverlayVariant(passage_id.strip(), " ".join(text.split()), proposal))
    return Overlay(version, tuple(variants))


def read(path: Path) -> Overlay:
    """The overlay at `path`: EMPTY when there is no file; OverlayError when it is broken."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return EMPTY
    except OSError as exc:
        raise OverlayError(f"unreadable: {exc}") from None
    return parse(raw)


def write(path: Path, overlay: Overlay) -> None:
    """Writes the overlay atomically (a reader sees the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "format": FORMAT,
        "version": overlay.version,
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "variants": [
            {"passage_id": v.passage_id, "text": v.text, "proposal_id": v.proposal_id} for v in overlay.variants
        ],
    }
    fd, tmp = tempfile.mkstemp(prefix=".overlay-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(body, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # the action server may run as another user than the console
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass(frozen=True)
class Applied:
    """What an overlay added to an index."""

    version: int
    added: tuple[OverlayVariant, ...]
    skipped: tuple[tuple[OverlayVariant, str], ...]
    """Variants left out, with why (already in the passages, unknown passage, a duplicate)."""


class BaseDocuments:
    """The base index's document texts and dense vectors, recovered once (the index on disk keeps
    vectors and passages, not the texts): needed to rebuild BM25 and faiss with extra documents."""

    def __init__(self, index: KnowledgeIndex, calibration_file: Path) -> None:
        texts, _kinds, group_of, _weights, groups = _documents(
            list(index.passages.values()), _oos_questions(calibration_file)
        )
        table = index.table
        if tuple(groups) != table.groups or list(group_of) != table.group_of_doc.tolist():
            raise OverlayError("the index on disk does not match its passages and anchors: rebuild it")
        if index.dense.ntotal != len(texts):
            raise OverlayError("the dense index does not hold one vector per document: rebuild it")
        self.texts = texts
        self.vectors = np.ascontiguousarray(index.dense.reconstruct_n(0, index.dense.ntotal), dtype=np.float32)


def augment(
    base: KnowledgeIndex,
    documents: BaseDocuments,
    overlay: Overlay,
    encode: Callable[[list[str]], np.ndarray],
) -> tuple[KnowledgeIndex, Applied]:
    """A copy of `base` with the overlay's variants added as question documents of their passages.
    `base` itself is left as it is (searches running on it are not disturbed)."""
    table = base.table
    group_of = {pid: g for g, pid in enumerate(table.groups)}
    taken = {normalize(q): p.id for p in base.passages.values() for q in p.questions}
    added: list[OverlayVariant] = []
    skipped: list[tuple[OverlayVariant, str]] = []
    for variant in overlay.variants:
        key = normalize(variant.text)
        if variant.passage_id not in base.passages:
            skipped.append((variant, "no such passage in the index"))
        elif not key:
            skipped.append((variant, "no searchable words"))
        elif taken.get(key) == variant.passage_id:
            skipped.append((variant, "already in the passage"))
        elif key in taken:
            skipped.append((variant, f"already a question of {taken[key]}"))
        else:
            taken[key] = variant.passage_id
            added.append(variant)
    applied = Applied(overlay.version, tuple(added), tuple(skipped))
    if not added:
        return base, applied
    new_texts = [v.text for v in added]
    vectors = np.vstack([documents.vectors, encode(new_texts)]).astype(np.float32)
    dense = faiss.IndexFlatIP(vectors.shape[1])
    dense.add(vectors)
    lexical = LexicalIndex.build(documents.texts + new_texts)
    extended = replace(
        table,
        group_of_doc=np.concatenate([table.group_of_doc, [group_of[v.passage_id] for v in added]]).astype(np.int64),
        doc_weight=np.concatenate([table.doc_weight, np.ones(len(added), dtype=np.float32)]).astype(np.float32),
    )
    manifest = {**base.manifest, "overlay": {"version": overlay.version, "variants": len(added)}}
    return replace(base, table=extended, dense=dense, lexical=lexical, manifest=manifest), applied


class OverlayFollower:
    """Keeps a retriever's index in step with the overlay file, checking at most every `every`
    seconds with one `stat`, reading and applying only when the file changed."""

    def __init__(
        self,
        path: Path,
        base: KnowledgeIndex,
        calibration_file: Path,
        embedder: Embedder,
        every: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path, self.base, self.calibration_file, self.embedder = path, base, calibration_file, embedder
        self.every, self.clock = every, clock
        self.index = base
        """The index to search: the base with the last good overlay applied."""
        self.applied: Applied | None = None
        self._checked_at: float | None = None
        self._seen: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of the file last read; None: no file
        self._documents: BaseDocuments | None = None
        self._vectors: dict[str, np.ndarray] = {}  # embedded variants, kept across versions
        self._lock = threading.Lock()

    def current(self) -> KnowledgeIndex:
        """The index to search now; looks at the file first when it is time to."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.every:
            return self.index
        if not self._lock.acquire(blocking=False):
            return self.index  # another request is applying it: search what is there meanwhile
        try:
            self._checked_at = now
            self._check()
        except Exception:  # fail safe: the overlay must never stop the assistant answering
            log.exception("knowledge overlay %s: could not apply it; answering without its changes", self.path)
        finally:
            self._lock.release()
        return self.index

    def _check(self) -> None:
        try:
            st = self.path.stat()
            seen: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            seen = None
        if seen == self._seen:
            return
        self._seen = seen
        try:
            overlay = read(self.path)
        except OverlayError as exc:
            log.error("knowledge overlay %s is broken and ignored (%s); answering as before", self.path, exc)
            return
        if self.applied is not None and overlay.version == self.applied.version:
            return
        self.index, self.applied = self._apply(overlay)
        skipped = "; ".join(f"{v.passage_id} {v.text!r}: {why}" for v, why in self.applied.skipped[:5])
        log.info(
            "knowledge overlay %s version %d: %d question variant(s) added%s",
            self.path,
            overlay.version,
            len(self.applied.added),
            f", {len(self.applied.skipped)} left out ({skipped})" if self.applied.skipped else "",
        )

    def _apply(self, overlay: Overlay) -> tuple[KnowledgeIndex, Applied]:
        if not overlay.variants:
            return self.base, Applied(overlay.version, (), ())
        if self._documents is None:
            self._documents = BaseDocuments(self.base, self.calibration_file)
        return augment(self.base, self._documents, overlay, self._encode)

    def _encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing), strict=True):
                self._vectors[text] = vector
        return np.vstack([self._vectors[t] for t in texts])
