"""The one source of every safety text: `actions/safety/texts.yml`, reviewed by a clinician.

The action server (`actions/texts.py`), the Rasa channels (`bot/channels/common.py`) and the web
widget (through `bot/channels/webchat.py`'s config) all take their disclaimer, urgent-care,
handoff, hold, fallback and unreadable-media wording from here, so it is written once.

A text is a template: `{name}`, `{phone}`, `{emergency_number}` ... come from clinic.yml
(`ClinicFacts`), `{other_id}` includes another text of the file, and declared `params` are filled
in by the code (one of a listed set of texts, or free text). The file is checked completely when
it is loaded (unknown keys, ids or placeholders, reference cycles, missing texts the code needs
are errors), and both servers load it at import, so neither starts on a broken file.

The handoff and hold texts promise when a person will reply: the code picks one of their
`reply_line` fragments from the clinic's hours (`core.business_hours.Promise`: within N hours, by a
time, or after the clinic opens) and fills in `{hours}`, `{time}` and `{day}` in the patient's
language (`when_words`). Urgent-care texts promise no time at all.

Each text can also be rendered in Hindi (`lang="hi"`, issue 13) from `texts.hi.yml` beside this
file (`actions/safety/translations.py`): a text without a usable Hindi version (missing, stale or
broken) is said in English, so a patient always gets the reviewed safety wording in some language.

    .venv/bin/python -m actions.safety.texts lint      # reviews, placeholders, disclaimer, lengths

Standard library and PyYAML only; importable from Python 3.10 (Rasa) and 3.11 (action server).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

if TYPE_CHECKING:
    from core.business_hours import Promise

__all__ = [
    "HANDOFF_REASONS",
    "LAST_RESORT",
    "LAST_RESORT_URGENT",
    "MESSAGING_APPS",
    "ClinicFacts",
    "SafetyText",
    "SafetyTexts",
    "SafetyTextsError",
    "can_contact",
    "channel_fallback",
    "current",
    "disclaimer",
    "emergency",
    "handoff",
    "hold",
    "hold_emergency",
    "hold_short",
    "lint",
    "load",
    "reply_line",
    "source_sha",
    "unreadable_media",
    "when_words",
    "widget_texts",
]

TEXTS_FILE = Path(__file__).resolve().with_name("texts.yml")
"""The reviewed file. Tests point this at a temporary copy; `current()` reads it on every call."""

Where = Literal["reply", "fragment", "widget"]
WHERE: tuple[str, ...] = ("reply", "fragment", "widget")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
MESSAGING_APPS = frozenset({"telegram", "whatsapp"})
"""Channels where the clinic has a way to write to the patient (a chat id or phone number)."""
MAX_CHARS = 1000
"""Every safety text fits one WhatsApp interactive body (1024) with the 🚨 URGENT 🚨 mark, so a
messaging app never splits or truncates it."""
MARKUP = re.compile(r"<[a-z/!]|\]\(|\b(?:tel|https?):|\*\*|__|`", re.IGNORECASE)
"""HTML tags, Markdown links or emphasis, or a hand-made link: none belongs in a safety text."""
WIDGET_PLACEHOLDERS = ("name", "phone", "emergency_number")
"""The only clinic facts the widget fills in itself (it has them from its config)."""

LAST_RESORT = (
    "Sorry, I couldn't process that just now. Please try again in a moment. If you feel unwell after "
    "a treatment, call your local emergency number or go to the nearest emergency department."
)
LAST_RESORT_URGENT = (
    "What you describe can be a sign of a serious reaction. Please call your local emergency number or "
    "go to the nearest emergency department now. Do not wait for a reply here."
)
"""The only safety wording outside texts.yml: for a channel whose reviewed fallback text could not be
built at all (it never depends on the file or on clinic.yml). Both servers refuse to start without a
usable texts.yml, so this is a last line of defence, not a second source."""

HANDOFF_REASONS: tuple[str, ...] = (
    "pregnancy",
    "medicine",
    "condition",
    "symptom_after_treatment",
    "is_this_normal",
    "dosing",
    "treatment_choice",
    "diagnosis",
    "product",
    "self_injection",
    "manipulation",
    "personal",
    "human",
    "offer_accepted",
)
"""Every handoff reason with its own first sentence (`handoff_reason_<reason>`); others use `personal`."""

REPLY_LINES: dict[str, dict[str, str]] = {
    text_id: {kind: f"{text_id}_reply_{kind}" for kind in ("within_hours", "by", "closed")}
    for text_id in ("handoff", "hold")
}
"""The `reply_line` fragment of the handoff and the hold for each kind of `Promise`."""
WHEN_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "weekdays": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        "months": (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        "today": "today",
        "tomorrow": "tomorrow",
        "weekday": "on {weekday}",
        "date": "on {weekday} {day} {month}",
    },
    "hi": {
        "weekdays": ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
        "months": (
            "जनवरी",
            "फ़रवरी",
            "मार्च",
            "अप्रैल",
            "मई",
            "जून",
            "जुलाई",
            "अगस्त",
            "सितंबर",
            "अक्टूबर",
            "नवंबर",
            "दिसंबर",
        ),
        "today": "आज",
        "tomorrow": "कल",
        "weekday": "{weekday} को",
        "date": "{weekday}, {day} {month} को",
    },
}
"""How a promise names a day, by language ({day} of the reply lines): within the coming week by
weekday, further on with the date (a long holiday). Times are 24-hour "HH:MM" in every language."""

REQUIRED: tuple[str, ...] = (
    "disclaimer",
    "not_a_clinician",
    "emergency",
    "hold_emergency",
    "handoff",
    "handoff_general_info",
    *REPLY_LINES["handoff"].values(),
    "hold",
    *REPLY_LINES["hold"].values(),
    "hold_short",
    "channel_fallback",
    "channel_fallback_emergency",
    "unreadable_media",
    "team_will_contact_you",
    "team_alerted_call_clinic",
    "widget_subtitle",
    "widget_consent_notice",
    "widget_urgent_note",
    "widget_handoff_title",
    "widget_handoff_body",
    "widget_emergency_title",
    "widget_emergency_body",
    *(f"handoff_reason_{r}" for r in HANDOFF_REASONS),
)
"""The texts the code uses: the file is refused without any of them."""
NEEDS_DISCLAIMER: tuple[str, ...] = (
    "emergency",
    "hold_emergency",
    "handoff",
    "hold",
    "hold_short",
    "channel_fallback",
    "channel_fallback_emergency",
)
"""Sent with reply metadata `disclaimer: true` (../shared/CONTRACT.md), so they must carry it."""
URGENT: tuple[str, ...] = (
    "emergency",
    "hold_emergency",
    "channel_fallback_emergency",
    "widget_urgent_note",
    "widget_emergency_body",
)
"""Texts that must tell the patient the emergency number."""


def source_sha(text: str) -> str:
    """What a translation records of the English it was made from: the first 16 hex digits of the
    sha256 of the text with white space collapsed, so a lint can tell when the English changed."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


