"""The console's screens as the browser gets them: the page and every file it loads are served with
strict security headers, nothing outside the static folder is, and the screens stay out of the API
schema. (What the screens do is tested in a real browser: tests/e2e/test_console.py.)"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from console.routers.pages import STATIC
from core.settings import Settings

IMPORT = re.compile(r"""(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\./[^"]+)";""")


@pytest.fixture()
def client(tmp_path) -> TestClient:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    return TestClient(create_app(Settings(console_db_url=url, tracker_db_url=url, retention_interval_minutes=0)))


def test_the_page_comes_with_strict_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"  # no inline script or style
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text and not re.search(r"<[^>]+\son\w+\s*=", response.text)  # no inline JS


def test_every_file_the_page_loads_is_served(client):
    page = client.get("/").text
    wanted = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert {"/static/console.css", "/static/js/app.js"} <= wanted
    seen: set[str] = set()
    while wanted:
        url = wanted.pop()
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
        if url.endswith(".js"):
            assert response.headers["content-type"].startswith("text/javascript")
            base = url.rsplit("/", 1)[0]
            wanted |= {f"{base}/{name[2:]}" for name in IMPORT.findall(response.text)} - seen
    assert len([u for u in seen if u.endswith(".js")]) >= 8  # app, api, dom and the screens


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/js/../../deps.py",
        "/static/js/missing.js",
        "/static/js",
    ],
)
def test_nothing_outside_the_static_folder_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


def test_no_script_writes_html(client):
    """Patient text is hostile: the screens put every text into the page as text, never as HTML."""
    for script in (STATIC / "js").glob("*.js"):
        source = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, (script.name, sink)


def test_the_screens_are_not_part_of_the_api_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith("/static")]
