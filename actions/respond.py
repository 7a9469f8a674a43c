"""One patient turn in, one reply out: the order of checks every message goes through.

1. Warning signs of a serious reaction (rule-based, whatever the NLU said): urgent-care reply.
2. The patient's own data: "delete my data" (asks to confirm; the console then erases) and "what do
   you keep about me?" (a plain answer), before consent.
2b. Consent: recorded from the client (metadata.consent) or asked for once.
3. Handoff: while a person has the conversation, the bot only says so (or stays silent).
4. Personal medical questions (rule-based detector, or the NLU intent): handed to a clinician.
5. What the NLU routed the message to: answer from retrieval, clarify, small talk, clinic
   information, booking, out of scope.

Pure Python on plain data (`Turn` in, `Reply` out) so it is easy to test; `actions/actions.py`
adapts it to Rasa's action server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from actions import texts
from actions.followup import (
    COMPARISON_TOPICS,
    TOPIC_TAGS,
    about_another_treatment,
    is_comparison,
    is_followup,
    mentioned_treatment,
)
from actions.meta import ReplyMeta
from actions.patient_data import DataRequest, request_of
from actions.routing import (
    GENERAL_INFO_TOPICS,
    GENERAL_INFO_WITH_HANDOFF,
    POLICY,
    Route,
    asks_for_person,
    clinic_facts_asked,
    is_bot_challenge,
    learned_route,
    out_of_scope_evidence,
    reconcile,
    topic_from_head,
    with_classifier,
)
from actions.safety.gate import Assessment, assess
from actions.services import Services
from actions.splitting import split_questions
from knowledge.passages import Passage
from knowledge.render import answer_text
from knowledge.results import TOO_CLOSE, Result
from knowledge.text import content_words
from understanding.language import language_of
from understanding.router import RouteGuess


@dataclass(frozen=True)
class Turn:
    """A patient message as the action server sees it."""

    sender_id: str
    text: str
    intent: str | None = None
    intent_confidence: float = 0.0
    entities: tuple[Mapping[str, Any], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    channel: str = "rest"
    slots: Mapping[str, Any] = field(default_factory=dict)

    def slot(self, name: str, default: Any = None) -> Any:
        value = self.slots.get(name)
        return default if value is None else value

    def entity(self, name: str) -> str | None:
        for ent in self.entities:
            if ent.get("entity") == name and isinstance(ent.get("value"), str):
                return ent["value"]
        return None


@dataclass
class Reply:
    messages: list[dict[str, Any]]
    """Each is keyword arguments for the dispatcher: {"text": ..., "buttons": [...]}."""
    meta: ReplyMeta
    slots: dict[str, Any] = field(default_factory=dict)


def respond(turn: Turn, route: Route | str, svc: Services) -> Reply:
    text = turn.text if isinstance(turn.text, str) else ""
    route = Route(route)

    # 1. The safety gate on the whole message, before anything else: warning signs get the urgent
    #    reply at once; a detector that failed hands the message to a clinician (fail closed).
    safety = assess(text, learned=svc.learned)
    if safety.emergency:
        return _emergency(turn, svc, safety)
    if safety.check_failed:
        return _handoff(turn, svc, "safety_check_failed", text=text, safety=safety)

    # 2. The patient's own data ("delete my data", "what do you keep about me?"), before consent: a
    #    patient who has not agreed may still ask. An erasure offer not answered yes or no lapses.
    lapsed: dict[str, Any] = {}
    if turn.slot("pending_offer") == "erase":
        answered = _erase_answer(turn, route, svc)
        if answered is not None:
            return answered
        lapsed["pending_offer"] = None
    data_reply = _data_request(turn, svc, text)
    if data_reply is not None:
        return data_reply

    # 3. Consent.
    consent_slots: dict[str, Any] = {**lapsed}
    if not turn.slot("consent", False):
        if turn.metadata.get("consent") is True:
            consent_slots["consent"] = True
        else:
            reply = _consent(turn, route, svc)
            if reply is not None:
                return reply
            consent_slots["consent"] = True

    reply = _after_consent(turn, route, svc, text, safety)
    reply.slots = {**consent_slots, **reply.slots}
    return reply


def _after_consent(turn: Turn, route: Route, svc: Services, text: str, safety: Assessment) -> Reply:
    # 3. Handed off: a person has the conversation.
    if turn.slot("handoff", False):
        return _hold(turn, svc)

    # A yes/no answering an offer the bot made.
    if route is Route.YES_NO and turn.slot("pending_offer") == "human":
        if turn.intent == "affirm":
            return _handoff(turn, svc, "offer_accepted", text=turn.slot("pending_question") or text)
        reply = _smalltalk_reply(texts.declined_person(lang=_lang(turn)), reason="declined_person")
        reply.slots["pending_offer"] = None
        return reply

    # The learned route classifier corrects the NLU where the routing policy allows.
    other_script = _mostly_other_script(text)
    guess = svc.router.guess(text) if svc.router is not None else None
    nlu_route, route = route, with_classifier(route, guess, text, other_script)

    # 4. Personal medical questions.
    if is_bot_challenge(text):
        return _smalltalk_reply(texts.bot_challenge(svc.clinic, lang=_lang(turn)), "bot_challenge")
    if safety.personal is not None:
        return _handoff(turn, svc, safety.personal.reason, text=text, safety=safety)
    if safety.personal_source == "learned":
        return _handoff(turn, svc, "personal", text=text, safety=safety)
    if route is Route.MEDICAL and (nlu_route is not Route.MEDICAL or turn.intent_confidence >= POLICY.nlu_medical_min):
        return _handoff(turn, svc, "personal", text=text)
    sure = learned_route(guess, other_script)
    if route is Route.HUMAN and (asks_for_person(text) or other_script or sure == "human"):
        return _handoff(turn, svc, "human", text=text)
    if route is Route.HUMAN:
        route = Route.ANSWER

    # 5. The NLU's route, checked against what the words say unless the classifier is sure of it:
    #    a trained classifier alone must not turn "can I take painkillers before my appointment?"
    #    into a booking.
    route = reconcile(route, text, has_topic=turn.entity("topic") is not None, learned=sure)
    if route is Route.SMALLTALK:
        return _smalltalk(turn, svc, text)
    if route is Route.CLINIC_INFO:
        return _clinic_info(text, svc)
    if route is Route.BOOKING:
        return _booking(turn, svc, text)
    if route is Route.YES_NO:
        searched = _real_question(text, svc)
        if searched is not None:
            return _answer(turn, svc, text, searched=searched)
        return _smalltalk_reply(texts.acknowledge(lang=_lang(turn)), reason="yes_no_without_question")
    if route in (Route.CLINIC_INFO_OR_ANSWER, Route.BOOKING_OR_ANSWER):
        result = svc.retriever.search(text)
        if result.decision != "answer":
            return _clinic_info(text, svc) if route is Route.CLINIC_INFO_OR_ANSWER else _booking(turn, svc, text)
        return _answer(turn, svc, text, searched=result)
    out_of_scope = out_of_scope_evidence(turn.intent, turn.intent_confidence, guess)
    return _answer(turn, svc, text, out_of_scope=out_of_scope, guess=guess)


# --- the patient's own data -------------------------------------------------------------------------

ERASE_CONFIRMED = "patient_data:erase_confirmed"
"""The reason on the reply to a confirmed erasure: the staff console erases the conversation when it
sees it (console/patient_requests.py); the dialogue cannot delete the conversation it is writing to."""
ERASE_BUTTONS = {
    "en": ("Yes, delete it", "No, keep it"),
    "hi": ("हाँ, हटा दें", "नहीं, रहने दें"),
}


def _data_request(turn: Turn, svc: Services, text: str) -> Reply | None:
    request = request_of(text)
    lang = _lang(turn)
    if request is DataRequest.ERASE:
        yes, no = ERASE_BUTTONS.get(lang, ERASE_BUTTONS["en"])
        return Reply(
            messages=[
                {
                    "text": texts.data_erase_confirm(svc.clinic, lang),
                    "buttons": [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}],
                }
            ],
            meta=ReplyMeta(kind="smalltalk", reason="patient_data:erase_asked"),
            slots={"pending_offer": "erase"},
        )
    if request is DataRequest.WHAT_IS_KEPT:
        reply = _smalltalk_reply(
            texts.data_kept(svc.clinic, svc.settings.retention_days, lang), "patient_data:what_is_kept"
        )
        if turn.slot("pending_offer") == "erase":
            reply.slots["pending_offer"] = None
        return reply
    return None


def _erase_answer(turn: Turn, route: Route, svc: Services) -> Reply | None:
    """The patient's yes or no to "Delete it?"; None when the message is something else."""
    if route is not Route.YES_NO or turn.intent not in ("affirm", "deny"):
        return None
    lang = _lang(turn)
    if turn.intent == "affirm":
        reply = _smalltalk_reply(texts.data_erase_done(svc.clinic, lang), ERASE_CONFIRMED)
    else:
        reply = _smalltalk_reply(texts.data_erase_kept(lang), "patient_data:erase_declined")
    reply.slots["pending_offer"] = None
    return reply


