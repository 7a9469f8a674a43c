"""Rule-based detection of personal medical questions, which go to a clinician, not to the FAQ.

The rules live in the clinician-readable catalogue `catalogue/personal_medical.yml`: its vocabulary
(`terms`), one rule per reason (`rules`, tried in file order, the first that matches names the
reason), and the wording of the guards (`guards`). This module holds only the logic: how a rule's
patterns are searched and how a guard named in a rule's `rejects` decides that a match is not
personal after all ("can I take painkillers after?" is a general question, "I take painkillers" is
not).

A bug is never hidden: a catalogue that does not compile raises `CatalogueError` at import, and
anything going wrong while detecting raises to the caller (the safety gate hands the message to a
clinician with a staff alert). Anything that is not a non-empty string is simply not personal.

Standard library and PyYAML only; importable from Python 3.10 and 3.11.
"""

from __future__ import annotations

import bisect
import importlib
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from actions.safety.catalogue import Catalogue, CatalogueError, load
from actions.safety.patterns import normalise

if sys.version_info >= (3, 11):
    # The regex parser, only to list the literal strings a pattern needs (see `_required`).
    sre_constants = importlib.import_module("re._constants")
    sre_parse = importlib.import_module("re._parser")
else:  # pragma: no cover - Python 3.10 (the Rasa environment)
    import sre_constants
    import sre_parse

__all__ = [
    "CATALOGUE",
    "GUARDS",
    "REASONS",
    "Guard",
    "PersonalMedical",
    "compile_guards",
    "compile_rules",
    "detect_personal_medical",
]

CATALOGUE_NAME = "personal_medical"
_AFTER_WINDOW = 40
"""How far past a match an `after` guard looks (characters)."""
_GRAM = 3
_GRAM_MIN_TEXT = 500
"""Messages longer than this get a trigram index for the literal prefilter."""
_WORD = re.compile(r"\w+")
_Literal = tuple[str, bool]
"""A string a pattern needs, and whether it must begin a word of the message."""
_RULE_KEYS = {"guarded"}
"""Keys a rule may have beyond the loader's own (a typo such as `gaurded` must not drop patterns)."""
_GROUP_KEYS = {"rejects", "patterns", "devanagari"}
_GUARD_KEYS = {"note", "before", "after", "window", "message_has", "message_lacks", "within"}


@dataclass(frozen=True)
class PersonalMedical:
    reason: str
    """The id of the catalogue rule that matched (one of REASONS)."""
    matched: str
    """The span of the normalised text that matched."""
    label: str = ""
    """The rule's label, for staff ("pregnancy, breastfeeding or trying to conceive")."""

    @property
    def rule(self) -> str:
        """The catalogue rule id (the same as `reason`)."""
        return self.reason