class SafetyTextsError(ValueError):
    """A safety texts file that cannot be used (the servers refuse to start on it)."""


@dataclass(frozen=True)
class ClinicFacts:
    """The clinic facts a safety text may name (each a field of clinic.yml, `core/clinic.py`),
    with what is said when clinic.yml cannot be read."""

    name: str = "the clinic"
    phone: str = "the clinic's phone number"
    emergency_number: str = "your local emergency number"
    address: str = ""
    booking_url: str = ""
    privacy_url: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ClinicFacts:
        """From clinic.yml as loaded (a dict, or `ClinicConfig.model_dump(mode="json")`);
        missing or blank values keep the defaults."""
        values: dict[str, str] = {}
        for f in fields(cls):
            value = (data or {}).get(f.name)
            if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip():
                values[f.name] = str(value).strip()
        return cls(**values)

    def values(self) -> dict[str, str]:
        return asdict(self)


CLINIC_PLACEHOLDERS: tuple[str, ...] = tuple(f.name for f in fields(ClinicFacts))


@dataclass(frozen=True)
class Reviewed:
    by: str
    on: str


@dataclass(frozen=True)
class Param:
    """A placeholder the code fills in: one of `texts` (by id), or free text like `example`."""

    name: str
    texts: tuple[str, ...] = ()
    example: str = ""
    about: str = ""


@dataclass(frozen=True)
class SafetyText:
    id: str
    text: str
    where: Where
    params: Mapping[str, Param]
    carries_disclaimer: bool
    reviewed: Reviewed


