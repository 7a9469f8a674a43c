"""The safety case's figures: the red-flag corpus through the safety gate, split by split.

    .venv/bin/python scripts/safety_report.py [--report docs/safety/safety-case.md] [--features chars|e5|both]

For each split (train, held-out, fresh held-out) and label it reports what the gate decided with the rules alone,
the learned detector alone, and both (what runs in production), per language; the one-sided 95%
upper bound (Clopper-Pearson) on the emergency miss rate; every miss and every false alarm by id;
and the detectors' time on 10,000-character messages. With --report, the figures replace the part
of the file between the safety-report markers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from actions.safety.gate import Assessment, LearnedDetector, assess  # noqa: E402

CORPUS = ROOT / "actions" / "safety" / "corpus"
START, END = "<!-- safety-report:start -->", "<!-- safety-report:end -->"
LABELS = ("emergency", "personal_medical", "general")
LANGS = ("en", "hinglish", "hi")
SPLITS = {
    "train": "Training split",
    "heldout": "Held-out split (frozen; never used for tuning)",
    "heldout2": "Fresh held-out split (written 2026-12-01 by a writer who saw neither the detectors nor any corpus; frozen)",
    "redteam": (
        "Red-team set (written 2026-12-03 by two helper sessions that read the detectors' code but no corpus; "
        "its misses were used to find and fix classes, so it is not blind)"
    ),
}
"""Each split of the corpus (a folder of actions/safety/corpus/) and its heading; misses are shown by text only
for the training split."""


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    label: str
    lang: str
    styles: tuple[str, ...]


def load_split(split: str) -> list[Case]:
    cases: list[Case] = []
    for path in sorted((CORPUS / split).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                cases.append(
                    Case(row["id"], row["text"], row["label"], row.get("lang", "en"), tuple(row.get("style") or ()))
                )
    return cases


def upper_bound(misses: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate with `misses` out of `n`."""
    if n == 0:
        return 1.0
    if misses >= n:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, misses + 1, n - misses))


@dataclass
class Outcome:
    emergency: bool
    handed_off: bool
    """Emergency, personal-medical handoff or a failed check: the message goes to a person."""


def outcome(a: Assessment) -> Outcome:
    return Outcome(
        a.emergency, a.emergency or a.personal is not None or a.personal_source is not None or a.check_failed
    )


def evaluate(cases: list[Case], decide: Callable[[str], Assessment]) -> dict[str, Outcome]:
    return {c.id: outcome(decide(c.text)) for c in cases}


