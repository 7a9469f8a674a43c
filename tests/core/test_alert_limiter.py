"""The per-role rate limit on alert messages: alerts over it are held and sent together, never dropped, and a
held emergency waits at most `emergency_wait` seconds (core/alert_channels/limiter.py)."""

from __future__ import annotations

from core.alert_channels.limiter import RoleLimiter
from core.alerts import Alert


def alert(kind: str, n: int) -> Alert:
    return Alert(kind=kind, sender_id=f"s{n}", channel="webchat", reason="r", at=0.0, patient_ref=f"P-00000{n}")  # type: ignore[arg-type]


def test_alerts_within_the_limit_go_one_by_one():
    limiter = RoleLimiter(limit=3, window=60, emergency_wait=10)
    sent = [limiter.offer(alert("booking", n), now=float(n)) for n in range(3)]
    assert sent == [[alert("booking", 0)], [alert("booking", 1)], [alert("booking", 2)]]
    assert limiter.next_due() is None


def test_alerts_over_the_limit_are_held_and_sent_together_when_a_slot_frees():
    limiter = RoleLimiter(limit=2, window=60, emergency_wait=10)
    assert limiter.offer(alert("booking", 0), now=0) and limiter.offer(alert("booking", 1), now=1)
    assert limiter.offer(alert("booking", 2), now=2) is None
    assert limiter.offer(alert("handoff", 3), now=3) is None
    assert limiter.held == 2
    assert limiter.next_due() == 60  # the first message leaves the window
    assert limiter.due(now=59) is None
    assert limiter.due(now=60) == [alert("booking", 2), alert("handoff", 3)]
    assert limiter.held == 0 and limiter.next_due() is None


def test_a_held_emergency_goes_out_after_the_emergency_wait_even_over_the_limit():
    limiter = RoleLimiter(limit=1, window=600, emergency_wait=30)
    assert limiter.offer(alert("emergency", 0), now=0)
    assert limiter.offer(alert("booking", 1), now=1) is None
    assert limiter.next_due() == 600  # a booking waits for a free slot
    assert limiter.offer(alert("emergency", 2), now=5) is None
    assert limiter.offer(alert("emergency", 3), now=6) is None
    assert limiter.next_due() == 35
    assert limiter.due(now=34) is None
    assert limiter.due(now=35) == [alert("booking", 1), alert("emergency", 2), alert("emergency", 3)]
    # the limit still counts that message: the next emergency is held again, and waits at most 30 s
    assert limiter.offer(alert("emergency", 4), now=40) is None
    assert limiter.next_due() == 70
    assert limiter.due(now=70) == [alert("emergency", 4)]


def test_once_alerts_are_held_a_new_alert_joins_them_rather_than_overtaking():
    limiter = RoleLimiter(limit=1, window=10, emergency_wait=5)
    assert limiter.offer(alert("booking", 0), now=0)
    assert limiter.offer(alert("booking", 1), now=1) is None
    assert limiter.offer(alert("booking", 2), now=11) == [alert("booking", 1), alert("booking", 2)]