@dataclass(frozen=True)
class SafetyTexts:
    path: Path
    texts: Mapping[str, SafetyText]
    expanded: Mapping[str, str]
    """Each text with the texts it includes written out; clinic and param placeholders remain."""
    lang: str = "en"
    english: frozenset[str] = frozenset()
    """In a translated set: the ids said in English (no usable translation)."""

    def __iter__(self) -> Iterator[SafetyText]:
        return iter(self.texts.values())

    def render(self, text_id: str, facts: ClinicFacts, **params: str) -> str:
        """The text as the patient reads it. Raises SafetyTextsError for an unknown id or a
        placeholder without a value (a bug in the calling code, never in the data)."""
        if text_id not in self.expanded:
            raise SafetyTextsError(f"{self.path}: no text `{text_id}`")
        template = self.expanded[text_id]
        values = {**facts.values(), **params}
        missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
        if missing:
            raise SafetyTextsError(f"{self.path}: `{text_id}` needs {', '.join(missing)}")
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)  # one pass: values are never expanded

    def choice(self, text_id: str, param: str, chosen: str, facts: ClinicFacts, **params: str) -> str:
        """A param filled with one of the texts the file lists for it (with that text's own params)."""
        spec = self.texts[text_id].params.get(param)
        if spec is None or chosen not in spec.texts:
            raise SafetyTextsError(f"{self.path}: `{text_id}`.{param} cannot be `{chosen}`")
        return self.render(chosen, facts, **params)


# --- loading ----------------------------------------------------------------------------------------


