"""Staff alerts by email, against a real SMTP server on this machine (aiosmtpd): an emergency reaches the
clinicians and the admins with its reference and none of the patient's words, a booking only the roles set
for bookings, a burst is coalesced rather than dropped, and a mail server that is down or silent neither
delays nor breaks the alert (the alerts file has it, the log says so)."""

from __future__ import annotations

import email
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.alert_channels import AlertDelivery, DeliveryConfig, RoleRoute, SmtpConfig, default_delivery
from core.alert_channels.config import from_settings
from core.alert_channels.delivery import ENVIRONMENT_VARIABLE
from core.alerts import StaffAlerts
from core.clinic import load_clinic
from core.patient_ref import patient_reference
from core.settings import Settings

SAID = "my lips are swelling after the filler, I'm Ann Smith, 07700 900123"
PATIENT_WORDS = ("swelling", "filler", "Ann", "Smith", "07700", "900123")
SENDER = "wa-447700900123"
CLINICIANS = ("dr.ng@clinic.test", "dr.rao@clinic.test")
ADMIN = "admin@clinic.test"
RECEPTION = "desk@clinic.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    recipients: list[str]
    raw: bytes
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        with self.changed:
            self.received.append(Received(list(envelope.rcpt_tos), envelope.content, message))
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"correct horse")

    def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=inbox.authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def settings_for(port: int, **values: Any) -> Settings:
    return Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="alerts@clinic.test",
        alert_email_clinician=",".join(CLINICIANS),
        alert_email_admin=ADMIN,
        alert_email_reception=RECEPTION,
        console_url="https://console.clinic.test",
        **values,
    )


@pytest.fixture
def deliveries() -> Iterator[list[AlertDelivery]]:
    """Delivery objects made by a test, stopped after it."""
    made: list[AlertDelivery] = []
    yield made
    for delivery in made:
        delivery.close()


def delivery_for(config: DeliveryConfig | None, made: list[AlertDelivery]) -> AlertDelivery:
    assert config is not None
    delivery = AlertDelivery(config)
    made.append(delivery)
    return delivery


def test_an_emergency_reaches_clinicians_and_admins_with_the_reference_and_none_of_the_patients_words(
    smtp_server, deliveries, tmp_path: Path
):
    inbox, port = smtp_server
    settings = settings_for(port)
    delivery = delivery_for(from_settings(settings), deliveries)
    alerts = StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery)

    alerts.send("emergency", SENDER, "webchat", SAID, "warning_sign:airway")

    inbox.wait_for(2)
    assert delivery.drain(10)
    assert len(inbox.received) == 2  # one email per role, reception does not get emergencies
    (to_clinicians,) = inbox.to(CLINICIANS[0])
    assert sorted(to_clinicians.recipients) == sorted(CLINICIANS)
    (to_admin,) = inbox.to(ADMIN)
    assert to_admin.recipients == [ADMIN]
    assert not inbox.to(RECEPTION)

    ref = patient_reference(SENDER)
    clinic = load_clinic(settings.clinic_file).name
    for received in (to_clinicians, to_admin):
        assert received.message["Subject"] == f"[{clinic}] EMERGENCY {ref} (web widget)"
        assert received.message["From"] == "alerts@clinic.test"
        body = received.body
        assert f"Reference: {ref}" in body and "Rules: warning_sign:airway" in body
        assert "Console: https://console.clinic.test/#/handoffs" in body
        raw = received.raw.decode("utf-8", "replace")
        # plain text, not encoded: what is absent from the raw bytes is really absent
        assert received.message["Content-Transfer-Encoding"] == "7bit"
        assert ref in raw and "warning_sign:airway" in raw
        for word in (*PATIENT_WORDS, SENDER, "447700900123"):
            assert word not in raw, word
    # the file is the record, written first
    (line,) = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["patient_ref"] == ref


def test_a_booking_goes_only_to_the_roles_set_for_bookings(smtp_server, deliveries, tmp_path: Path):
    inbox, port = smtp_server
    delivery = delivery_for(from_settings(settings_for(port, alert_kinds_admin="emergency")), deliveries)
    alerts = StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery)

    alerts.send("booking", "web-booker", "whatsapp", "I'd like Tuesday at 10", "booking_request")
    alerts.send("handoff", "web-other", "webchat", "a person please", "handoff:human")

    inbox.wait_for(2)
    assert delivery.drain(10)
    assert len(inbox.received) == 2
    (booking,) = inbox.to(RECEPTION)  # admins were set to emergencies only
    assert booking.recipients == [RECEPTION]
    assert booking.message["Subject"].endswith(f"Booking request {patient_reference('web-booker')} (WhatsApp)")
    assert "Tuesday" not in booking.raw.decode()
    (handoff,) = inbox.to(CLINICIANS[0])
    assert "Handoff" in handoff.message["Subject"]
    assert not inbox.to(ADMIN)


