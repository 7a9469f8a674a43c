"""The console API against its own OpenAPI schema: every API route refuses a caller who is not
logged in (walking the app's routes, so routes added later are covered without editing this file),
and Schemathesis generates requests from `/openapi.json` and checks that none gets a 5xx and that
every response matches the schema."""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from console.accounts import create_user
from console.app import create_app
from console.db import session_factory
from console.deps import COOKIE
from console.models import User
from core.settings import Settings
from tests.console.conftest import PASSWORD, Tracker
from tests.console.fake_rasa import FakeRasa

# Reachable without a login: everything else under /api/ needs one.
PUBLIC = {("POST", "/api/auth/login")}
PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def protected_api_routes(app) -> list[tuple[str, str]]:
    """(method, path with every path parameter filled in) of every API route that needs a login."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue  # HTML pages, static files, /health and the schema itself are not API routes
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) not in PUBLIC:
                found.append((method, PATH_PARAM.sub("1", route.path)))
    return found


def test_every_api_route_answers_401_without_a_login(console):
    routes = protected_api_routes(console.client.app)
    assert len(routes) >= 10, routes
    anonymous = TestClient(console.client.app)
    forged = TestClient(console.client.app, cookies={"meso_console": "not-a-session-token"})
    for method, path in routes:
        for client in (anonymous, forged):
            for body in (dict[str, str](), None):
                response = client.request(method, path, json=body)
                assert response.status_code == 401, (method, path, body, response.status_code, response.text)
                assert response.json()["detail"], (method, path)


def test_the_route_walk_covers_the_schema(console):
    """Every operation the schema publishes under /api/ is one the walk above tries (or login)."""
    schema = console.client.get("/openapi.json").json()
    published = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/")
        for method in operations
        if method in {"get", "put", "post", "patch", "delete"}
    }
    walked = {(method, path) for method, path in protected_api_routes(console.client.app)}
    filled = {(method, PATH_PARAM.sub("1", path)) for method, path in published - PUBLIC}
    assert filled <= walked
    assert published >= PUBLIC


def test_user_ids_out_of_range_are_refused_not_a_server_error(console):
    """Ids past 64 bits used to crash SQLite's driver (500): the route now bounds them, so they get a 422."""
    console.login("ada")
    for user_id in ("0", "-1", str(2**31), str(2**63), str(10**30)):
        response = console.client.patch(f"/api/users/{user_id}", json={"active": True})
        assert response.status_code == 422, (user_id, response.status_code, response.text)


NUL_REQUESTS = [
    ("POST", "/api/auth/login", {"username": "ad\x00a", "password": "x"}, None),  # before any login
    ("GET", "/api/conversations", None, {"q": "a\x00b"}),
    ("GET", "/api/conversations/a%00b", None, None),
    ("POST", "/api/conversations/tg-1001/notes", {"text": "a\x00b"}, None),
    ("GET", "/api/audit", None, {"actor": "\x00"}),
]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("method", "path", "body", "params"), NUL_REQUESTS)
def test_nul_characters_are_refused_without_a_server_error(console, conversations, method, path, body, params):
    console.login("ada")
    client = TestClient(console.client.app, raise_server_exceptions=False, headers=console.client.headers)
    client.cookies = console.client.cookies
    response = client.request(method, path, json=body, params=params)
    # PostgreSQL cannot store NUL characters; the console says so instead of failing
    assert response.status_code == 422, (method, path, response.status_code, response.text)
    assert "cannot store" in response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# Schemathesis: requests generated from /openapi.json.
#
# The schema is read at import time, from an app on a throwaway in-memory database (schemathesis
# must know the operations when pytest collects the tests); the requests go to another app, on a
# fresh SQLite database with staff accounts and conversations, through an ASGI session passed to
# every call. (`schemathesis.pytest.from_fixture` would avoid the throwaway app, but it does not
# work with pytest 9.2: it sets `Function._nodeid`, which pytest no longer has.)
# ---------------------------------------------------------------------------------------------

OPENAPI = create_app(
    Settings(console_db_url="sqlite://", tracker_db_url="sqlite://", retention_interval_minutes=0)
).openapi()
BASE_URL = "http://testserver"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HYPOTHESIS = settings(
    max_examples=int(os.environ.get("MESO_FUZZ_EXAMPLES", "20")),  # per operation; more for a deeper local run
    deadline=None,
    derandomize=True,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=list(HealthCheck),
)


def load_schema(modes: list[GenerationMode]) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_dict(OPENAPI)
    schema.config.update(base_url=BASE_URL)
    schema.config.generation.update(modes=modes, deterministic=True)
    return schema