def load(path: Path) -> SafetyTexts:
    """Reads and checks a safety texts file; raises SafetyTextsError on anything wrong with it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SafetyTextsError(f"{path}: cannot read it: {exc}") from exc
    items = data.get("texts") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise SafetyTextsError(f"{path}: needs a non-empty `texts:` list")
    texts: dict[str, SafetyText] = {}
    for n, item in enumerate(items, 1):
        text = _parse(path, n, item)
        if text.id in texts:
            raise SafetyTextsError(f"{path}: text `{text.id}` is defined twice")
        texts[text.id] = text
    missing = [i for i in REQUIRED if i not in texts]
    if missing:
        raise SafetyTextsError(f"{path}: missing texts the assistant needs: {', '.join(missing)}")
    for t in texts.values():
        for name in _placeholders(t.text):
            if name not in texts and name not in t.params and name not in CLINIC_PLACEHOLDERS:
                raise SafetyTextsError(
                    f"{path}: `{t.id}` uses {{{name}}}, which is no text id, declared param or clinic fact "
                    f"({', '.join(CLINIC_PLACEHOLDERS)})"
                )
        for p in t.params.values():
            unknown = [c for c in p.texts if c not in texts]
            if unknown:
                raise SafetyTextsError(f"{path}: `{t.id}`.{p.name} lists unknown texts {', '.join(unknown)}")
    expanded = {i: _expand(path, texts, i, ()) for i in texts}
    return SafetyTexts(path=path, texts=texts, expanded=expanded)


_KEYS = {"id", "text", "where", "params", "carries_disclaimer", "reviewed"}


def _parse(path: Path, n: int, item: Any) -> SafetyText:
    where = f"{path}: text #{n}"
    if not isinstance(item, dict):
        raise SafetyTextsError(f"{where} must be a mapping")
    text_id = item.get("id")
    if not isinstance(text_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", text_id):
        raise SafetyTextsError(f"{where}: `id` must be lower_snake_case")
    where = f"{path}: `{text_id}`"
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise SafetyTextsError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SafetyTextsError(f"{where}: `text` must be a non-empty string")
    stray = PLACEHOLDER.sub("", text)
    if "{" in stray or "}" in stray:
        raise SafetyTextsError(f"{where}: a brace that is not a {{placeholder}} (lower_snake_case in braces)")
    kind = item.get("where", "reply")
    if kind not in WHERE:
        raise SafetyTextsError(f"{where}: `where` must be one of {', '.join(WHERE)}")
    carries = item.get("carries_disclaimer", False)
    if not isinstance(carries, bool):
        raise SafetyTextsError(f"{where}: `carries_disclaimer` must be true or false")
    reviewed = item.get("reviewed") or {}
    if not isinstance(reviewed, dict):
        raise SafetyTextsError(f"{where}: `reviewed` must be a mapping with `by` and `on`")
    return SafetyText(
        id=text_id,
        text=text.strip(),
        where=kind,
        params=_params(where, item.get("params") or {}),
        carries_disclaimer=carries,
        reviewed=Reviewed(
            by=str(reviewed.get("by") or "").strip(),
            on=str(reviewed.get("on", reviewed.get(True)) or "").strip(),  # YAML 1.1 reads a bare `on` as true
        ),
    )


def _params(where: str, raw: Any) -> dict[str, Param]:
    if not isinstance(raw, dict):
        raise SafetyTextsError(f"{where}: `params` must be a mapping")
    out: dict[str, Param] = {}
    for name, spec in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise SafetyTextsError(f"{where}: param names must be lower_snake_case")
        if name in CLINIC_PLACEHOLDERS:
            raise SafetyTextsError(f"{where}: param `{name}` would hide the clinic fact of that name")
        if not isinstance(spec, dict) or set(spec) - {"texts", "example", "about"}:
            raise SafetyTextsError(f"{where}: param `{name}` takes `texts` (a list of ids) or `example` and `about`")
        choices = spec.get("texts") or []
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise SafetyTextsError(f"{where}: param `{name}`: `texts` must be a list of text ids")
        example, about = spec.get("example", ""), spec.get("about", "")
        if not isinstance(example, str) or not isinstance(about, str):
            raise SafetyTextsError(f"{where}: param `{name}`: `example` and `about` must be strings")
        out[name] = Param(name, tuple(choices), example, about)
    return out


def _placeholders(text: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(text)]


def _expand(path: Path, texts: Mapping[str, SafetyText], text_id: str, stack: tuple[str, ...]) -> str:
    if text_id in stack:
        raise SafetyTextsError(f"{path}: texts include each other: {' -> '.join((*stack, text_id))}")
    own = texts[text_id]

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in texts and name not in own.params:
            return _expand(path, texts, name, (*stack, text_id))
        return m.group(0)

    return PLACEHOLDER.sub(one, own.text)


@lru_cache(maxsize=4)
def _load_cached(path: str) -> SafetyTexts:
    return load(Path(path))


@lru_cache(maxsize=8)
def _translated_cached(path: str, lang: str) -> SafetyTexts:
    from actions.safety.translations import translated

    return translated(_load_cached(path), lang)


def current(lang: str = "en") -> SafetyTexts:
    """The texts in TEXTS_FILE, loaded once per path. Raises SafetyTextsError if it is unusable.
    With another `lang`, the same ids in that language where a usable translation exists."""
    if lang == "en":
        return _load_cached(str(TEXTS_FILE))
    return _translated_cached(str(TEXTS_FILE), lang)


# --- what the code calls ---------------------------------------------------------------------------


def can_contact(channel: str | None) -> bool:
    """Whether the clinic can write to this patient: only on messaging apps (the web chat and the
    REST channel give the clinic no contact)."""
    return channel in MESSAGING_APPS


def _contact_line(texts: SafetyTexts, text_id: str, facts: ClinicFacts, channel: str | None) -> str:
    chosen = "team_will_contact_you" if can_contact(channel) else "team_alerted_call_clinic"
    return texts.choice(text_id, "contact_line", chosen, facts)


def disclaimer(lang: str = "en") -> str:
    return current(lang).render("disclaimer", ClinicFacts())


def not_a_clinician(lang: str = "en") -> str:
    return current(lang).render("not_a_clinician", ClinicFacts())


def emergency(facts: ClinicFacts, channel: str | None, lang: str = "en") -> str:
    """Urgent care for warning signs. Names no symptom (the rule id stays in the metadata for staff)."""
    texts = current(lang)
    return texts.render("emergency", facts, contact_line=_contact_line(texts, "emergency", facts, channel))


def hold_emergency(facts: ClinicFacts, channel: str | None, lang: str = "en") -> str:
    """Every reply while a conversation handed off for an emergency waits for the clinic."""
    texts = current(lang)
    return texts.render("hold_emergency", facts, contact_line=_contact_line(texts, "hold_emergency", facts, channel))


def when_words(promise: Promise, lang: str = "en") -> dict[str, str]:
    """{hours}, {time} and {day} of a reply line, in `lang` (English for a language without words):
    the due time while open, the next opening while closed; the day relative to the promise's now."""
    words = WHEN_WORDS.get(lang, WHEN_WORDS["en"])
    moment = promise.opens_at if promise.kind == "closed" else promise.due
    days = promise.days_until(moment)
    if days in (0, 1):
        day = words["today" if days == 0 else "tomorrow"]
    else:
        weekday = words["weekdays"][moment.weekday()]
        day = (words["weekday"] if days < 7 else words["date"]).format(
            weekday=weekday, day=moment.day, month=words["months"][moment.month - 1]
        )
    return {"hours": str(promise.hours), "time": f"{moment.hour:02d}:{moment.minute:02d}", "day": day}