class _Message:
    """One normalised message, with the whole-message facts guards ask about computed once."""

    __slots__ = ("_facts", "_grams", "_literals", "_starts", "_words", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._facts: dict[int, bool] = {}
        self._literals: dict[_Literal, bool] = {}
        self._starts: dict[int, list[int]] = {}
        self._grams: set[str] | None = None
        self._words: list[str] | None = None

    def contains(self, pattern: re.Pattern[str]) -> bool:
        key = id(pattern)
        found = self._facts.get(key)
        if found is None:
            found = self._facts[key] = pattern.search(self.text) is not None
        return found

    def near(self, pattern: re.Pattern[str], lo: int, hi: int) -> bool:
        """Whether a match of `pattern` starts between offsets lo and hi (all matches found once)."""
        starts = self._starts.get(id(pattern))
        if starts is None:
            starts = self._starts[id(pattern)] = [m.start() for m in pattern.finditer(self.text)]
        i = bisect.bisect_left(starts, lo)
        return i < len(starts) and starts[i] <= hi

    def has_any(self, literals: Iterable[_Literal]) -> bool:
        """Whether any of these strings occurs in the message (each looked up once per message)."""
        seen = self._literals
        for literal in literals:
            found = seen.get(literal)
            if found is None:
                found = seen[literal] = self._occurs(literal)
            if found:
                return True
        return False

    def _occurs(self, literal: _Literal) -> bool:
        string, word_start = literal
        if word_start:
            # Some word of the message starts with it (looked up in the sorted words).
            if self._words is None:
                self._words = sorted(set(_WORD.findall(self.text)))
            i = bisect.bisect_left(self._words, string)
            return i < len(self._words) and self._words[i].startswith(string)
        # A string can only occur if every three characters of it do: a set look-up per trigram
        # rules most strings out without scanning a long message.
        if len(string) >= _GRAM and len(self.text) > _GRAM_MIN_TEXT:
            if self._grams is None:
                text = self.text
                self._grams = {text[i : i + _GRAM] for i in range(len(text) - _GRAM + 1)}
            grams = self._grams
            if any(string[i : i + _GRAM] not in grams for i in range(len(string) - _GRAM + 1)):
                return False
        return string in self.text


@dataclass(frozen=True)
class Guard:
    """A reason a match is not personal, named in a rule's `rejects`.

    Either positional (words right `before` the match, within `window` characters, or right
    `after` it: rejects when either is there), or about the message (rejects when it has
    `message_has` and lacks `message_lacks`; either may be left out), the whole of it or, with
    `within`, only that many characters either side of the match (a long letter mentions
    everything somewhere).
    """

    name: str
    note: str
    before: re.Pattern[str] | None = None
    after: re.Pattern[str] | None = None
    window: int = 20
    message_has: re.Pattern[str] | None = None
    message_lacks: re.Pattern[str] | None = None
    within: int | None = None

    def rejects(self, message: _Message, start: int, end: int) -> bool:
        text = message.text
        if self.before is not None and self.before.search(text, max(0, start - self.window), start):
            return True
        if self.after is not None and self.after.match(text, end, end + _AFTER_WINDOW):
            return True
        if self.message_has is None and self.message_lacks is None:
            return False
        if self.message_has is not None and not self._has(message, self.message_has, start, end):
            return False
        return self.message_lacks is None or not self._has(message, self.message_lacks, start, end)

    def _has(self, message: _Message, pattern: re.Pattern[str], start: int, end: int) -> bool:
        if self.within is None:
            return message.contains(pattern)
        return message.near(pattern, start - self.within, end + self.within)


@dataclass(frozen=True)
class _Check:
    pattern: re.Pattern[str]
    rejects: tuple[Guard, ...]
    needs: tuple[frozenset[_Literal], ...]
    """Sets of strings such that every match contains one string of each set: when a set has no
    string in the message, the pattern cannot match and is not searched. Most patterns name rare
    words ("warfarin", "pregnan"), so a long message costs a few look-ups, not 300 regex scans."""


# --- the literal prefilter -----------------------------------------------------------------------
# Derived from each compiled pattern by walking the regex parser's tree. Conservative by
# construction (anything it does not understand needs nothing), and the tests compare every
# result with and without it.

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)
_LOOKAROUNDS = {sre_constants.ASSERT, sre_constants.ASSERT_NOT}
_STARTS = {sre_constants.AT_BOUNDARY, sre_constants.AT_BEGINNING, sre_constants.AT_BEGINNING_STRING}
_SPACE = {sre_constants.CATEGORY_SPACE, sre_constants.CATEGORY_UNI_SPACE}
_MAX_NEEDS = 3
"""At most this many sets per pattern (the most selective ones)."""


def _non_word_class(op: Any, av: Any) -> bool:
    """Whether a one-character item can only match a non-word character (a space, a comma ...)."""
    if op is sre_constants.LITERAL:
        return not _WORD.fullmatch(chr(av))
    if op is sre_constants.IN:
        return all(
            (o is sre_constants.CATEGORY and a in _SPACE)
            or (o is sre_constants.LITERAL and not _WORD.fullmatch(chr(a)))
            for o, a in av
        )
    return False


def _selectivity(literals: frozenset[_Literal]) -> tuple[int, int]:
    """Higher is a better filter: a longer shortest string (a word start counts more), then fewer."""
    return min(len(s) + (2 if w else 0) for s, w in literals), -len(literals)


