"""The patient-facing channel endpoints against their OpenAPI description (bot/channels/openapi.yaml), on
the real servers: Schemathesis generates valid and invalid requests for the web widget's API and the REST
channel, and every answer must be no 5xx, a status the description lists, of the documented content type,
and shaped as described. The widget's calls carry a session the server issued (a fresh one for "end
session", so the others keep theirs); REST runs keyless, as in development.

This assistant has its own generous rate limits: the requests come from one address far faster than a
patient types, and the shared assistant's budget must stay for the other modules. The limits themselves
are tested in test_security_channels.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import Assistant, start_assistant
from tests.e2e.webchat import WebChat, call

pytestmark = pytest.mark.slow

SPEC_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "bot", "channels", "openapi.yaml")
with open(SPEC_FILE, encoding="utf-8") as fh:
    SPEC = yaml.safe_load(fh)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HYPOTHESIS = settings(
    max_examples=int(os.environ.get("MESO_FUZZ_EXAMPLES", "15")),  # per operation and mode
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

schema = schemathesis.openapi.from_dict(SPEC)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True)


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    yield from start_assistant(
        tmp_path_factory.mktemp("channel-openapi"),
        MESO_CHANNEL_RATE_PER_ADDRESS="100000",
        MESO_CHANNEL_RATE_PER_SENDER="10000",
        MESO_CHANNEL_AUTH_FAILURES_PER_ADDRESS="100000",
    )


@pytest.fixture(scope="module")
def patient(channels: Assistant) -> WebChat:
    return WebChat.start(channels.url)


def test_rasa_serves_the_description_kept_beside_the_code(channels):
    response = call(channels.url, "GET", "openapi.json")
    assert response.status_code == 200
    assert response.json() == SPEC


@schema.parametrize()
@HYPOTHESIS
def test_generated_requests_get_no_5xx_and_match_the_description(case, channels, patient):
    token = patient.token
    if case.method == "DELETE" and case.path == "/webhooks/webchat/session":
        token = WebChat.start(channels.url).token  # ending a session must not end the one the others use
    headers = {"Authorization": f"Bearer {token}"} if "security" in case.operation.definition.raw else {}
    response = case.call(base_url=channels.url, headers=headers, timeout=60)
    case.validate_response(response, checks=CHECKS)


def test_the_generated_requests_reached_the_dialogue(channels, patient):
    """Not only refusals: the widget's patient and REST senders had real turns answered and stored."""
    assert patient.history()["cursor"] > 0
    with_turns = channels.event_count(patient.sender_id)
    assert with_turns > 0
