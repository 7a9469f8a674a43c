"""NLU component (runs inside the Rasa server, Python 3.10): when the rule-based warning-sign
detector fires, the message's intent becomes `warning_signs` with full confidence, whatever the
trained classifier said. The action server runs the same detector again on every message; this
layer makes the dialogue itself (rules, stories, tracker) record the emergency correctly."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.safety.warning_signs import detect_warning_signs

WARNING_INTENT = "warning_signs"
log = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class WarningSignOverride(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> WarningSignOverride:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text: str | None = message.get(TEXT)
            try:
                found = bool(text) and bool(detect_warning_signs(text or ""))
            except Exception:
                # Fail closed, but in the one place that can act on it: the action server's safety
                # gate runs the same detector, sees it raise and hands off with a staff alert (and the
                # channel fallback does the same when the action server is down). Crashing the NLU
                # here would only lose the turn.
                log.exception("warning-sign detector raised in the NLU pipeline")
                message.set("safety_check_failed", True, add_to_output=True)
                continue
            if not found:
                continue
            previous = message.get(INTENT) or {}
            message.set(INTENT, {"name": WARNING_INTENT, "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != WARNING_INTENT]
            message.set(INTENT_RANKING_KEY, [{"name": WARNING_INTENT, "confidence": 1.0}, *ranking], add_to_output=True)
            message.set("safety_override", {"from_intent": previous.get("name")}, add_to_output=True)
        return messages
