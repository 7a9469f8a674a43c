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

    def refresh(path: str) -> list[int]:
        client = TestClient(console.client.app)
        response = client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
        assert response.status_code == 200
        return [client.get(path).status_code for _ in range(3)]

    paths = ["/api/conversations", "/api/handoffs", "/api/gaps", "/api/conversations?page=2"] * 2
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        codes = [code for result in pool.map(refresh, paths) for code in result]
    assert set(codes) == {200}
    console.login("ada")
    items = console.client.get("/api/conversations", params={"page_size": 200}).json()["items"]
    assert len(items) == 40
    assert {c["user_messages"] for c in items} == {2}
