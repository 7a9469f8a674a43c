"""The action server's answer checked against Rasa's schema once compiled, not compiled again on every turn.

Rasa 3.6 checks every answer of the action server (`RemoteAction._validate_action_result`) with
`jsonschema.validate(result, schema)`, which first checks the schema itself against JSON Schema's meta-schema
and builds a new validator: with Rasa's events schema that takes about 30 ms of CPU on every turn, while
checking the answer takes under 1 ms (docs/benchmarks.md, "Where Rasa's CPU goes in a turn"). `install()`
replaces that method with one that checks the same answer against the same schema with a validator built
once: the same answers pass, the same answers fail with the same error and message. `bot.rasa_run` installs
it before Rasa starts (`make run`, `make run-cluster`).

Runs inside the Rasa server (Python 3.10 environment).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

log = logging.getLogger(__name__)

ADVICE = (
    ". Failed to validate Action server response from API, make sure your response from the Action endpoint is "
    f"valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
)
"""What Rasa adds to the message of an answer that fails (rasa/core/actions/action.py)."""


@functools.cache
def response_validator() -> Any:
    """A validator for Rasa's action response schema, the schema checked once (as `jsonschema.validate` does)."""
    schema = RemoteAction.action_response_format_spec()
    kind = validators.validator_for(schema)
    kind.check_schema(schema)
    return kind(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` with the compiled validator: True, or Rasa's ValidationError."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += ADVICE
        raise error
    return True


def install() -> None:
    """Makes every `RemoteAction` check answers with the compiled validator (idempotent)."""
    if RemoteAction._validate_action_result is not validate_action_result:
        response_validator()
        RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
        log.debug("action server answers are checked with a compiled validator")