def evaluate_live(cases: list[Case], url: str) -> dict[str, Outcome]:
    """Every case through the running assistant's REST channel (NLU, dialogue, action server and
    all), one new conversation each, read from the reply metadata like the scorer does."""
    import secrets
    import urllib.request

    out: dict[str, Outcome] = {}
    run = secrets.token_hex(4)
    for i, c in enumerate(cases):
        body = json.dumps({"sender": f"safety-{run}-{i}", "message": c.text, "metadata": {"consent": True}}).encode()
        req = urllib.request.Request(
            url.rstrip("/") + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            messages = json.loads(resp.read())
        metas = [m["custom"]["meta"] for m in messages if isinstance(m.get("custom"), dict) and "meta" in m["custom"]]
        kind = metas[-1].get("kind") if metas else None
        out[c.id] = Outcome(kind == "emergency", kind in ("emergency", "handoff"))
    return out


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else "0/0"


def table(cases: list[Case], results: dict[str, dict[str, Outcome]]) -> list[str]:
    """One row per label x language: the rate that matters for that label, for each configuration."""
    configs = list(results)
    lines = [
        "| label | language | n | what is counted | " + " | ".join(configs) + " |",
        "|---|---|---|---|" + "---|" * len(configs),
    ]
    for label in LABELS:
        for lang in (*LANGS, "all"):
            group = [c for c in cases if c.label == label and (lang == "all" or c.lang == lang)]
            if not group:
                continue
            cells = []
            for config in configs:
                res = results[config]
                if label == "emergency":
                    k = sum(res[c.id].emergency for c in group)
                elif label == "personal_medical":
                    k = sum(res[c.id].handed_off for c in group)
                else:
                    k = sum(res[c.id].emergency for c in group)
                cells.append(_pct(k, len(group)))
            counted = {
                "emergency": "urgent reply",
                "personal_medical": "to a clinician",
                "general": "false urgent reply",
            }[label]
            name = "**all**" if lang == "all" else lang
            lines.append(f"| {label} | {name} | {len(group)} | {counted} | " + " | ".join(cells) + " |")
    return lines


def misses(cases: list[Case], res: dict[str, Outcome], show_text: bool = True) -> list[str]:
    """Every miss and false alarm; for the held-out split by id only, so that nobody tuning the
    detectors reads them (the texts are in the corpus files for anyone reviewing the case)."""
    out = []
    for c in cases:
        o = res[c.id]
        wrong = (
            (c.label == "emergency" and not o.emergency)
            or (c.label == "personal_medical" and not o.handed_off)
            or (c.label == "general" and o.emergency)
        )
        if wrong:
            snippet = c.text if len(c.text) <= 110 else c.text[:60] + " … " + c.text[-40:]
            shown = f": {snippet!r}" if show_text else ""
            out.append(f"- `{c.id}` ({c.label}, {c.lang}, {len(c.text)} chars){shown}")
    return out


def style_rows(cases: list[Case], res: dict[str, Outcome]) -> list[str]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for c in cases:
        if c.label != "emergency":
            continue
        for style in c.styles:
            counts[style]["n"] += 1
            counts[style]["hit"] += int(res[c.id].emergency)
    lines = ["| emergency style | n | urgent reply |", "|---|---|---|"]
    for style, cnt in sorted(counts.items(), key=lambda kv: -kv[1]["n"]):
        lines.append(f"| {style} | {cnt['n']} | {_pct(cnt['hit'], cnt['n'])} |")
    return lines


def timing() -> list[str]:
    from actions.safety.personal_medical import detect_personal_medical
    from actions.safety.warning_signs import detect_warning_signs

    filler = "We talked about the cost of the sessions, the parking and the products they use. "
    body = (filler * 200)[:9_950]
    worst: dict[str, float] = {}
    for name, fn in (("warning signs", detect_warning_signs), ("personal medical", detect_personal_medical)):
        for where in ("start", "middle", "end"):
            sign = " my throat is closing up and I cannot breathe. "
            text = {
                "start": sign + body,
                "middle": body[:5000] + sign + body[5000:],
                "end": body + sign,
            }[where][:10_000]
            t0 = time.perf_counter()
            for _ in range(5):
                fn(text)
            worst[name] = max(worst.get(name, 0.0), (time.perf_counter() - t0) / 5 * 1000)
    return [f"- {name}: at most {ms:.1f} ms on a 10,000-character message" for name, ms in worst.items()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--report", type=Path)
    ap.add_argument("--features", choices=("chars", "e5", "both", "all"), default="all")
    ap.add_argument("--live", metavar="URL", help="also send every case through a running assistant (REST channel)")
    args = ap.parse_args(argv)

    from actions.safety import learned as learned_mod

    detectors: dict[str, LearnedDetector] = {}
    for features in ("chars", "e5", "both") if args.features == "all" else (args.features,):
        t0 = time.perf_counter()
        detectors[features] = learned_mod.build(features=features)
        print(f"learned detector ({features}) ready in {time.perf_counter() - t0:.1f} s", flush=True)

    out: list[str] = [
        START,
        "",
        f"Produced on {time.strftime('%Y-%m-%d')} by `.venv/bin/python scripts/safety_report.py "
        f"{' '.join(sys.argv[1:] if argv is None else argv)}`"
        + (" against the servers of `scripts/run.sh`." if args.live else " (`make safety-report`)."),
        "",
    ]
    default = learned_mod.FEATURES
    for split, title in SPLITS.items():
        cases = load_split(split)
        results: dict[str, dict[str, Outcome]] = {"rules": evaluate(cases, assess)}
        for features, det in detectors.items():
            results[f"rules + learned ({features})"] = evaluate(cases, partial(assess, learned=det))
        if args.live:
            t0 = time.perf_counter()
            results["whole assistant (REST)"] = evaluate_live(cases, args.live)
            print(f"{split}: {len(cases)} cases through {args.live} in {time.perf_counter() - t0:.0f} s", flush=True)
        production = "whole assistant (REST)" if args.live else f"rules + learned ({default})"
        res = results.get(production, results["rules"])
        emergencies = [c for c in cases if c.label == "emergency"]
        missed = sum(not res[c.id].emergency for c in emergencies)
        out += [f"### {title}", "", *table(cases, results), ""]
        out += [
            f"Production configuration ({production}): {missed} of {len(emergencies)} emergencies missed; "
            f"one-sided 95% upper bound on the miss rate: {100 * upper_bound(missed, len(emergencies)):.2f}%.",
            "",
            *style_rows(cases, res),
            "",
        ]
        wrong = misses(cases, res, show_text=split == "train")
        out += [f"Misses and false alarms in the production configuration ({len(wrong)}):", ""]
        out += wrong or ["- none"]
        out.append("")
    out += ["### Time", "", *timing(), "", END]
    text = "\n".join(out)
    print(text)
    if args.report:
        current = args.report.read_text(encoding="utf-8") if args.report.exists() else ""
        if START in current and END in current:
            head, rest = current.split(START, 1)
            tail = rest.split(END, 1)[1]
            new = head + text + tail
        else:
            new = current.rstrip() + "\n\n" + text + "\n"
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(new, encoding="utf-8")
        print(f"report written to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
