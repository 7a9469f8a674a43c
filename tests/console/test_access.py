"""Access to the console: login, sessions, CSRF, roles, lockout, the audit trail of logins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError

from console.db import session_factory
from console.models import LoginSession, User
from tests.console.conftest import PASSWORD

OPEN_ROUTES = {"/api/auth/login", "/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def api_routes(app):
    for route in app.routes:
        path = getattr(route, "path", "")
        if path in OPEN_ROUTES or not path.startswith("/api"):
            continue
        for method in route.methods:
            if method != "HEAD":
                yield method, path.replace("{user_id}", "1")


def test_every_api_route_needs_a_login(console):
    routes = list(api_routes(console.client.app))
    assert len(routes) >= 5
    for method, path in routes:
        response = console.client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)


def test_openapi_schema_and_health_are_public(console):
    assert console.client.get("/health").json() == {"status": "ok"}
    schema = console.client.get("/openapi.json").json()
    assert "/api/auth/login" in schema["paths"]


def test_login_sets_a_safe_cookie_and_is_audited(console):
    me = console.login("ada")
    assert me["role"] == "admin"
    cookie = console.client.cookies.jar
    set_cookie = console.client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD}).headers[
        "set-cookie"
    ]
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie
    assert cookie is not None
    assert console.client.get("/api/auth/me").json()["username"] == "ada"
    entries = console.client.get("/api/audit", params={"action": "login"}).json()["items"]
    assert entries and entries[0]["actor"] == "ada"


def test_wrong_password_is_refused_audited_and_locks_after_five_tries(console):
    for _ in range(5):
        response = console.client.post("/api/auth/login", json={"username": "rita", "password": "not the password"})
        assert response.status_code == 401
    locked = console.client.post("/api/auth/login", json={"username": "rita", "password": PASSWORD})
    assert locked.status_code == 429
    unknown = console.client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401
    console.login("ada")
    failures = console.client.get("/api/audit", params={"action": "login_failed"}).json()
    assert failures["total"] == 6


def test_wrong_role_gets_403(console):
    console.login("rita")
    assert console.client.get("/api/users").status_code == 403
    assert console.client.get("/api/audit").status_code == 403
    clinician = console.as_new_client()
    response = clinician.post("/api/auth/login", json={"username": "cleo", "password": PASSWORD})
    assert response.status_code == 200
    assert clinician.get("/api/users").status_code == 403


def test_changes_need_the_csrf_token(console):
    console.login("ada")
    new_user = {"username": "newbie", "password": "another long passphrase", "role": "reviewer"}
    token = console.client.headers.pop("X-CSRF-Token")
    assert console.client.post("/api/users", json=new_user).status_code == 403
    assert console.client.post("/api/users", json=new_user, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert console.client.post("/api/users", json=new_user, headers={"X-CSRF-Token": token}).status_code == 201


def test_logout_and_expiry_end_the_session(console):
    console.login("ada")
    assert console.client.post("/api/auth/logout").status_code == 204
    assert console.client.get("/api/auth/me").status_code == 401
    console.login("ada")
    with session_factory(console.settings.console_db_url)() as db:
        db.execute(update(LoginSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.commit()
    assert console.client.get("/api/auth/me").status_code == 401


def test_admin_manages_users_and_a_disabled_user_is_logged_out(console):
    rita = console.as_new_client()
    assert rita.post("/api/auth/login", json={"username": "rita", "password": PASSWORD}).status_code == 200
    console.login("ada")
    users = {u["username"]: u for u in console.client.get("/api/users").json()}
    assert set(users) == {"ada", "rita", "cleo"}
    assert "password" not in str(users)
    weak = console.client.post("/api/users", json={"username": "weak", "password": "short", "role": "reviewer"})
    assert weak.status_code == 422
    response = console.client.patch(f"/api/users/{users['rita']['id']}", json={"active": False})
    assert response.status_code == 200 and response.json()["active"] is False
    assert rita.get("/api/auth/me").status_code == 401
    self_demote = console.client.patch(f"/api/users/{users['ada']['id']}", json={"role": "reviewer"})
    assert self_demote.status_code == 422


def test_passwords_are_stored_as_argon2_hashes(console):
    with session_factory(console.settings.console_db_url)() as db:
        hashes = [u.password_hash for u in db.query(User)]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


@pytest.mark.parametrize("statement", ["UPDATE console_audit SET actor = 'someone else'", "DELETE FROM console_audit"])
def test_the_audit_log_is_append_only_in_the_database(console, statement):
    console.login("ada")
    with session_factory(console.settings.console_db_url)() as db:
        before = db.execute(text("SELECT count(*), min(actor) FROM console_audit")).one()
        assert before[0] > 0
        with pytest.raises(DBAPIError):
            db.execute(text(statement))
            db.commit()
        db.rollback()
        assert db.execute(text("SELECT count(*), min(actor) FROM console_audit")).one() == before


def test_api_answers_are_never_cached_by_browsers_or_proxies(console, conversations):
    for path in ("/api/conversations", "/api/conversations/tg-1001", "/api/auth/me"):
        assert console.client.get(path).headers["cache-control"] == "no-store", path
