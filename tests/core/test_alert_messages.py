"""What an alert email and chat message say: kind, reference, channel, rule ids, time and the console link,
and nothing a caller could smuggle a sentence of the patient's through (core/alert_channels/messages.py)."""

from __future__ import annotations

import json

from core.alert_channels import DeliveryConfig, RoleRoute
from core.alert_channels.messages import build
from core.alerts import Alert
from core.patient_ref import patient_reference

CONFIG = DeliveryConfig(
    routes=(RoleRoute("clinician", webhooks=("https://chat.example/hook",), kinds=("emergency",)),),
    console_url="https://console.clinic.example/",
    subject_tag="[Clinic]",
)
REF = patient_reference("web-abc")


def make(kind: str = "emergency", channel: str = "webchat", reason: str = "warning_sign:airway", **kw) -> Alert:
    values = dict(kind=kind, sender_id="web-abc", channel=channel, reason=reason, at=1767225600.0, patient_ref=REF)
    values.update(kw)
    return Alert(**values)  # type: ignore[arg-type]


def test_one_emergency_reads_as_the_clinic_asked():
    notice = build(CONFIG, "clinician", [make()])
    assert notice.subject == f"[Clinic] EMERGENCY {REF} (web widget)"
    for line in (
        f"Reference: {REF}",
        "Kind: emergency",
        "Channel: web widget",
        "Rules: warning_sign:airway",
        "Time: 2026-01-01 00:00:00 UTC",
        "Console: https://console.clinic.example/#/handoffs",
    ):
        assert line in notice.text.splitlines()
    assert "web-abc" not in notice.text and "web-abc" not in json.dumps(notice.slack)


def test_a_booking_links_to_the_conversations_not_the_handoff_queue():
    notice = build(CONFIG, "admin", [make("booking", "whatsapp", "booking_request")])
    assert notice.subject == f"[Clinic] Booking request {REF} (WhatsApp)"
    assert "Console: https://console.clinic.example/#/conversations" in notice.text


def test_no_sentence_travels_in_the_reason_the_channel_or_the_reference():
    said = "my lips are swelling, I'm Ann Smith, 07700 900123"
    notice = build(
        CONFIG,
        "clinician",
        [make(reason=f"warning_sign:airway,vision {said}", channel=said, patient_ref=said)],
    )
    everything = notice.subject + notice.text + json.dumps(notice.slack)
    for word in ("swelling", "Ann", "Smith", "07700", "900123"):
        assert word not in everything
    assert "Rules: warning_sign:airway,vision" in notice.text.splitlines()
    assert "Channel: other" in notice.text and "P-??????" in notice.subject


def test_held_alerts_make_one_message_that_counts_and_lists_them():
    alerts = [make(patient_ref=patient_reference(f"web-{n}")) for n in range(3)] + [
        make("handoff", reason="handoff:human")
    ]
    notice = build(CONFIG, "clinician", alerts)
    assert notice.subject == "[Clinic] EMERGENCY: 4 more alerts (3 emergencies, 1 handoff)"
    for n in range(3):
        assert patient_reference(f"web-{n}") in notice.text
    assert notice.slack["text"] == "EMERGENCY: 4 more alerts (3 emergencies, 1 handoff)"
    only = build(CONFIG, "clinician", alerts[:3])
    assert only.subject == "[Clinic] EMERGENCY: 3 more emergencies"
