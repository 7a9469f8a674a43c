"""The clinician-readable safety catalogue: rules as reviewed data, compiled once at import.

A catalogue file (YAML under `actions/safety/catalogue/`) holds:

- `terms`: named vocabularies, each a list of regex alternatives with a `note` for the reviewer
  ("breath, breathe, breathing and their misspellings");
- `rules`: one entry per warning sign or personal-medical category, with an `id`, a patient-facing
  `label`, a `clinical_note`, `patterns` (regex templates that name terms as `{term}` and word gaps
  as `{gap:N}`), optional `devanagari` patterns, `must_detect` and `must_not_detect` examples, and
  `reviewed: {by, on}`.

Templates expand `{name}` to the term's alternation and `{gap:N}` to "up to N whole words"; regex
quantifiers such as `{0,30}` are left alone (a placeholder always starts with a letter). Unknown
names are an error at load time, so a typo in a reviewed file can never silently drop a rule.

Standard library and PyYAML only; importable from Python 3.10 (Rasa) and 3.11 (action server).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from actions.safety.patterns import gap

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?::(\d+))?\}")


class CatalogueError(ValueError):
    """A catalogue file that cannot be compiled (the detectors refuse to start on it)."""


@dataclass(frozen=True)
class Reviewed:
    by: str
    on: str


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    clinical_note: str
    patterns: tuple[re.Pattern[str], ...]
    devanagari: tuple[re.Pattern[str], ...]
    must_detect: tuple[str, ...]
    must_not_detect: tuple[str, ...]
    reviewed: Reviewed
    extra: Mapping[str, Any]
    """Any further keys of the rule (detector-specific options), as written."""


@dataclass(frozen=True)
class Catalogue:
    kind: str
    path: Path
    terms: Mapping[str, str]
    """Term name -> its compiled-in alternation, "(?:a|b|c)"."""
    rules: Mapping[str, Rule]
    data: Mapping[str, Any]
    """The whole file as loaded (for detector-specific sections)."""

    def term(self, name: str) -> str:
        try:
            return self.terms[name]
        except KeyError:
            raise CatalogueError(f"{self.path.name}: unknown term {name!r}") from None

    def expand(self, template: str, where: str = "") -> str:
        """A regex template with its `{term}` and `{gap:N}` placeholders filled in."""

        def fill(m: re.Match[str]) -> str:
            name, number = m.group(1), m.group(2)
            if name == "gap":
                if number is None:
                    raise CatalogueError(f"{self.path.name}: {where}: write {{gap:N}} with a number")
                return gap(int(number))
            if number is not None:
                raise CatalogueError(f"{self.path.name}: {where}: {{{name}:{number}}} takes no number")
            if name not in self.terms:
                raise CatalogueError(f"{self.path.name}: {where}: unknown term {{{name}}}")
            return self.terms[name]

        return _PLACEHOLDER.sub(fill, template)

    def compile(self, template: str, where: str = "", word_start: bool = True) -> re.Pattern[str]:
        # Written the way the detectors see text (actions/safety/patterns.normalise): no Devanagari
        # nukta, candrabindu as anusvara, so a reviewer may write either spelling.
        expanded = self.expand(template, where).replace("\u093c", "").replace("\u0901", "\u0902")
        try:
            return re.compile((r"\b" if word_start else "") + "(?:" + expanded + ")")
        except re.error as exc:
            raise CatalogueError(f"{self.path.name}: {where}: bad pattern {template!r}: {exc}") from None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: expected a list of strings")
    return tuple(value)


def _compile_terms(raw: Any, path: Path) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path.name}: terms must be a mapping")
    terms: dict[str, str] = {}
    pending = dict(raw)
    # Terms may use earlier terms (`{breath}` inside another term); resolve in dependency order.
    for _ in range(len(pending) + 1):
        progressed = False
        for name, spec in list(pending.items()):
            match = spec.get("match") if isinstance(spec, dict) else spec
            alternatives = _strings(match, f"{path.name}: term {name}")
            if not alternatives:
                raise CatalogueError(f"{path.name}: term {name} has no alternatives")
            needed = {m.group(1) for a in alternatives for m in _PLACEHOLDER.finditer(a)} - {"gap"}
            if needed - set(terms):
                continue
            stub = Catalogue(kind="", path=path, terms=terms, rules={}, data={})
            body = "|".join(stub.expand(a, f"term {name}") for a in alternatives)
            try:
                re.compile(body)
            except re.error as exc:
                raise CatalogueError(f"{path.name}: term {name}: {exc}") from None
            terms[str(name)] = "(?:" + body + ")"
            del pending[name]
            progressed = True
        if not pending:
            return terms
        if not progressed:
            break
    raise CatalogueError(f"{path.name}: terms {sorted(pending)} refer to unknown or circular terms")


@cache
def load(name: str, directory: Path = CATALOGUE_DIR) -> Catalogue:
    """The compiled catalogue `<directory>/<name>.yml`; raises CatalogueError when it is unusable."""
    path = directory / f"{name}.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise CatalogueError(f"{path.name}: expected a mapping with a list of rules")
    terms = _compile_terms(data.get("terms"), path)
    catalogue = Catalogue(kind=str(data.get("kind", name)), path=path, terms=terms, rules={}, data=data)
    rules: dict[str, Rule] = {}
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise CatalogueError(f"{path.name}: rule #{i + 1} has no id")
        rid = raw["id"]
        if rid in rules:
            raise CatalogueError(f"{path.name}: rule {rid} appears twice")
        reviewed = raw.get("reviewed") or {}
        known = {"id", "label", "clinical_note", "patterns", "devanagari", "must_detect", "must_not_detect", "reviewed"}
        rules[rid] = Rule(
            id=rid,
            label=str(raw.get("label", "")),
            clinical_note=str(raw.get("clinical_note", "")).strip(),
            patterns=tuple(
                catalogue.compile(p, f"rule {rid}") for p in _strings(raw.get("patterns"), f"{path.name}: {rid}")
            ),
            devanagari=tuple(
                catalogue.compile(p, f"rule {rid} (devanagari)", word_start=False)
                for p in _strings(raw.get("devanagari"), f"{path.name}: {rid}")
            ),
            must_detect=_strings(raw.get("must_detect"), f"{path.name}: {rid}.must_detect"),
            must_not_detect=_strings(raw.get("must_not_detect"), f"{path.name}: {rid}.must_not_detect"),
            # YAML 1.1 reads a bare `on:` key as the boolean True
            reviewed=Reviewed(by=str(reviewed.get("by", "")), on=str(reviewed.get("on", reviewed.get(True, "")))),
            extra={k: v for k, v in raw.items() if k not in known},
        )
    return Catalogue(kind=catalogue.kind, path=path, terms=terms, rules=rules, data=data)