def _reply_line(texts: SafetyTexts, text_id: str, facts: ClinicFacts, promise: Promise) -> str:
    chosen = REPLY_LINES[text_id][promise.kind]
    lang = "en" if chosen in texts.english else texts.lang  # an English line gets English day names
    return texts.choice(text_id, "reply_line", chosen, facts, **when_words(promise, lang))


def reply_line(facts: ClinicFacts, text_id: Literal["handoff", "hold"], promise: Promise, lang: str = "en") -> str:
    """The sentence of the handoff or hold that says when a person will reply, as it is said at
    `promise.now` (out of hours: when the clinic opens, and for the handoff, the emergency number)."""
    return _reply_line(current(lang), text_id, facts, promise)


def handoff(
    facts: ClinicFacts, reason: str, general_info: str | None = None, lang: str = "en", *, promise: Promise
) -> str:
    """The handoff to a clinician, promising a reply by the clinic's hours (`promise`)."""
    texts = current(lang)
    chosen = f"handoff_reason_{reason if reason in HANDOFF_REASONS else 'personal'}"
    extra = ""
    if general_info:
        extra = f"\n\n{texts.render('handoff_general_info', facts)}\n{general_info}"
    return texts.render(
        "handoff",
        facts,
        reason_line=texts.choice("handoff", "reason_line", chosen, facts),
        reply_line=_reply_line(texts, "handoff", facts, promise),
        general_info=extra,
    )


def hold(facts: ClinicFacts, lang: str = "en", *, promise: Promise) -> str:
    """While a person has the conversation (after a handoff that was no emergency): when they will reply."""
    texts = current(lang)
    return texts.render("hold", facts, reply_line=_reply_line(texts, "hold", facts, promise))


def hold_short(facts: ClinicFacts, lang: str = "en") -> str:
    return current(lang).render("hold_short", facts)


def channel_fallback(facts: ClinicFacts, warning_signs: bool, lang: str = "en", *, personal: bool = False) -> str:
    """What a channel says when the dialogue failed: urgent care if the message has warning signs, that a
    clinician will answer if it reads as a personal medical question, the polite fallback otherwise."""
    chosen = "channel_fallback_emergency" if warning_signs else "channel_fallback_personal" if personal else None
    return current(lang).render(chosen or "channel_fallback", facts)


def unreadable_media(facts: ClinicFacts, what: str, lang: str = "en") -> str:
    return current(lang).render("unreadable_media", facts, what=what)


def widget_texts() -> dict[str, str]:
    """The widget's fixed wording, keyed by id without `widget_`, with included texts written out
    and {name}, {phone}, {emergency_number} left for the widget to fill (it links the numbers);
    plus `disclaimer`, so the widget can recognise it in a reply."""
    texts = current()
    out = {t.id.removeprefix("widget_"): texts.expanded[t.id] for t in texts if t.where == "widget"}
    out["disclaimer"] = texts.render("disclaimer", ClinicFacts())
    return out


# --- lint ----------------------------------------------------------------------------------------------


