"""Rasa custom actions: thin adapters from Rasa's tracker to `actions.respond`.

Every action the rules can predict after a user message goes through `respond`, so the safety gate
(warning signs first, then handoff state, then personal medical questions) runs on every message
whatever the NLU decided. `action_default_fallback` is overridden too, so even a turn no rule
covers passes the gate.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.respond import Reply, Turn, respond
from actions.services import get_services

log = logging.getLogger(__name__)


def turn_from_tracker(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    metadata = latest.get("metadata") or {}
    channel = "rest"
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            channel = event.get("input_channel") or channel
            break
    return Turn(
        sender_id=tracker.sender_id,
        text=latest.get("text") or "",
        intent=intent.get("name"),
        intent_confidence=float(intent.get("confidence") or 0.0),
        entities=tuple(latest.get("entities") or ()),
        metadata=metadata if isinstance(metadata, dict) else {},
        channel=channel,
        slots=dict(tracker.slots),
    )


def deliver(reply: Reply, dispatcher: CollectingDispatcher, slots: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The reply's messages to the dispatcher; a SlotSet event for each slot the reply changes. A slot set to
    the value it already has is left out: it changes nothing Rasa or the console reads (both follow a slot's
    value), and every event is read, sent to the action server and checked again on each later turn of the
    conversation (about half of an answer's slot events were such no-ops)."""
    for message in reply.messages:
        dispatcher.utter_message(**message)
    dispatcher.utter_message(json_message=reply.meta.payload())
    return [SlotSet(name, value) for name, value in reply.slots.items() if name not in slots or slots[name] != value]


class _TurnAction(Action):
    action_name = ""
    route = "answer"

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        turn = turn_from_tracker(tracker)
        reply = respond(turn, self.route, get_services())
        log.info("%s %s -> %s %s", self.action_name, turn.sender_id, reply.meta.kind, reply.meta.reason)
        return deliver(reply, dispatcher, turn.slots)


class ActionAnswer(_TurnAction):
    action_name, route = "action_answer", "answer"


class ActionEmergency(_TurnAction):
    action_name, route = "action_emergency", "emergency"


class ActionHandoffMedical(_TurnAction):
    action_name, route = "action_handoff_medical", "medical"


class ActionHandoffHuman(_TurnAction):
    action_name, route = "action_handoff_human", "human"


class ActionSmalltalk(_TurnAction):
    action_name, route = "action_smalltalk", "smalltalk"


class ActionClinicInfo(_TurnAction):
    action_name, route = "action_clinic_info", "clinic_info"


class ActionBooking(_TurnAction):
    action_name, route = "action_booking", "booking"


class ActionOutOfScope(_TurnAction):
    action_name, route = "action_out_of_scope", "out_of_scope"


class ActionYesNo(_TurnAction):
    action_name, route = "action_yes_no", "yes_no"


class ActionDefaultFallback(_TurnAction):
    """Rasa runs this when no rule applies; it answers like any question (after the safety gate)."""

    action_name, route = "action_default_fallback", "answer"