# Valid and invalid requests, as an admin (who passes every role check). Logging out or in would
# end the admin's session or lock accounts: those two have their own tests (test_access.py).
as_admin = (
    load_schema([GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    .exclude(path_regex=r"^/api/auth/(login|logout)$")
    .include(path_regex=r"^/(api/|health$)")
)
# Generated path parameters almost never name a seeded conversation or account, so most requests
# would stop at a 404: half of them get a known one instead, to reach the code behind it. Erasure
# only ever erases its own conversation, leaving the others to the operations that run after it.
KNOWN: dict[str, list[object]] = {
    "sender_id": ["tg-1001", "web-aaaaaaaaaaaaaaaa", "wa-4477", "rest-1"],
    "user_id": [1, 2, 3],  # 1 is the admin herself: Admin.fresh() repairs what a request does to her
}
ERASABLE = "erase-me-1"


@as_admin.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters:
        return st.just(path_parameters)
    erasure = context.operation is not None and context.operation.path.startswith("/api/patients/")
    known = {
        name: st.just(ERASABLE) if erasure and name == "sender_id" else st.sampled_from(KNOWN[name])
        for name in path_parameters
        if name in KNOWN
    }
    replaced = st.fixed_dictionaries(known).map(lambda values: {**path_parameters, **values})
    return st.one_of(st.just(path_parameters), replaced)


# Valid requests without a login, to every API operation but login.
anonymous = (
    load_schema([GenerationMode.POSITIVE]).include(path_regex=r"^/api/").exclude(method="POST", path="/api/auth/login")
)


class Admin:
    """A logged-in admin for generated requests: the session cookie and the CSRF token. A generated
    request may end that session (an admin who changes their own password or role is logged out
    everywhere), so `fresh()` checks it before each request and if needed restores the account and
    logs in again."""

    def __init__(self, app, url: str) -> None:
        self.client, self.url = TestClient(app), url
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        with session_factory(url)() as db:
            self.password_hash = db.query(User).filter_by(username="ada").one().password_hash

    def fresh(self) -> Admin:
        if self.cookies and self.client.get("/api/auth/me").status_code == 200:  # the client keeps the cookie
            return self
        with session_factory(self.url)() as db:
            ada = db.query(User).filter_by(username="ada").one()
            ada.password_hash, ada.role, ada.active = self.password_hash, "admin", True
            db.commit()
        response = self.client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.cookies = {COOKIE: response.cookies[COOKIE]}
        self.headers = {"X-CSRF-Token": response.json()["csrf_token"]}
        return self


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The console on a fresh SQLite database with the three staff accounts and a few conversations,
    its replies to patients going to a stand-in Rasa that delivers them all.

    SQLite only: what generated requests find (validation, response models, unhandled input) mostly
    does not depend on the database, and the same run on PostgreSQL takes as long again (it passed
    when tried). What does differ, NUL characters, has its own PostgreSQL test above."""
    rasa = FakeRasa()
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'console.db'}"
    settings = Settings(
        console_db_url=url,
        tracker_db_url=url,
        retention_interval_minutes=0,
        rasa_url=rasa.start(),
        rasa_token="a-token-for-the-stand-in-rasa-only",
    )
    app = create_app(settings)
    for username, role in (("ada", "admin"), ("rita", "reviewer"), ("cleo", "clinician")):
        create_user(url, username, PASSWORD, role)
    tracker = Tracker(url)
    tracker.turn("web-aaaaaaaaaaaaaaaa", "does it hurt?", "Mild stinging.", channel="webchat", topics=["pain"])
    tracker.turn("tg-1001", "I take warfarin", "A clinician will reply here.", kind="handoff", handoff=True)
    tracker.turn("wa-4477", "my throat is swelling", "Call 112 now.", kind="emergency", handoff=True)
    tracker.turn("rest-1", "blah", "Which of these do you mean?", kind="clarify", confidence=0.3)
    tracker.add("tg-1001", "bot", text="Hello, Dr Rao here.", metadata={"staff_reply": True, "author": "dr.rao"})
    tracker.turn(ERASABLE, "my number is +44 7700 900123", "Thanks.", channel="rest")
    yield app, url
    rasa.stop()


@pytest.fixture(scope="module")
def admin(seeded) -> Admin:
    return Admin(*seeded)


@pytest.fixture(scope="module")
def session(seeded):
    with ASGIClient(seeded[0], base_url=BASE_URL) as client:
        yield client


def test_the_schema_used_for_generated_requests_is_the_served_one(seeded):
    assert TestClient(seeded[0]).get("/openapi.json").json() == OPENAPI


def checks_for(case, response) -> list:
    # A negative case may send a body that is not JSON at all (bytes that are not UTF-8): FastAPI
    # answers 400 before any route code runs, and no route documents that framework answer.
    unparseable = response.status_code == 400 and response.json() == {"detail": "There was an error parsing the body"}
    if unparseable and case.meta is not None and case.meta.generation.mode.is_negative:
        return [check for check in CHECKS if check is not status_code_conformance]
    return CHECKS


@pytest.mark.slow  # about 20 s for 24 operations: `make test` runs it, `make test-fast` does not
@as_admin.parametrize()
@HYPOTHESIS
def test_generated_requests_as_admin_get_no_5xx_and_match_the_schema(case, session, admin):
    admin = admin.fresh()
    response = case.call(session=session, headers=admin.headers, cookies=admin.cookies)
    case.validate_response(response, checks=checks_for(case, response))


@anonymous.parametrize()
@settings(HYPOTHESIS, max_examples=5)  # only the 401 matters here
def test_generated_requests_without_a_login_get_401(case, session):
    response = case.call(session=session)
    assert response.status_code == 401, (case.method, case.formatted_path, response.status_code, response.text)
