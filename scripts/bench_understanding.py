"""How well the assistant understands patients: the held-out split of the patient-message corpus
(understanding/corpus/heldout, voices the training split does not have) through the whole routing,
in one process: Rasa's NLU verdict for every text (parsed in bulk by scripts/nlu_parse.py in the
Rasa environment, cached under var/understanding/), then `actions.respond.respond` as the action
server runs it, with and without the learned route classifier.

    .venv/bin/python scripts/bench_understanding.py [--split heldout|train] [--report docs/benchmarks.md]

One table per language (English, Hinglish, Devanagari): answered correctly (an `answer` with the
right topic first), general questions handed off, personal medical handed off, out of scope
answered; and a confusion matrix of routes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actions.respond import Reply, Turn, respond  # noqa: E402
from actions.services import Services  # noqa: E402
from scripts.benchlib import git_commit, write_section  # noqa: E402
from understanding import corpus  # noqa: E402
from understanding.router import NLU_INTENT_ROUTES  # noqa: E402

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
MODEL = ROOT / "var" / "rasa" / "models" / "meso.tar.gz"
CACHE = ROOT / "var" / "understanding"
ROUTES = corpus.ROUTES
LANG_NAMES = {"en": "English", "hinglish": "Hinglish", "hi": "Devanagari"}


class _NoAlerts:
    def send(self, *args: Any, **kwargs: Any) -> None:
        return None


def nlu_verdicts(texts: list[str]) -> dict[str, dict[str, Any]]:
    """Rasa's NLU on every text, cached by model and texts."""
    texts = sorted(set(texts))
    key = hashlib.sha256(MODEL.read_bytes() + "\0".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"nlu-{key}.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        src = CACHE / f"nlu-{key}.in.json"
        src.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        subprocess.run(
            [str(RASA_PY), "scripts/nlu_parse.py", str(MODEL), str(src), str(path)],
            cwd=ROOT,
            check=True,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        src.unlink()
    return json.loads(path.read_text(encoding="utf-8"))


def _turn(text: str, nlu: dict[str, Any], slots: dict[str, Any]) -> tuple[Turn, str]:
    verdict = nlu.get(text) or {}
    intent = verdict.get("intent")
    route = NLU_INTENT_ROUTES.get(str(intent), "answer")
    turn = Turn(
        sender_id="bench",
        text=text,
        intent=intent,
        intent_confidence=float(verdict.get("confidence") or 0.0),
        entities=tuple(verdict.get("entities") or ()),
        metadata={"consent": True},
        channel="rest",
        slots={"consent": True, **slots},
    )
    return turn, route


def observed_route(reply: Reply) -> str:
    meta = reply.meta
    if meta.kind in ("answer", "clarify"):
        return "answer"
    if meta.kind == "emergency":
        return "emergency"
    if meta.kind == "handoff":
        return "human" if meta.reason in ("handoff:human", "handoff:offer_accepted") else "medical"
    if meta.kind == "smalltalk" and meta.reason in ("yes_no_without_question", "declined_person"):
        return "yes_no"
    return meta.kind if meta.kind in ROUTES else "smalltalk"


@dataclass
class Outcome:
    message: corpus.Message
    reply: Reply

    @property
    def route(self) -> str:
        return observed_route(self.reply)

    @property
    def answered_right(self) -> bool:
        meta = self.reply.meta
        return meta.kind == "answer" and bool(meta.topics) and meta.topics[0] in self.message.topics

    @property
    def handed_off(self) -> bool:
        return self.reply.meta.kind in ("handoff", "emergency")


def run(messages: list[corpus.Message], svc: Services, nlu: dict[str, Any]) -> list[Outcome]:
    out = []
    for m in messages:
        slots: dict[str, Any] = {}
        if m.after:
            turn, route = _turn(m.after, nlu, {})
            first = respond(turn, route, svc)
            slots = {k: v for k, v in first.slots.items() if k in ("last_topics", "last_tags")}
        turn, route = _turn(m.text, nlu, slots)
        out.append(Outcome(m, respond(turn, route, svc)))
    return out


def _share(n: int, d: int) -> str:
    return f"{n}/{d} ({n / d:.1%})" if d else "-"


def tables(label: str, outcomes: list[Outcome]) -> str:
    lines = [f"#### {label}", ""]
    lines.append(
        "| language | answered correctly | general handed off | personal medical handed off | "
        "emergencies handed off | out of scope answered |"
    )
    lines.append("|---|---|---|---|---|---|")
    for lang in corpus.LANGS:
        rows = [o for o in outcomes if o.message.lang == lang]
        general = [o for o in rows if o.message.route == "answer"]
        medical = [o for o in rows if o.message.route == "medical"]
        emergency = [o for o in rows if o.message.route == "emergency"]
        oos = [o for o in rows if o.message.route == "out_of_scope"]
        lines.append(
            f"| {LANG_NAMES[lang]} | {_share(sum(o.answered_right for o in general), len(general))} | "
            f"{_share(sum(o.handed_off for o in general), len(general))} | "
            f"{_share(sum(o.handed_off for o in medical), len(medical))} | "
            f"{_share(sum(o.reply.meta.kind == 'emergency' for o in emergency), len(emergency))} urgent, "
            f"{_share(sum(o.handed_off for o in emergency), len(emergency))} any | "
            f"{_share(sum(o.reply.meta.kind == 'answer' for o in oos), len(oos))} |"
        )
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        confusion[o.message.route][o.route] += 1
    lines += ["", "Routes (rows: the label; columns: what the assistant did; all languages):", ""]
    lines.append("| label \\ did | " + " | ".join(ROUTES) + " |")
    lines.append("|---|" + "---|" * len(ROUTES))
    for r in ROUTES:
        lines.append(f"| {r} | " + " | ".join(str(confusion[r][c] or "") for c in ROUTES) + " |")
    return "\n".join(lines)


def breakdown(label: str, outcomes: list[Outcome]) -> str:
    """The general questions not answered correctly, counted by what the assistant did instead (kind
    and reason) and by the message's style tags: the classes of failure, never the messages."""
    general = [o for o in outcomes if o.message.route == "answer"]
    missed = [o for o in general if not o.answered_right]
    by_reason: Counter[tuple[str, str, str]] = Counter()
    by_style: Counter[tuple[str, str]] = Counter()
    styles: Counter[tuple[str, str]] = Counter()
    for o in general:
        for tag in o.message.style:
            styles[(o.message.lang, tag)] += 1
    for o in missed:
        meta = o.reply.meta
        what = meta.reason or ""
        if meta.kind == "answer":
            what = "wrong topic " + what
        by_reason[(o.message.lang, meta.kind, what.split(":")[0] if meta.kind == "answer" else what)] += 1
        for tag in o.message.style:
            by_style[(o.message.lang, tag)] += 1
    lines = [f"{label}: {len(missed)} of {len(general)} general questions not answered correctly", "", "by outcome:"]
    lines += [f"  {lang:9} {kind:13} {reason}: {n}" for (lang, kind, reason), n in sorted(by_reason.items())]
    lines += ["", "by style (missed / all):"]
    lines += [
        f"  {lang:9} {tag:20} {n}/{styles[(lang, tag)]}"
        for (lang, tag), n in sorted(by_style.items(), key=lambda kv: -kv[1] / styles[kv[0]])
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="heldout", choices=corpus.SPLITS)
    ap.add_argument("--report", type=Path)
    ap.add_argument("--misses", action="store_true", help="print the ids (never the texts) of the misses")
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="count the general questions not answered correctly by what happened instead and by style (no texts)",
    )
    args = ap.parse_args(argv)

    messages = corpus.load(args.split)
    nlu = nlu_verdicts([m.text for m in messages] + [m.after for m in messages if m.after])
    svc = Services.load()
    svc.alerts = _NoAlerts()  # type: ignore[assignment]
    sections = []
    for label, service in (
        ("NLU and word checks (before)", replace(svc, router=None)),
        ("with the route classifier", svc),
    ):
        outcomes = run(messages, service, nlu)
        sections.append(tables(f"{label}: {args.split} split, {len(messages)} messages", outcomes))
        if args.misses:
            wrong = [
                o.message.id
                for o in outcomes
                if (o.route != o.message.route) or (o.message.route == "answer" and not o.answered_right)
            ]
            print(label, "misses:", " ".join(wrong))
        if args.breakdown:
            print(breakdown(label, outcomes))
    body = "\n\n".join(sections)
    print(body)
    if args.report:
        intro = (
            f"Measured with `make bench` (`scripts/bench_understanding.py --split {args.split}`) at {git_commit()}: "
            "the held-out split of the patient-message corpus through Rasa's NLU and the action server's "
            "routing in one process (no dialogue state but the previous message of a follow-up)."
        )
        write_section(args.report, f"understanding-{args.split}", intro + "\n\n" + body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