def _required(items: Any, word_start: bool) -> tuple[list[frozenset[_Literal]], bool]:
    """The sets of literals every match of the parsed regex `items` contains one of each, and
    whether the position after `items` is a word start (follows a non-word character or the start).

    `word_start` says the same of the position before `items`. A literal is marked as starting a
    word when it is all word characters and follows such a position: it must then begin a word of
    the message. A sequence needs what each of its parts needs (a run of literal characters, a
    group, a repeat of at least one, an alternation whose every branch needs something: the union
    of each branch's best set); anything else needs nothing."""
    needs: list[frozenset[_Literal]] = []
    run: list[str] = []
    run_start = False
    state = word_start

    def flush() -> None:
        if run:
            string = "".join(run)
            needs.append(frozenset([(string, run_start and _WORD.fullmatch(string) is not None)]))
            run.clear()

    for op, av in items:
        if op is sre_constants.LITERAL:
            if not run:
                run_start = state
            run.append(chr(av))
            state = _non_word_class(op, av)
            continue
        flush()
        if op is sre_constants.AT:
            state = av in _STARTS
        elif op in _LOOKAROUNDS:
            pass  # zero width: the position, and what precedes it, do not change
        elif op is sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            found, state = _required(sub, state)
            if not add_flags and not del_flags:
                needs += found
        elif op is sre_constants.BRANCH:
            results = [_required(branch, state) for branch in av[1]]
            if all(found for found, _ in results):
                needs.append(frozenset().union(*(max(found, key=_selectivity) for found, _ in results)))
            state = all(end for _, end in results)
        elif op in _REPEATS or (_POSSESSIVE is not None and op is _POSSESSIVE):
            low, _high, sub = av
            found, end = _required(sub, False)
            if low >= 1:
                needs += found
            state = end if low >= 1 else state and end
        elif _ATOMIC is not None and op is _ATOMIC:
            found, state = _required(av, state)
            needs += found
        else:
            state = _non_word_class(op, av)
    flush()
    return needs, state


def _needs(pattern: re.Pattern[str]) -> tuple[frozenset[_Literal], ...]:
    if pattern.flags & re.IGNORECASE:
        return ()
    # The start of a pattern is a word start only where the pattern says so (English patterns
    # begin with \b; Devanagari ones do not).
    found, _ = _required(sre_parse.parse(pattern.pattern, pattern.flags), False)
    best = sorted(set(found), key=_selectivity, reverse=True)[:_MAX_NEEDS]
    return tuple(sorted(best, key=len))  # the cheapest look-ups first


def _cheap_first(guards: tuple[Guard, ...]) -> tuple[Guard, ...]:
    """Whole-message guards first: after the first match their answer is a look-up."""
    return tuple(sorted(guards, key=lambda g: g.before is not None or g.after is not None))


@dataclass(frozen=True)
class _Rule:
    id: str
    label: str
    checks: tuple[_Check, ...]


def _template(spec: Mapping[str, Any], key: str, where: str) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise CatalogueError(f"{where}: {key} must be a non-empty string")
    return value


