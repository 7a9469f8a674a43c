"""The safety gate: every whole message is checked for warning signs and personal medical questions
before anything else decides what to say. It fails closed.

- Warning signs: the rule-based detector (the floor; catalogue/warning_signs.yml), then, only to ADD
  recall, the learned detector (actions/safety/learned.py). A learned finding can turn a message
  into an emergency; nothing can turn a rule's finding into anything else.
- Personal medical questions: the rule-based detector (catalogue/personal_medical.yml), then the
  learned detector.
- A detector that raises is a `check_failed` finding: the message is handed to a clinician with a
  staff alert (never silence, never an ordinary answer).

Pure functions over plain data; `respond()` acts on the `Assessment`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from actions.safety.personal_medical import PersonalMedical, detect_personal_medical
from actions.safety.warning_signs import WarningSign, detect_warning_signs

log = logging.getLogger(__name__)

Source = Literal["rules", "learned"]
"""The NLU's `warning_signs` intent is not a source: measured through the whole assistant on the
training split it added no emergency the rules and the learned detector missed, and 31 false
urgent replies out of 287 general messages even at a confidence of 0.85 (docs/safety/safety-case.md).
The Rasa pipeline still turns a rule finding into that intent, so the dialogue records it."""


class LearnedDetector(Protocol):
    """What the gate needs from a learned detector (actions/safety/learned.py)."""

    def emergency(self, text: str) -> float: ...

    def personal(self, text: str) -> float: ...

    @property
    def emergency_threshold(self) -> float: ...

    @property
    def personal_threshold(self) -> float: ...


@dataclass(frozen=True)
class Assessment:
    """What the safety checks found in one message."""

    signs: tuple[WarningSign, ...] = ()
    """Warning signs the rules found (rule id, label, matched span)."""
    emergency_sources: tuple[Source, ...] = ()
    """Which layers called it an emergency ("rules", "learned"); empty when none did."""
    personal: PersonalMedical | None = None
    personal_source: Source | None = None
    failed: tuple[str, ...] = ()
    """Detectors that raised ("warning_signs", "personal_medical", "learned"): fail closed."""
    scores: tuple[tuple[str, float], ...] = ()
    """Learned scores, for staff review ("emergency", 0.93)."""

    @property
    def emergency(self) -> bool:
        return bool(self.emergency_sources)

    @property
    def check_failed(self) -> bool:
        """A rule-based detector raised: the message cannot be shown to be safe."""
        return bool(set(self.failed) & {"warning_signs", "personal_medical"})

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids behind the decision, as staff see them ("warning_sign:breathing", ...)."""
        out = [f"warning_sign:{s.id}" for s in self.signs]
        if self.emergency and not self.signs:
            out += [f"warning_sign:{source}" for source in self.emergency_sources]
        if self.personal is not None:
            out.append(f"personal_medical:{self.personal.reason}")
        elif self.personal_source == "learned":
            out.append("personal_medical:learned")
        out += [f"check_failed:{name}" for name in self.failed]
        return tuple(out)


def _guarded(name: str, check: Callable[[], object], failed: list[str]) -> object:
    try:
        return check()
    except Exception:
        log.exception("safety detector %s raised: failing closed (handoff and staff alert)", name)
        failed.append(name)
        return None


def assess(
    text: str,
    learned: LearnedDetector | None = None,
) -> Assessment:
    """Every safety check on one whole message. Never raises."""
    failed: list[str] = []
    signs = _guarded("warning_signs", lambda: detect_warning_signs(text), failed)
    signs = signs if isinstance(signs, tuple) else ()
    sources: list[Source] = ["rules"] if signs else []
    scores: list[tuple[str, float]] = []
    personal = _guarded("personal_medical", lambda: detect_personal_medical(text), failed)
    personal = personal if isinstance(personal, PersonalMedical) else None
    personal_source: Source | None = "rules" if personal is not None else None

    if learned is not None and text.strip():
        detector = learned
        em = _guarded("learned", lambda: detector.emergency(text), failed)
        if isinstance(em, float):
            scores.append(("emergency", round(em, 4)))
            if em >= detector.emergency_threshold and not signs:
                sources.append("learned")
        pm = _guarded("learned", lambda: detector.personal(text), failed) if "learned" not in failed else None
        if isinstance(pm, float):
            scores.append(("personal", round(pm, 4)))
            if pm >= detector.personal_threshold and personal is None:
                personal_source = "learned"
    return Assessment(
        signs=signs,
        emergency_sources=tuple(dict.fromkeys(sources)),
        personal=personal,
        personal_source=personal_source,
        failed=tuple(dict.fromkeys(failed)),
        scores=tuple(scores),
    )
