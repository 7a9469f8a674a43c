"""Checks the safety catalogues (the reviewed rules) the way `knowledge lint` checks the passages:
every rule is complete and reviewed, and every example behaves as the file says.

    python -m actions.safety lint
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from actions.safety import catalogue

MIN_MUST_DETECT = 2
MIN_MUST_NOT_DETECT = 1
MAX_LABEL = 60
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class SafetyLintIssue:
    level: str  # "error" or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.where}: {self.message}"


def _warning_sign_ids(text: str) -> set[str]:
    from actions.safety.warning_signs import detect_warning_signs

    return {s.id for s in detect_warning_signs(text)}


def _personal_ids(text: str) -> set[str]:
    from actions.safety.personal_medical import detect_personal_medical

    found = detect_personal_medical(text)
    return {found.reason} if found is not None else set()


DETECTORS: dict[str, Callable[[str], set[str]]] = {
    "warning_signs": _warning_sign_ids,
    "personal_medical": _personal_ids,
}


def lint_catalogue(name: str, detect: Callable[[str], set[str]]) -> list[SafetyLintIssue]:
    issues: list[SafetyLintIssue] = []
    try:
        cat = catalogue.load(name)
    except catalogue.CatalogueError as exc:
        return [SafetyLintIssue("error", name, str(exc))]
    for term, spec in (cat.data.get("terms") or {}).items():
        if not isinstance(spec, dict) or not str(spec.get("note", "")).strip():
            issues.append(SafetyLintIssue("error", f"{name}: term {term}", "no `note` for the reviewer"))
    for rule in cat.rules.values():
        where = f"{name}: {rule.id}"

        def err(message: str, where: str = where) -> None:
            issues.append(SafetyLintIssue("error", where, message))

        if not rule.label or len(rule.label) > MAX_LABEL:
            err(f"label must be 1-{MAX_LABEL} characters")
        if not rule.clinical_note:
            err("no clinical_note")
        if not rule.reviewed.by:
            err("no reviewed.by")
        if not _DATE.match(rule.reviewed.on):
            err("reviewed.on must be a date (YYYY-MM-DD)")
        if rule.reviewed.by.startswith("placeholder"):
            issues.append(SafetyLintIssue("warning", where, "awaiting clinical review (reviewed.by is a placeholder)"))
        if not rule.patterns and not rule.devanagari and not rule.extra.get("handled_in_code"):
            err("no patterns")
        if len(rule.must_detect) < MIN_MUST_DETECT:
            err(f"at least {MIN_MUST_DETECT} must_detect examples are needed")
        if len(rule.must_not_detect) < MIN_MUST_NOT_DETECT:
            err(f"at least {MIN_MUST_NOT_DETECT} must_not_detect example is needed")
        for example in rule.must_detect:
            found = detect(example)
            if rule.id not in found:
                err(f"must_detect not detected as {rule.id}: {example!r} (found {sorted(found) or 'nothing'})")
        for example in rule.must_not_detect:
            found = detect(example)
            if found:
                err(f"must_not_detect was detected: {example!r} (as {sorted(found)})")
    return issues


def lint_all() -> list[SafetyLintIssue]:
    issues: list[SafetyLintIssue] = []
    for name, detect in DETECTORS.items():
        issues += lint_catalogue(name, detect)
    try:
        from actions.safety import texts as safety_texts

        text_lint = getattr(safety_texts, "lint", None)
        if callable(text_lint):
            for problem in text_lint():
                issues.append(SafetyLintIssue("error", "texts", str(problem)))
    except catalogue.CatalogueError as exc:
        issues.append(SafetyLintIssue("error", "texts", str(exc)))
    from actions import translations  # the other replies' translations (actions/texts.hi.yml)

    for problem in translations.lint("hi"):
        issues.append(SafetyLintIssue("error", "texts.hi.yml", problem))
    return issues
