"""The learned route classifier: which of the nine routes a patient message is (a general
question, personal medical, warning signs, asking for a person, booking, clinic information,
small talk, a bare yes/no, out of scope), as calibrated probabilities.

Logistic regression over multilingual-e5-small embeddings (English, Hinglish and Devanagari in one
space) and character n-grams (typos, Hinglish spellings), trained on the corpus's training split,
the NLU's hand-written examples and the knowledge base's question variants (English and Hindi).
The held-out split is never read here. Built by `make train` (`python -m understanding build`) and
cached under var/understanding/ by a fingerprint of its training data.

It proposes; `actions/routing.py` decides. It never hands a message off on its own, and the
rule-based safety detectors run before it whatever it says.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from understanding import corpus
from understanding.embeddings import as_embedded, e5

log = logging.getLogger(__name__)

ROOT = corpus.ROOT
CACHE_DIR = ROOT / "var" / "understanding"
_VERSION = 4
MAX_CHARS = 2000
"""The classifier reads the first 2,000 characters (the safety detectors read every character)."""

NLU_INTENT_ROUTES = {
    "ask_question": "answer",
    "choose_topic": "answer",
    "warning_signs": "emergency",
    "personal_medical": "medical",
    "request_human": "human",
    "book_appointment": "booking",
    "clinic_info": "clinic_info",
    "greet": "smalltalk",
    "goodbye": "smalltalk",
    "thanks": "smalltalk",
    "bot_challenge": "smalltalk",
    "affirm": "yes_no",
    "deny": "yes_no",
    "out_of_scope": "out_of_scope",
}


@dataclass(frozen=True)
class Example:
    text: str
    route: str
    source: str
    topic: str | None = None
    """For general questions: the topic that answers it (the first one the corpus names)."""


@dataclass(frozen=True)
class RouteGuess:
    route: str
    confidence: float
    probabilities: dict[str, float] = field(default_factory=dict)

    topics: tuple[tuple[str, float], ...] = ()
    """The likeliest topics with their probabilities, best first (the topic head)."""

    def p(self, route: str) -> float:
        return self.probabilities.get(route, 0.0)


def _nlu_examples() -> list[Example]:
    out: list[Example] = []
    for path in sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            route = NLU_INTENT_ROUTES.get(str(block.get("intent")))
            if route is None:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- ") and not line[2:].lstrip().startswith("/"):
                    out.append(Example(line[2:].strip(), route, f"nlu:{block.get('intent')}"))
    return out


def _knowledge_examples() -> list[Example]:
    out: list[Example] = []
    for folder in ("knowledge/passages", "knowledge/translations/hi"):
        for path in sorted((ROOT / folder).glob("*/*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            topic = str(data.get("topic") or "") or None
            out += [Example(str(q), "answer", f"knowledge:{folder}", topic) for q in data.get("questions") or []]
    return out


def training_examples() -> list[Example]:
    """The corpus's training split, the NLU's examples, the knowledge base's questions."""
    rows = [Example(m.text, m.route, "corpus", m.topics[0] if m.topics else None) for m in corpus.load("train")]
    return rows + _nlu_examples() + _knowledge_examples()


def _clip(text: str) -> str:
    return " ".join(text[:MAX_CHARS].split())


@dataclass
class Router:
    vectorizer: Any
    model: Any
    fingerprint: str
    topic_model: Any = None
    stats: dict[str, Any] = field(default_factory=dict)

    def _x(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        clipped = [_clip(t) for t in texts]
        chars = self.vectorizer.transform([t.lower() for t in clipped])
        return hstack([chars, csr_matrix(e5()([as_embedded(t)[:MAX_CHARS] for t in texts]) * 2.0)]).tocsr()

    def guess(self, text: str) -> RouteGuess:
        if not text.strip():
            return RouteGuess("answer", 0.0, {})
        x = self._x([text])
        probs = self.model.predict_proba(x)[0]
        classes = [str(c) for c in self.model.classes_]
        best = int(np.argmax(probs))
        topics: tuple[tuple[str, float], ...] = ()
        if self.topic_model is not None:
            tp = self.topic_model.predict_proba(x)[0]
            order = np.argsort(-tp)[:3]
            topics = tuple((str(self.topic_model.classes_[i]), float(tp[i])) for i in order)
        probabilities = {c: float(p) for c, p in zip(classes, probs, strict=True)}
        return RouteGuess(classes[best], float(probs[best]), probabilities, topics)


def fingerprint(examples: Sequence[Example]) -> str:
    digest = hashlib.sha256(f"v{_VERSION}".encode())
    for ex in examples:
        digest.update(f"{ex.route}\t{ex.topic}\t{ex.text}\0".encode("utf-8", "replace"))
    return digest.hexdigest()[:16]


def train(examples: Sequence[Example]) -> Router:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    texts = [_clip(e.text) for e in examples]
    y = np.array([e.route for e in examples])
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=60000
    )
    vectorizer.fit([t.lower() for t in texts])
    router = Router(vectorizer, None, fingerprint(examples))
    x = router._x(texts)
    model = LogisticRegression(C=10.0, max_iter=3000)
    oof = cross_val_predict(model, x, y, cv=5)
    router.stats = {"examples": len(examples), "cv_accuracy": round(float(np.mean(oof == y)), 4)}
    router.model = model.fit(x, y)
    has_topic = np.array([e.route == "answer" and e.topic is not None for e in examples])
    topics = np.array([e.topic or "" for e in examples])[has_topic]
    topic_model = LogisticRegression(C=10.0, max_iter=3000)
    oof_topics = cross_val_predict(topic_model, x[has_topic], topics, cv=5)
    router.stats["topic_examples"] = int(has_topic.sum())
    router.stats["topic_cv_accuracy"] = round(float(np.mean(oof_topics == topics)), 4)
    router.topic_model = topic_model.fit(x[has_topic], topics)
    return router


def cache_path(fp: str) -> Path:
    return CACHE_DIR / f"router-{fp}.pkl"


def build(force: bool = False) -> Router:
    """The classifier for the current training data: from the cache, or trained and cached."""
    examples = training_examples()
    path = cache_path(fingerprint(examples))
    if path.exists() and not force:
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)  # our own file, written below
            if isinstance(loaded, Router):
                return loaded
        except Exception:
            log.warning("route classifier cache %s is unreadable: rebuilding it", path)
    router = train(examples)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(router, fh)
    tmp.replace(path)
    for old in path.parent.glob("router-*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)
    return router


def load_or_none() -> Router | None:
    """The classifier `make train` built for the current training data, or None: routing then
    rests on the NLU and the word checks alone (logged loudly). Never trains: a server that is
    starting must not spend minutes on it."""
    try:
        path = cache_path(fingerprint(training_examples()))
        if not path.exists():
            log.error("no route classifier at %s (run `make train`): routing rests on the NLU alone", path)
            return None
        with path.open("rb") as fh:
            loaded = pickle.load(fh)  # our own file, written by build()
        return loaded if isinstance(loaded, Router) else None
    except Exception:
        log.exception("route classifier unavailable: routing rests on the NLU alone")
        return None
