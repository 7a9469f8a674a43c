"""Approved question variants as a patch to the YAML passages (`knowledge/passages/<topic>/<id>.yml`).

The passages are written by hand, so the patch does not re-dump them: each new variant becomes one
line after the last item of the passage's `questions:` list, in the same indentation and as a
double-quoted scalar, and the result is parsed again to prove it holds exactly the old questions plus
the new ones and nothing else changed. A passage whose file cannot be changed that way is left out of
the patch and named in its header. The header lines start with `#`, which `git apply` and `patch`
ignore; apply the file at the project root with `git apply` (or `patch -p1`).

Variants already in the passage (the patch was applied before) are not added again, so the patch
is always "what the YAML still lacks".
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from core.settings import PROJECT_ROOT
from knowledge.passages import Passage, PassageError, load_passages
from knowledge.text import normalize

_QUESTIONS_BLOCK = re.compile(r"^questions:[ \t]*(#.*)?$")
_QUESTIONS_FLOW = re.compile(r"^questions:[ \t]*\[.*\][ \t]*(#.*)?$")
_ITEM = re.compile(r"^([ \t]*)-[ \t]")


class PatchError(ValueError):
    """A passage file the variants cannot be added to safely."""


@dataclass(frozen=True)
class PatchResult:
    text: str
    """The patch: header comments, then one unified diff per changed file (empty diff: nothing to add)."""
    variants: int
    """Question variants the patch adds."""
    passages: tuple[str, ...]
    """Passages the patch changes."""
    left_out: tuple[str, ...]
    """Why some variants are not in it ("pain-01: 'does it sting': already in the passage")."""


def scalar(text: str) -> str:
    """A double-quoted YAML scalar on one line (JSON's string syntax is a subset of YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _questions_of(document: object) -> list[str]:
    if not isinstance(document, dict):
        raise PatchError("the file does not hold a mapping")
    questions = document.get("questions") or []
    if not isinstance(questions, list):
        raise PatchError("`questions` is not a list")
    return [str(q) for q in questions]


def add_questions(original: str, additions: list[str]) -> str:
    """The file's text with `additions` appended to its `questions:` list, everything else as it was."""
    before = yaml.safe_load(original)
    old = _questions_of(before)
    lines = original.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _QUESTIONS_BLOCK.match(line.rstrip("\r\n"))), None)
    if start is not None:
        last, indent = start, "  "
        found_item = False
        for i in range(start + 1, len(lines)):
            line = lines[i]
            bare = line.strip()
            if bare and not line[0].isspace() and not line.startswith("-") and not line.startswith("#"):
                break  # the next key
            item = _ITEM.match(line)
            if item and not found_item:
                indent, found_item = item.group(1), True
            if bare and not bare.startswith("#"):
                last = i
        if not lines[last].endswith("\n"):
            lines[last] += "\n"
        lines[last + 1 : last + 1] = [f"{indent}- {scalar(q)}\n" for q in additions]
    else:
        flow = next((i for i, line in enumerate(lines) if _QUESTIONS_FLOW.match(line.rstrip("\r\n"))), None)
        block = ["questions:\n", *(f"  - {scalar(q)}\n" for q in [*old, *additions])]
        if flow is not None:
            lines[flow : flow + 1] = block
        elif "questions" in before:
            raise PatchError("its `questions:` list is written in a way this export does not change")
        else:
            if lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            lines += block
    changed = "".join(lines)
    after = yaml.safe_load(changed)
    if _questions_of(after) != [*old, *additions] or {k: v for k, v in after.items() if k != "questions"} != {
        k: v for k, v in before.items() if k != "questions"
    }:
        raise PatchError("adding the variants would change more than its questions")
    return changed


def _label(path: Path, passages_dir: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:  # passages kept outside the project: name them as the project does
        return f"{passages_dir.parent.name}/{passages_dir.name}/{path.relative_to(passages_dir).as_posix()}"


def _diff(before: str, after: str, label: str) -> str:
    out = []
    for line in difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{label}", f"b/{label}"
    ):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def build_patch(passages_dir: Path, approved: Mapping[str, Iterable[str]], header: Iterable[str] = ()) -> PatchResult:
    """The patch adding the `approved` variants ({passage id: variants}) the passages still lack."""
    try:
        passages: dict[str, Passage] = {p.id: p for p in load_passages(passages_dir)}
    except PassageError as exc:
        raise PatchError(f"the passages cannot be read: {exc}") from None
    owner = {normalize(q): p.id for p in passages.values() for q in p.questions}
    left_out: list[str] = []
    diffs: list[str] = []
    changed: list[str] = []
    added = 0
    for passage_id in sorted(approved):
        passage = passages.get(passage_id)
        wanted: list[str] = []
        for text in approved[passage_id]:
            key = normalize(text)
            if passage is None or passage.path is None:
                left_out.append(f"{passage_id}: {text!r}: no such passage any more")
            elif owner.get(key) == passage_id:
                continue  # already in the YAML: the patch was applied
            elif key in owner:
                left_out.append(f"{passage_id}: {text!r}: already a question of {owner[key]}")
            elif not key:
                left_out.append(f"{passage_id}: {text!r}: no searchable words")
            else:
                owner[key] = passage_id
                wanted.append(text)
        if not wanted or passage is None or passage.path is None:
            continue
        original = passage.path.read_text(encoding="utf-8")
        try:
            updated = add_questions(original, wanted)
        except (PatchError, yaml.YAMLError) as exc:
            left_out.extend(f"{passage_id}: {text!r}: {exc}" for text in wanted)
            continue
        diffs.append(_diff(original, updated, _label(passage.path, passages_dir)))
        changed.append(passage_id)
        added += len(wanted)
    lines = [
        "Knowledge base patch: question variants approved in the staff console.",
        f"{added} variant(s) for {len(changed)} passage(s). Apply at the project root: git apply THIS_FILE",
        "then `python -m knowledge lint` and rebuild the index (make train, or python -m knowledge build).",
        *header,
        *(f"Left out: {why}" for why in left_out),
    ]
    head = "".join(f"# {' '.join(line.split())}\n" for line in lines)
    return PatchResult(head + "".join(diffs), added, tuple(changed), tuple(left_out))