def lint(path: Path | None = None, clinic_file: Path | None = None) -> list[str]:
    """Problems a reviewer must fix: a text without its review, a placeholder that is no field of
    clinic.yml's schema, a text the contract wants with the disclaimer that lacks it, an urgent text
    without the emergency number, widget wording the widget cannot fill, a fragment nothing uses,
    markup, or a text (with this clinic's facts) longer than MAX_CHARS; and in a translation beside the
    file (texts.hi.yml), each translated text that is stale, unknown or unlike its English (`hi: ...`).
    A translation awaiting review is no problem: `main` counts those. Needs the 3.11 environment."""
    from core.clinic import ClinicConfig, load_clinic  # pydantic 2: not in the Rasa environment

    path = path or TEXTS_FILE
    try:
        texts = load(path)
    except SafetyTextsError as exc:
        return [str(exc)]
    problems = [
        f"clinic fact {{{n}}} is no field of clinic.yml (core/clinic.py)"
        for n in CLINIC_PLACEHOLDERS
        if n not in ClinicConfig.model_fields
    ]
    root = Path(__file__).resolve().parents[2]
    try:
        facts = ClinicFacts.from_mapping(load_clinic(clinic_file or root / "clinic.yml").model_dump(mode="json"))
    except Exception as exc:  # the clinic file has its own checks; measure with the defaults then
        problems.append(f"cannot read the clinic file to measure the texts: {exc}")
        facts = ClinicFacts()
    used = {n for t in texts for n in _placeholders(t.text)}
    used |= {c for t in texts for p in t.params.values() for c in p.texts}
    the_disclaimer = texts.render("disclaimer", facts)
    for t in texts:
        problems += [f"{t.id}: {p}" for p in _problems(texts, t, facts, used, the_disclaimer)]
    from actions.safety import translations

    for lang, translated_path in translations.beside(path).items():
        problems += [f"{lang}: {p}" for p in translations.lint(texts, translated_path, lang, facts, used)]
    return problems


def _problems(
    texts: SafetyTexts,
    t: SafetyText,
    facts: ClinicFacts,
    used: set[str],
    the_disclaimer: str,
    pending_review_ok: bool = False,
) -> list[str]:
    out: list[str] = []
    if not t.reviewed.by:
        out.append("`reviewed.by` is missing")
    if not (pending_review_ok and not t.reviewed.on):
        try:
            date.fromisoformat(t.reviewed.on)
        except ValueError:
            out.append("`reviewed.on` must be a date (YYYY-MM-DD)" + (" or null" if pending_review_ok else ""))
    left = set(_placeholders(texts.expanded[t.id])) - set(t.params)
    if t.where == "widget" and left - set(WIDGET_PLACEHOLDERS):
        out.append(f"the widget can only fill {', '.join(WIDGET_PLACEHOLDERS)}, not {', '.join(sorted(left))}")
    if t.where == "fragment" and t.id not in used and t.id not in REQUIRED:
        out.append("a fragment no text uses")
    if t.id in NEEDS_DISCLAIMER and not t.carries_disclaimer:
        out.append("the reply contract needs the disclaimer here: set `carries_disclaimer: true`")
    if t.id in URGENT and "emergency_number" not in left:
        out.append("an urgent text must give {emergency_number}")
    if MARKUP.search(t.text):
        out.append("no HTML or Markdown: Telegram and WhatsApp get plain text, the widget makes the links")
    longest = _longest(texts, t, facts)
    if t.carries_disclaimer and the_disclaimer not in longest:
        out.append("`carries_disclaimer: true` but the disclaimer is not in the text")
    if len(longest) > MAX_CHARS:
        out.append(f"{len(longest)} characters with this clinic's facts (at most {MAX_CHARS})")
    return out


def _longest(texts: SafetyTexts, t: SafetyText, facts: ClinicFacts, depth: int = 0) -> str:
    """The text at its longest: each param filled with its longest listed text (itself at its
    longest), or its example."""
    if depth > 8:
        raise SafetyTextsError(f"{texts.path}: `{t.id}`: params list texts that list each other")
    params: dict[str, str] = {}
    for p in t.params.values():
        options = [_longest(texts, texts.texts[c], facts, depth + 1) for c in p.texts] or [p.example]
        params[p.name] = max(options, key=len)
    return texts.render(t.id, facts, **params)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["lint"]:
        print("usage: python -m actions.safety.texts lint", file=sys.stderr)
        return 2
    problems = lint()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"{len(list(current()))} safety texts OK ({TEXTS_FILE})")
    from actions.safety import translations

    for lang, translated_path in translations.beside(TEXTS_FILE).items():
        pending, total = translations.pending_review(translated_path)
        print(f"{lang}: {total} translated texts OK, {pending} awaiting review ({translated_path.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
