"""The conversation index stays right when several staff screens refresh at once (the handoff
queue polls every few seconds while others browse the list)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient

from tests.console.conftest import PASSWORD


def test_concurrent_refreshes_index_every_message_exactly_once(console, tracker):
    for n in range(40):
        tracker.turn(f"web-{n:016d}", f"question {n}", "answer", channel="webchat")
        tracker.add(f"web-{n:016d}", "user", text="and another thing", input_channel="webchat")

    def logged_in() -> TestClient:
        # logins one after another: simultaneous attempts on one account count against its lockout
        # (tests/console/test_login_security.py); the screens' refreshes below are what run at once
        client = TestClient(console.client.app)
        response = client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
        assert response.status_code == 200
        return client

    def refresh(job: tuple[TestClient, str]) -> list[int]:
        client, path = job
        return [client.get(path).status_code for _ in range(3)]

    paths = ["/api/conversations", "/api/handoffs", "/api/gaps", "/api/conversations?page=2"] * 2
    jobs = [(logged_in(), path) for path in paths]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        codes = [code for result in pool.map(refresh, jobs) for code in result]
    assert set(codes) == {200}
    console.login("ada")
    items = console.client.get("/api/conversations", params={"page_size": 200}).json()["items"]
    assert len(items) == 40
    assert {c["user_messages"] for c in items} == {2}
