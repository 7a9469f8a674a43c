"""Staff alerts to Slack-compatible chat webhooks, posted to a local fake (tests/loopback.py): the body has
Slack's shape (`text` and `blocks`), carries the reference and no patient text, goes to each role set for
the kind, is tried again after a server error, and a refused webhook is logged without its secret URL."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from core.alert_channels import AlertDelivery, DeliveryConfig, RoleRoute
from core.alerts import StaffAlerts
from core.patient_ref import patient_reference
from tests.loopback import LoopbackServer

SAID = "my lips are swelling after the filler, I'm Ann Smith, 07700 900123"
SENDER = "wa-447700900123"


class ChatHook:
    """A fake Slack incoming webhook: records each POST (path, content type, JSON body); answers the
    statuses queued in `answers` first, then 200 "ok" as Slack does."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, str, Any]] = []
        self.answers: list[int] = []
        self.changed = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.changed:
                    status = hook.answers.pop(0) if hook.answers else 200
                    hook.posts.append((self.path, self.headers.get("Content-Type", ""), json.loads(body)))
                    hook.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no_service")

        self.server = LoopbackServer(Handler)
        self.url = self.server.url

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[str, str, Any]]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.posts) >= count, timeout), self.posts
            return list(self.posts)


@pytest.fixture
def hook() -> Iterator[ChatHook]:
    fake = ChatHook()
    try:
        yield fake
    finally:
        fake.server.close()


@pytest.fixture
def deliveries() -> Iterator[list[AlertDelivery]]:
    made: list[AlertDelivery] = []
    yield made
    for delivery in made:
        delivery.close()


def start(config: DeliveryConfig, made: list[AlertDelivery]) -> AlertDelivery:
    delivery = AlertDelivery(config)
    made.append(delivery)
    return delivery


def test_an_emergency_posts_a_slack_shaped_body_to_each_role_that_gets_emergencies(hook, deliveries, tmp_path: Path):
    config = DeliveryConfig(
        routes=(
            RoleRoute("clinician", webhooks=(hook.url + "/services/T1/B1/clinicians",), kinds=("emergency", "handoff")),
            RoleRoute("admin", webhooks=(hook.url + "/services/T1/B2/admins",), kinds=("emergency",)),
            RoleRoute("reception", webhooks=(hook.url + "/services/T1/B3/desk",), kinds=("booking",)),
        ),
        console_url="https://console.clinic.test",
    )
    delivery = start(config, deliveries)
    StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery).send(
        "emergency", SENDER, "whatsapp", SAID, "warning_sign:airway"
    )
    hook.wait_for(2)
    assert delivery.drain(10)
    assert sorted(path for path, _, _ in hook.posts) == ["/services/T1/B1/clinicians", "/services/T1/B2/admins"]

    ref = patient_reference(SENDER)
    for _, content_type, body in hook.posts:
        assert content_type.startswith("application/json")
        assert set(body) == {"text", "blocks"}
        assert body["text"] == f"EMERGENCY {ref} (WhatsApp): warning_sign:airway"
        header, intro, facts, context = body["blocks"]
        assert header == {"type": "header", "text": {"type": "plain_text", "text": f"EMERGENCY {ref} (WhatsApp)"}}
        assert intro["type"] == "section" and intro["text"]["type"] == "mrkdwn"
        assert [f["text"].split("\n")[0] for f in facts["fields"]] == ["*Kind*", "*Channel*", "*Rules*", "*Time*"]
        assert all(f["type"] == "mrkdwn" for f in facts["fields"])
        assert context["type"] == "context"
        assert "<https://console.clinic.test/#/handoffs|Open the console>" in context["elements"][0]["text"]
        posted = json.dumps(body, ensure_ascii=False)
        for word in ("swelling", "filler", "Ann", "Smith", "07700", "447700900123"):
            assert word not in posted


def test_held_alerts_are_posted_as_one_message(hook, deliveries, tmp_path: Path):
    config = DeliveryConfig(
        routes=(RoleRoute("reception", webhooks=(hook.url + "/hook",), kinds=("booking",)),),
        rate_limit=1,
        rate_window=0.5,
    )
    delivery = start(config, deliveries)
    alerts = StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery)
    for n in range(4):
        alerts.send("booking", f"web-{n}", "webchat", "book me", "booking_request")
    assert delivery.drain(10)
    texts = [body["text"] for _, _, body in hook.posts]
    assert texts == [
        f"Booking request {patient_reference('web-0')} (web widget): booking_request",
        "3 more booking requests",
    ]
    listing = hook.posts[1][2]["blocks"][2]["text"]["text"]
    assert all(patient_reference(f"web-{n}") in listing for n in (1, 2, 3))


def test_a_server_error_is_tried_again_and_a_refusal_is_logged_without_the_secret_url(
    hook, deliveries, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="core.alert_channels")
    config = DeliveryConfig(
        routes=(
            RoleRoute("clinician", webhooks=(hook.url + "/flaky",), kinds=("handoff",)),
            RoleRoute("admin", webhooks=(hook.url + "/gone/the-secret-token",), kinds=("handoff",)),
        ),
        retry_delays=(0.05, 0.05, 0.05),
    )
    hook.answers = [503, 404]  # clinicians' first post: 503; the admins': 404 (a revoked webhook)
    delivery = start(config, deliveries)
    StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery).send("handoff", SENDER, "webchat", SAID, "handoff:human")
    assert delivery.drain(10)
    paths = [path for path, _, _ in hook.posts]
    assert sorted(paths) == ["/flaky", "/flaky", "/gone/the-secret-token"]  # a 404 is not tried again
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "NOT delivered after 1 attempt(s)" in logged and "404" in logged
    assert "the-secret-token" not in logged and "/flaky" not in logged