def _compile(catalogue: Catalogue, regex: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise CatalogueError(f"{catalogue.path.name}: {where}: bad pattern: {exc}") from None


def compile_guards(catalogue: Catalogue) -> dict[str, Guard]:
    """The catalogue's `guards`, compiled; raises CatalogueError on anything malformed."""
    raw = catalogue.data.get("guards") or {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{catalogue.path.name}: guards must be a mapping")
    guards: dict[str, Guard] = {}
    for name, spec in raw.items():
        where = f"{catalogue.path.name}: guard {name}"
        if not isinstance(spec, dict) or set(spec) - _GUARD_KEYS:
            raise CatalogueError(f"{where}: expected a mapping with keys from {sorted(_GUARD_KEYS)}")
        note = _template(spec, "note", where)
        if note is None:
            raise CatalogueError(f"{where}: a guard needs a note for the reviewer")
        before, after = _template(spec, "before", where), _template(spec, "after", where)
        has, lacks = _template(spec, "message_has", where), _template(spec, "message_lacks", where)
        if ((before or after) and (has or lacks)) or not (before or after or has or lacks):
            raise CatalogueError(f"{where}: give before/after, or message_has/message_lacks")
        window = spec.get("window", 20)
        if not isinstance(window, int) or not 0 < window <= 200:
            raise CatalogueError(f"{where}: window must be a number of characters (1-200)")
        within = spec.get("within")
        if within is not None and (not isinstance(within, int) or not 0 < within <= 2000 or not (has or lacks)):
            raise CatalogueError(f"{where}: within is a number of characters (1-2000) for message_has/lacks")
        guards[str(name)] = Guard(
            name=str(name),
            note=note.strip(),
            # `before` words end exactly where the match starts.
            before=_compile(catalogue, r"\b(?:" + catalogue.expand(before, where) + r")$", where) if before else None,
            after=_compile(catalogue, catalogue.expand(after, where), where) if after else None,
            window=window,
            message_has=_compile(catalogue, catalogue.expand(has, where), where) if has else None,
            message_lacks=_compile(catalogue, catalogue.expand(lacks, where), where) if lacks else None,
            within=within,
        )
    return guards


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CatalogueError(f"{where}: expected a list of patterns")
    return list(value)


def compile_rules(catalogue: Catalogue) -> tuple[_Rule, ...]:
    """The catalogue's rules with their guards, in order; raises CatalogueError on anything malformed
    (an unknown guard or key must never silently drop a pattern)."""
    guards = compile_guards(catalogue)
    name = catalogue.path.name
    rules: list[_Rule] = []
    for rule in catalogue.rules.values():
        where = f"rule {rule.id}"
        extra = set(rule.extra) - _RULE_KEYS
        if extra:
            raise CatalogueError(f"{name}: {where}: unknown keys {sorted(extra)}")
        checks = [_Check(p, (), _needs(p)) for p in rule.patterns + rule.devanagari]
        groups = rule.extra.get("guarded") or []
        if not isinstance(groups, list):
            raise CatalogueError(f"{name}: {where}: guarded must be a list")
        for i, group in enumerate(groups):
            gwhere = f"{where} guarded #{i + 1}"
            if not isinstance(group, dict) or set(group) - _GROUP_KEYS:
                raise CatalogueError(f"{name}: {gwhere}: expected keys from {sorted(_GROUP_KEYS)}")
            names = _strings(group.get("rejects"), f"{name}: {gwhere}: rejects")
            unknown = [n for n in names if n not in guards]
            if not names or unknown:
                raise CatalogueError(f"{name}: {gwhere}: rejects must name known guards (unknown: {unknown})")
            english, devanagari = (
                _strings(group.get("patterns"), f"{name}: {gwhere}"),
                _strings(group.get("devanagari"), f"{name}: {gwhere}"),
            )
            if not english and not devanagari:
                raise CatalogueError(f"{name}: {gwhere}: needs patterns")
            rejects = _cheap_first(tuple(guards[n] for n in names))
            compiled = [catalogue.compile(p, gwhere) for p in english]
            compiled += [catalogue.compile(p, gwhere, word_start=False) for p in devanagari]
            checks += [_Check(p, rejects, _needs(p)) for p in compiled]
        if not checks:
            raise CatalogueError(f"{name}: {where} has no patterns")
        rules.append(_Rule(id=rule.id, label=rule.label, checks=tuple(checks)))
    if not rules:
        raise CatalogueError(f"{catalogue.path.name}: no rules")
    return tuple(rules)


_PREFILTER_OFF = False
"""Tests turn the literal prefilter off to prove it never changes a result."""

CATALOGUE: Catalogue = load(CATALOGUE_NAME)
GUARDS: Mapping[str, Guard] = compile_guards(CATALOGUE)
_RULES: tuple[_Rule, ...] = compile_rules(CATALOGUE)
REASONS: tuple[str, ...] = tuple(rule.id for rule in _RULES)
"""Every reason (catalogue rule id), in the order they are tried: the first that matches is returned."""


def _first_accepted(message: _Message, check: _Check) -> tuple[int, int] | None:
    """The earliest match no guard rejects. After a rejected match the search goes on from the
    next character, so a shorter overlapping match is not skipped."""
    if not _PREFILTER_OFF and not all(message.has_any(strings) for strings in check.needs):
        return None
    text, pos = message.text, 0
    while True:
        m = check.pattern.search(text, pos)
        if m is None:
            return None
        if not any(guard.rejects(message, m.start(), m.end()) for guard in check.rejects):
            return m.start(), m.end()
        pos = m.start() + 1


def _first_match(message: _Message, checks: tuple[_Check, ...]) -> tuple[int, int] | None:
    spans = [span for span in (_first_accepted(message, check) for check in checks) if span is not None]
    return min(spans) if spans else None


def detect_personal_medical(text: str) -> PersonalMedical | None:
    """The reason a message is a personal medical question, or None for a general question.

    Rules are tried in catalogue order and the first that matches is returned; None also for
    anything that is not a non-empty string. Raises on a bug (the caller fails closed).
    """
    norm = normalise(text)
    if not norm:
        return None
    message = _Message(norm)
    for rule in _RULES:
        span = _first_match(message, rule.checks)
        if span is not None:
            return PersonalMedical(reason=rule.id, matched=norm[span[0] : span[1]], label=rule.label)
    return None