# --- safety paths -------------------------------------------------------------------------------


def _emergency(turn: Turn, svc: Services, safety: Assessment) -> Reply:
    reason = "warning_sign:" + ",".join([s.id for s in safety.signs] or safety.emergency_sources)
    svc.alerts.send("emergency", turn.sender_id, turn.channel, turn.text, reason)
    return Reply(
        messages=[
            {"text": texts.emergency(svc.clinic, turn.channel, lang=_lang(turn))}
        ],  # names no sign (rule ids: `reason`)
        meta=ReplyMeta(kind="emergency", disclaimer=True, handoff=True, reason=reason, rules=safety.rules),
        slots={"handoff": True, "handoff_reason": "emergency", "hold_notices": 0.0, "pending_offer": None},
    )


def _handoff(turn: Turn, svc: Services, reason: str, text: str, safety: Assessment | None = None) -> Reply:
    passage: Passage | None = None
    confidence = 0.0
    if reason in GENERAL_INFO_WITH_HANDOFF:
        result = svc.retriever.search(text)
        for hit in result.hits[:3]:
            if hit.topic in GENERAL_INFO_TOPICS:
                passage, confidence = svc.passages[hit.passage_id], result.confidence
                break
    general = _passage_text(passage, svc, _lang(turn)) if passage else None
    svc.alerts.send("handoff", turn.sender_id, turn.channel, text, f"handoff:{reason}")
    return Reply(
        messages=[{"text": texts.handoff(svc.clinic, reason, general, lang=_lang(turn), now=svc.clock())}],
        meta=ReplyMeta(
            kind="handoff",
            passage_ids=(passage.id,) if passage else (),
            sources=passage.sources if passage else (),
            confidence=confidence,
            disclaimer=True,
            handoff=True,
            reason=f"handoff:{reason}",
            rules=safety.rules if safety is not None else (),
        ),
        slots={
            "handoff": True,
            "handoff_reason": reason,
            "hold_notices": 0.0,
            "pending_offer": None,
            "clarify_misses": 0.0,
        },
    )


