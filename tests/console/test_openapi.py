"""The console API against its own OpenAPI schema: every API route refuses a caller who is not
logged in (walking the app's routes, so routes added later are covered without editing this file),
and Schemathesis generates requests from `/openapi.json` and checks that none gets a 5xx and that
every response matches the schema."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

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
            for body in ({}, None):
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
    assert PUBLIC <= published
