"""Several hosts, settings only (docs/deploy.md "Several hosts"): two copies of `make run-cluster`, as two hosts
would run them, sharing one PostgreSQL database and one Redis database, each with its own HAProxy, Rasa
process, action server and console. A front load balancer may send each of a patient's requests to either
host: the patient keeps one conversation, in order, stored once, and a staff reply sent through one host
reaches the widget polling the other. On one machine (separate machines are not tested here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from core.settings import PROJECT_ROOT
from scripts.cluster.haproxy import find_binary
from tests.e2e.conftest import MODEL, staff_reply
from tests.e2e.test_cluster import Cluster, start_cluster, stored_turns
from tests.e2e.test_postgres_tracker import psql
from tests.e2e.webchat import WebChat

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    if find_binary() is None:
        pytest.fail("the cluster test needs HAProxy: run `scripts/setup-env.sh haproxy` (make test does)")
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists() or not MODEL.exists():
        pytest.fail("the cluster test needs .venv-rasa and a trained model: run `make test` (it trains first)")
    db = f"meso_e2e_hosts_{uuid.uuid4().hex[:8]}"
    psql(f"create database {db}")
    first = start_cluster(tmp_path_factory.mktemp("host-a"), db, processes=1, action_servers=1)
    second = start_cluster(tmp_path_factory.mktemp("host-b"), db, processes=1, action_servers=1)
    try:
        yield next(first), next(second)
        next(second, None)  # Ctrl-C and the clean-stop checks, host by host
        next(first, None)
    finally:
        second.close()
        first.close()
        psql(f"drop database if exists {db} with (force)")


def test_a_widget_patient_moving_between_hosts_keeps_one_conversation_and_gets_the_staff_reply(hosts) -> None:
    a, b = hosts
    on_a = WebChat.start(a.url)  # the session is issued by host A ...
    on_b = WebChat(b.url, on_a.token)  # ... and accepted by host B
    assert on_b.sender_id == on_a.sender_id
    first = on_b.say("how many sessions are usually needed")
    second = on_a.say("I would like to talk to a person please", after=first["cursor"])
    assert second["handoff"] is True and second["cursor"] > first["cursor"]
    status, answer = staff_reply(b.url, on_a.sender_id, "Dr Rao here, from the other host.", author="dr.rao")
    assert status == 200, answer
    update = on_a.history(second["cursor"])
    assert [m["text"] for m in update["messages"]] == ["Dr Rao here, from the other host."]
    assert on_b.history(update["cursor"]) == {"messages": [], "cursor": update["cursor"]}
    users, replies = stored_turns(a.db, on_a.sender_id)
    assert users == ["how many sessions are usually needed", "I would like to talk to a person please"]
    assert replies >= 2


def test_a_rest_patient_alternating_hosts_has_every_message_stored_once_in_order(hosts) -> None:
    a, b = hosts
    sender = f"hosts-{uuid.uuid4().hex[:10]}"
    texts = ["what is mesotherapy", "does mesotherapy hurt", "how long do the results last", "what does a session cost"]
    for i, text in enumerate(texts):
        host = (a, b)[i % 2]
        answer = httpx.post(
            f"{host.url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": {"consent": True}},
            timeout=60,
        )
        assert answer.status_code == 200 and any(m.get("text") for m in answer.json()), answer.text
    users, replies = stored_turns(a.db, sender)
    assert users == texts
    assert replies == len(texts)