def _hold(turn: Turn, svc: Services) -> Reply:
    """While a person has the conversation the bot only repeats that a person will reply: in full
    the first time, then in one short line (always with the disclaimer the contract asks for).
    After an emergency every reply repeats the urgent-care line instead."""
    count = int(turn.slot("hold_notices", 0) or 0)
    if turn.slot("handoff_reason") == "emergency":
        text = texts.emergency_hold(svc.clinic, turn.channel, lang=_lang(turn))
    elif count % POLICY.hold_notice_every == 0:
        text = texts.handoff_hold(svc.clinic, lang=_lang(turn), now=svc.clock())
    else:
        text = texts.handoff_hold_short(svc.clinic, lang=_lang(turn))
    return Reply(
        messages=[{"text": text}],
        meta=ReplyMeta(kind="handoff", disclaimer=True, handoff=True, reason="handed_off"),
        slots={"hold_notices": float(count + 1)},
    )


def _consent(turn: Turn, route: Route, svc: Services) -> Reply | None:
    """Asks for consent, or records the answer. None once consent is given and the turn goes on."""
    if turn.slot("pending_offer") == "consent" and route is Route.YES_NO:
        if turn.intent == "affirm":
            pending = turn.slot("pending_question")
            if pending:
                follow = Turn(
                    sender_id=turn.sender_id,
                    text=pending,
                    intent=None,
                    metadata=turn.metadata,
                    channel=turn.channel,
                    slots={**turn.slots, "consent": True, "pending_offer": None},
                )
                reply = _after_consent(follow, Route.ANSWER, svc, pending, assess(pending, learned=svc.learned))
                reply.messages.insert(0, {"text": "Thank you."})
                reply.slots = {"consent": True, "pending_offer": None, "pending_question": None, **reply.slots}
                return reply
            return Reply(
                messages=[{"text": texts.consent_thanks(lang=_lang(turn))}],
                meta=ReplyMeta(kind="consent", reason="consent:given"),
                slots={"consent": True, "pending_offer": None},
            )
        return Reply(
            messages=[{"text": texts.consent_declined(svc.clinic, lang=_lang(turn))}],
            meta=ReplyMeta(kind="consent", reason="consent:declined"),
            slots={"pending_question": None},
        )
    question = turn.text if route not in (Route.SMALLTALK, Route.YES_NO) and turn.text.strip() else None
    return Reply(
        messages=[
            {
                "text": texts.consent_request(svc.clinic, lang=_lang(turn)),
                "buttons": [{"title": "Yes, I agree", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
            }
        ],
        meta=ReplyMeta(kind="consent", reason="consent:asked"),
        slots={"pending_offer": "consent", "pending_question": question or turn.slot("pending_question")},
    )


# --- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chosen:
    passage: Passage
    confidence: float


def _answer(
    turn: Turn,
    svc: Services,
    text: str,
    out_of_scope: float = 0.0,
    searched: Result | None = None,
    guess: RouteGuess | None = None,
) -> Reply:
    """`out_of_scope`: how sure the NLU or the classifier is that the message is not about mesotherapy
    (routing.out_of_scope_evidence); `searched`: the retriever's result for `text` when the caller
    already has it (no second search); `guess`: the route classifier's for `text`, when computed."""
    chosen_topic = turn.entity("topic") if text.lstrip().startswith("/") else None
    if chosen_topic and chosen_topic in svc.topic_titles:
        basis = turn.slot("pending_question") or ""
        passage = _best_in_topic(svc, chosen_topic, basis, _context_tags(turn))
        if passage is not None:
            return _answer_reply(turn, svc, [_Chosen(passage, 1.0)], reason="clarify:chosen")

    if not any(ch.isalnum() for ch in text):
        return Reply(
            messages=[{"text": texts.nothing_to_answer(lang=_lang(turn))}],
            meta=ReplyMeta(kind="clarify", disclaimer=True, reason="retrieval:empty"),
        )
    written_in = language_of(text)
    if written_in == "hi" and svc.router is not None:
        return _answer_in_hindi(turn, svc, text)
    if written_in != "en":
        return _out_of_scope_reply(svc, texts.other_script(svc.clinic, lang=_lang(turn)), "other_script")

    parts = split_questions(text)
    if len(parts) > 1:
        chosen: list[_Chosen] = []
        for part in parts:
            result = svc.retriever.search(part)
            if result.decision == "answer" and result.top is not None:
                picked = _pick(turn, svc, result)
                if all(c.passage.topic != picked.passage.topic for c in chosen):
                    chosen.append(picked)
        if len(chosen) > 1:
            return _answer_reply(turn, svc, chosen, reason="retrieval:multi")

    result = _search_in_context(turn, svc, text, searched)
    if out_of_scope > 0 and result.confidence < POLICY.out_of_scope_override:
        return _out_of_scope_reply(svc, texts.out_of_scope(svc.clinic, lang=_lang(turn)), "nlu:out_of_scope")
    if (
        POLICY.refuse_other_treatment
        and about_another_treatment(text)
        and not (is_followup(text) and turn.slot("last_topics"))
    ):
        return _out_of_scope_reply(svc, texts.out_of_scope(svc.clinic, lang=_lang(turn)), "another_treatment")
    head = _head_topic(turn, svc, text, result, guess)
    if head is not None:
        return _answer_reply(turn, svc, [head], reason="router:topic")
    if result.decision == "answer" and result.top is not None:
        return _answer_reply(turn, svc, [_pick(turn, svc, result)], reason="retrieval:answer")
    if result.decision == "unsure" and result.top is not None and _close_but_clear(result):
        return _answer_reply(turn, svc, [_pick(turn, svc, result)], reason="retrieval:close_but_clear")
    if result.decision == "unsure" and result.candidates:
        return _clarify(turn, svc, text, result)
    if result.decision == "empty":
        return Reply(
            messages=[{"text": texts.nothing_to_answer(lang=_lang(turn))}],
            meta=ReplyMeta(kind="clarify", disclaimer=True, reason="retrieval:empty"),
        )
    return _out_of_scope_reply(
        svc, texts.out_of_scope(svc.clinic, lang=_lang(turn)), "retrieval:" + "; ".join(result.reasons)
    )


def _head_topic(turn: Turn, svc: Services, text: str, result: Result, guess: RouteGuess | None) -> _Chosen | None:
    """The passage to answer with when the route classifier's topic head overrules retrieval's topic
    (routing.topic_from_head); the passage within the topic is still retrieval's choice. Not for a
    follow-up answered from the conversation's context."""
    if svc.router is None or (is_followup(text) and turn.slot("last_topics")):
        return None
    guess = guess or svc.router.guess(text)
    topic = topic_from_head(guess, result.decision, result.top.topic if result.top else None, len(content_words(text)))
    if topic is None:
        return None
    probability = dict(guess.topics)[topic]
    for hit in result.hits:
        if hit.topic == topic:
            return _Chosen(svc.passages[hit.passage_id], probability)
    passage = _best_in_topic(svc, topic, text, _context_tags(turn))
    return _Chosen(passage, probability) if passage is not None else None


def _answer_in_hindi(turn: Turn, svc: Services, text: str) -> Reply:
    """A question in Devanagari: the route classifier's topic head (multilingual embeddings) finds
    the topic, the closest passage in it answers, in its Hindi version where there is one."""
    assert svc.router is not None
    guess = svc.router.guess(text)
    if guess.route == "out_of_scope" and guess.confidence >= POLICY.router_other_script_min:
        return _out_of_scope_reply(svc, texts.out_of_scope(svc.clinic, lang="hi"), "router:out_of_scope")
    if not guess.topics:
        return _out_of_scope_reply(svc, texts.out_of_scope(svc.clinic, lang="hi"), "router:no_topic")
    topic, probability = guess.topics[0]
    if probability >= POLICY.hindi_topic_min:
        passage = _closest_in_topic(svc, topic, text)
        if passage is not None:
            return _answer_reply(turn, svc, [_Chosen(passage, probability)], reason="router:topic")
    candidates = tuple(t for t, p in guess.topics if p >= POLICY.hindi_candidate_min) or (topic,)
    unsure = Result(query=text, decision="unsure", confidence=probability, hits=(), candidates=candidates, reasons=())
    return _clarify(turn, svc, text, unsure)


def _closest_in_topic(svc: Services, topic: str, text: str) -> Passage | None:
    """The passage of `topic` whose questions (English and Hindi) are closest to `text`."""
    passages = svc.passages_of(topic)
    if len(passages) <= 1:
        return passages[0] if passages else None
    from understanding.embeddings import as_embedded, e5

    embed = e5()
    query = embed([as_embedded(text)])[0]
    best, best_score = passages[0], -1.0
    for passage in passages:
        translated = svc.hindi.get(passage.id) if svc.hindi is not None else None
        variants = [*passage.questions[:6], *(translated.questions if translated else ())]
        if not variants:
            continue
        score = float((embed(variants) @ query).max())
        if score > best_score:
            best, best_score = passage, score
    return best


def _topic_title(svc: Services, topic: str, lang: str) -> str:
    translated = svc.hindi.topic_title(topic) if lang == "hi" and svc.hindi is not None else None
    return translated or svc.topic_titles.get(topic, topic)


def _passage_text(passage: Passage, svc: Services, lang: str) -> str:
    if lang == "hi" and svc.hindi is not None:
        translated = svc.hindi.answer_text(passage, svc.clinic)
        if translated is not None:
            return translated
    return answer_text(passage, svc.clinic)


def _close_but_clear(result: Result) -> bool:
    top = result.top
    return (
        top is not None
        and TOO_CLOSE in result.reasons
        and top.dense >= POLICY.answer_when_close_dense
        and result.confidence >= POLICY.answer_when_close_confidence
    )


def _search_in_context(turn: Turn, svc: Services, text: str, searched: Result | None = None) -> Result:
    result = searched or svc.retriever.search(text)
    last_topics = list(turn.slot("last_topics", []) or [])
    if not last_topics or not is_followup(text):
        return result
    last = last_topics[0]
    treatment = mentioned_treatment(text)
    if is_comparison(last) and treatment:
        word, name = treatment
        compared = svc.retriever.search(f"mesotherapy vs {name}: what is the difference", k=20)
        hits = tuple(h for h in compared.hits if h.topic in COMPARISON_TOPICS)
        # Prefer comparisons that actually talk about the treatment named.
        naming = tuple(h for h in hits if re.search(rf"\b{re.escape(word)}", svc.passages[h.passage_id].answer, re.I))
        hits = naming + tuple(h for h in hits if h not in naming)
        if hits:
            return Result(
                query=text,
                decision="answer",
                confidence=max(compared.confidence, result.confidence),
                hits=hits,
                candidates=(hits[0].topic,),
                reasons=("follow-up: comparison",),
            )
    if result.decision == "answer" and result.confidence >= 0.6:
        return result
    title = svc.topic_titles.get(last, last.replace("_", " "))
    contextual = svc.retriever.search(f"{text} ({title})")
    if contextual.decision == "answer" and (result.decision != "answer" or contextual.confidence > result.confidence):
        return contextual
    return result


def _context_tags(turn: Turn) -> tuple[str, ...]:
    return tuple(t for t in (turn.slot("last_tags", []) or []) if isinstance(t, str))


def _pick(turn: Turn, svc: Services, result: Result) -> _Chosen:
    """The passage to answer with: the top hit, or a sibling in the same topic that matches the
    conversation's subject (the number of sessions *for pigmentation*)."""
    assert result.top is not None
    top = svc.passages[result.top.passage_id]
    tags = _context_tags(turn)
    if tags and not set(top.tags) & set(tags):
        for hit in result.hits:
            p = svc.passages[hit.passage_id]
            if p.topic == top.topic and set(p.tags) & set(tags) and hit.score >= result.top.score - 0.1:
                return _Chosen(p, result.confidence)
    return _Chosen(top, result.confidence)


def _best_in_topic(svc: Services, topic: str, basis: str, tags: tuple[str, ...]) -> Passage | None:
    if basis.strip():
        for hit in svc.retriever.search(basis, k=20).hits:
            if hit.topic == topic:
                return svc.passages[hit.passage_id]
    candidates = svc.passages_of(topic)
    tagged = [p for p in candidates if set(p.tags) & set(tags)]
    pool = tagged or candidates
    return pool[0] if pool else None


def _answer_reply(turn: Turn, svc: Services, chosen: list[_Chosen], reason: str) -> Reply:
    blocks = []
    for c in chosen:
        body = _passage_text(c.passage, svc, _lang(turn))
        if c.passage.topic == "cost" and svc.clinic.price_list and not c.passage.answer_with_price_list:
            body += " " + texts.price_line(svc.clinic, lang=_lang(turn))
        if c.passage.needs_clinician:
            body += " " + texts.clinician_note(lang=_lang(turn))
        if len(chosen) > 1:
            body = f"{svc.topic_titles.get(c.passage.topic, c.passage.title)}: {body}"
        blocks.append(body)
    topics = tuple(dict.fromkeys(c.passage.topic for c in chosen))
    sources = tuple(dict.fromkeys(s for c in chosen for s in c.passage.sources))
    tags = tuple(dict.fromkeys(t for c in chosen for t in (*c.passage.tags, TOPIC_TAGS.get(c.passage.topic, ""))))
    tags = tuple(t for t in tags if t) or _context_tags(turn)
    return Reply(
        messages=[{"text": texts.with_disclaimer("\n\n".join(blocks), lang=_lang(turn))}],
        meta=ReplyMeta(
            kind="answer",
            topics=topics,
            passage_ids=tuple(c.passage.id for c in chosen),
            confidence=min(c.confidence for c in chosen),
            disclaimer=True,
            sources=sources,
            reason=reason,
        ),
        slots={
            "last_topics": list(topics),
            "last_tags": list(tags),
            "clarify_misses": 0.0,
            "pending_question": None,
            "pending_offer": None,
        },
    )


def _clarify(turn: Turn, svc: Services, text: str, result: Result) -> Reply:
    misses = int(turn.slot("clarify_misses", 0) or 0)
    if misses >= 1:
        return Reply(
            messages=[
                {
                    "text": texts.offer_person(lang=_lang(turn)),
                    "buttons": [
                        {"title": "Yes, please", "payload": "/affirm"},
                        {"title": "No, thanks", "payload": "/deny"},
                    ],
                }
            ],
            meta=ReplyMeta(
                kind="clarify", confidence=result.confidence, disclaimer=True, reason="clarify:offer_person"
            ),
            slots={"clarify_misses": 0.0, "pending_offer": "human", "pending_question": text},
        )
    buttons = [
        {"title": _topic_title(svc, t, _lang(turn)), "payload": f'/choose_topic{{"topic":"{t}"}}'}
        for t in result.candidates
    ]
    buttons.append({"title": "Talk to a person", "payload": "/request_human"})
    return Reply(
        messages=[{"text": texts.clarify(lang=_lang(turn)), "buttons": buttons}],
        meta=ReplyMeta(
            kind="clarify",
            topics=result.candidates,
            passage_ids=tuple(h.passage_id for h in result.hits if h.topic in result.candidates)[:3],
            confidence=result.confidence,
            disclaimer=True,
            reason="retrieval:unsure",
        ),
        slots={"clarify_misses": float(misses + 1), "pending_question": text, "pending_offer": None},
    )


# --- everything else ----------------------------------------------------------------------------


def _lang(turn: Turn) -> str:
    """The language to answer in: Hindi for a message in Devanagari, else English."""
    return _lang_of(turn.text if isinstance(turn.text, str) else "")


def _lang_of(text: str) -> str:
    return "hi" if language_of(text) == "hi" else "en"


def _smalltalk_reply(text: str, reason: str) -> Reply:
    return Reply(messages=[{"text": text}], meta=ReplyMeta(kind="smalltalk", reason=reason))


def _real_question(text: str, svc: Services) -> Result | None:
    """The search result when `text` is a real question retrieval can answer, else None."""
    if len(re.findall(r"\w+", text)) < POLICY.real_question_min_words:
        return None
    result = svc.retriever.search(text)
    return result if result.decision == "answer" and result.confidence >= POLICY.real_question_min_confidence else None


def _smalltalk(turn: Turn, svc: Services, text: str) -> Reply:
    # "Hi, does it hurt?", or a question the classifier took for small talk, gets the answer.
    searched = _real_question(text, svc) if turn.intent != "bot_challenge" else None
    if searched is not None:
        return _answer(turn, svc, text, searched=searched)
    which = turn.intent or "greet"
    if which == "bot_challenge":
        return _smalltalk_reply(texts.bot_challenge(svc.clinic, lang=_lang(turn)), "bot_challenge")
    if which == "goodbye":
        return _smalltalk_reply(texts.goodbye(svc.clinic, lang=_lang(turn)), "goodbye")
    if which == "thanks":
        return _smalltalk_reply(texts.thanks(lang=_lang(turn)), "thanks")
    return _smalltalk_reply(texts.greet(svc.clinic, lang=_lang(turn)), "greet")


def _clinic_info(text: str, svc: Services) -> Reply:
    wants = clinic_facts_asked(text)
    return Reply(
        messages=[{"text": texts.clinic_info(svc.clinic, wants, lang=_lang_of(text))}],
        meta=ReplyMeta(kind="clinic_info", reason="clinic_info:" + ",".join(sorted(wants))),
    )


def _booking(turn: Turn, svc: Services, text: str) -> Reply:
    svc.alerts.send("booking", turn.sender_id, turn.channel, text, "booking_request")
    return Reply(
        messages=[{"text": texts.booking(svc.clinic, lang=_lang(turn))}],
        meta=ReplyMeta(kind="booking", reason="booking_request"),
    )


def _out_of_scope_reply(svc: Services, text: str, reason: str) -> Reply:
    return Reply(messages=[{"text": text}], meta=ReplyMeta(kind="out_of_scope", reason=reason))


def _mostly_other_script(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if ch.isascii())
    return latin / len(letters) < 0.5