def test_a_burst_of_emergencies_is_coalesced_into_one_message_not_dropped(smtp_server, deliveries, tmp_path: Path):
    inbox, port = smtp_server
    config = DeliveryConfig(
        routes=(RoleRoute("clinician", emails=CLINICIANS, kinds=("emergency",)),),
        smtp=SmtpConfig(host="127.0.0.1", port=port, security="none", sender="alerts@clinic.test"),
        rate_limit=2,
        rate_window=600,
        emergency_wait=0.5,
    )
    delivery = delivery_for(config, deliveries)
    alerts = StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery)
    senders = [f"web-burst-{n}" for n in range(5)]

    for sender in senders:
        alerts.send("emergency", sender, "webchat", SAID, "warning_sign:breathing")

    assert delivery.drain(15)
    subjects = [r.message["Subject"] for r in inbox.received]
    assert len(subjects) == 3, subjects  # two within the limit, then one for the three held
    assert subjects[2] == "[Clinic] EMERGENCY: 3 more emergencies"
    held = inbox.received[2].body
    for sender in senders[2:]:
        assert patient_reference(sender) in held
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 5  # every alert in the file


@pytest.mark.parametrize("server", ["refused", "silent"])
def test_a_mail_server_that_is_down_neither_delays_nor_breaks_the_alert(
    server: str, deliveries, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    if server == "silent":
        listener.listen(8)  # accepts connections (the kernel does) and never says a word
    else:
        listener.close()
    try:
        config = DeliveryConfig(
            routes=(RoleRoute("clinician", emails=CLINICIANS, kinds=("emergency",)),),
            smtp=SmtpConfig(host="127.0.0.1", port=port, security="none", sender="alerts@clinic.test", timeout=1.0),
            retry_delays=(0.5, 0.5),
        )
        delivery = delivery_for(config, deliveries)
        alerts = StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery)
        caplog.set_level(logging.WARNING, logger="core.alert_channels")

        alert = alerts.send("emergency", SENDER, "webchat", SAID, "warning_sign:airway")
        # the patient's reply does not wait for the mail server: when send returns, delivery has not given up
        # (that takes three attempts and two pauses), and a silent server's first attempt (1 s) is still open
        logged = [r.levelno for r in caplog.records if r.name.startswith("core.alert_channels")]
        assert logging.ERROR not in logged
        if server == "silent":
            assert logged == []

        assert json.loads((tmp_path / "alerts.jsonl").read_text())["patient_ref"] == alert.patient_ref
        assert delivery.drain(15)
    finally:
        listener.close()
    failures = [r for r in caplog.records if r.name.startswith("core.alert_channels")]
    assert [r.levelno for r in failures] == [logging.WARNING, logging.WARNING, logging.ERROR]
    assert "NOT delivered after 3 attempt(s)" in failures[-1].getMessage()
    assert alert.patient_ref in failures[-1].getMessage()
    assert all(word not in r.getMessage() for r in failures for word in PATIENT_WORDS)


def test_a_failed_send_is_tried_again_and_arrives_when_the_server_is_back(deliveries, tmp_path: Path):
    port = free_port()
    config = DeliveryConfig(
        routes=(RoleRoute("admin", emails=(ADMIN,), kinds=("emergency",)),),
        smtp=SmtpConfig(host="127.0.0.1", port=port, security="none", sender="alerts@clinic.test"),
        retry_delays=(1.0, 1.0, 1.0),
    )
    delivery = delivery_for(config, deliveries)
    StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery).send("emergency", SENDER, "rest", SAID, "warning_sign:x")
    time.sleep(0.2)  # the first attempt finds nobody listening
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        (received,) = inbox.wait_for(1)
    finally:
        controller.stop()
    assert received.recipients == [ADMIN]


def test_the_mail_server_login_uses_the_configured_password(smtp_server, deliveries, tmp_path: Path):
    inbox, port = smtp_server
    settings = settings_for(port, smtp_user="alerts", smtp_password="correct horse")
    delivery = delivery_for(from_settings(settings), deliveries)
    StaffAlerts(tmp_path / "alerts.jsonl", delivery=delivery).send("handoff", SENDER, "telegram", SAID, "handoff:human")
    inbox.wait_for(1)
    assert inbox.logins and set(inbox.logins) == {(b"alerts", b"correct horse")}


def test_the_rasa_process_sends_with_the_configuration_run_sh_passes_on(smtp_server, tmp_path: Path, monkeypatch):
    """StaffAlerts made without a delivery (as bot/runtime.py and actions/services.py make them) use this
    process's configuration: in Rasa's process, MESO_ALERT_DELIVERY."""
    inbox, port = smtp_server
    config = from_settings(settings_for(port))
    assert config is not None
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, config.to_json())
    default_delivery.cache_clear()
    try:
        alerts = StaffAlerts(tmp_path / "alerts.jsonl")
        assert alerts.delivery is not None
        alerts.send("booking", "web-b", "webchat", "book me", "booking_request")
        received = inbox.wait_for(2)
        assert {ADMIN, RECEPTION} == {address for r in received for address in r.recipients}
        alerts.delivery.close()
    finally:
        default_delivery.cache_clear()
