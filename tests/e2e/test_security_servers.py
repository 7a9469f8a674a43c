"""Issue 14, the private action server, Rasa's API authentication and data at rest, replayed against the
real servers (scripts/run.sh): each test is a finding of the security review and fails without its control.

- A forged tracker posted to the action server (directly, or from a web page through CORS) wrote staff
  alerts for any sender; MESO_BIND_HOST=0.0.0.0 exposed it too.
- Rasa's API token was accepted only as `?token=` in URLs and was visible in `ps`.
- The tracker database, the console database, the alerts file and the logs were world-readable.
- The alerts file kept the patient's raw text; audit rows kept sender ids after erasure.

This module runs its own assistant with MESO_BIND_HOST=0.0.0.0 (as the README suggests behind a proxy)
and with data files an earlier version left world-readable."""

from __future__ import annotations

import json
import re
import secrets
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from core.rasa_api import api_jwt, hand_back
from core.settings import PROJECT_ROOT, Settings
from tests.e2e.conftest import TOKEN, Assistant, start_assistant

EMERGENCY = "my lips and tongue are swelling fast after the filler and I can hardly breathe, this is Ann Smith"
PATIENT_WORDS = ("lips", "tongue", "hardly", "Ann", "Smith", "filler")  # (rule ids, such as throat_swelling, may stay)
STAFF, PASSWORD = "sec.admin", f"e2e {secrets.token_hex(12)} staff passphrase"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    tmp = tmp_path_factory.mktemp("security-e2e")
    # what an earlier version left behind: a world-readable alerts file and log
    (tmp / "rasa" / "logs").mkdir(parents=True)
    for leftover in (tmp / "alerts.jsonl", tmp / "rasa" / "logs" / "rasa.log"):
        leftover.write_text("")
        leftover.chmod(0o644)
    (tmp / "rasa").chmod(0o755)
    yield from start_assistant(tmp, MESO_BIND_HOST="0.0.0.0")


def request(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None):
    """(status, headers, parsed body) of one HTTP call; never raises for an HTTP error status."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw, status, got = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, exc.headers
    try:
        parsed = json.loads(raw or b"null")
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, got, parsed


def alert_lines(assistant: Assistant) -> list[dict[str, Any]]:
    if not assistant.alerts_file.exists():
        return []
    return [json.loads(line) for line in assistant.alerts_file.read_text(encoding="utf-8").splitlines() if line]


def forged_call(sender: str) -> dict[str, Any]:
    """What Rasa posts to the action server for an emergency turn: a tracker anyone can make up."""
    latest = {"text": EMERGENCY, "intent": {"name": "warning_signs", "confidence": 1.0}, "entities": []}
    latest["metadata"] = {"consent": True}
    tracker = {
        "sender_id": sender,
        "slots": {"consent": True},
        "latest_message": latest,
        "events": [{"event": "user", "text": EMERGENCY, "parse_data": latest, "input_channel": "webchat"}],
        "paused": False,
        "latest_action_name": "action_listen",
    }
    return {"next_action": "action_emergency", "sender_id": sender, "tracker": tracker, "domain": {}, "version": "3.6"}


def action_secret(assistant: Assistant) -> str:
    """The secret Rasa sends, from the generated endpoints.yml (owner-only; this test runs as its owner)."""
    endpoints = yaml.safe_load((Path(assistant.env["MESO_RASA_RUN_DIR"]) / "endpoints.yml").read_text())
    return endpoints["action_endpoint"]["headers"]["Authorization"].removeprefix("Bearer ")


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP port listens on (/proc/net/tcp and tcp6, state 0A = LISTEN)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def process_tree(root: int) -> dict[int, str]:
    """Every process under `root` (scripts/run.sh), pid -> its command line as `ps` shows it."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
                commands[int(entry.name)] = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        tree[pid] = commands.get(pid, "")
        todo += [child for child, parent in parents.items() if parent == pid]
    return tree


# ------------------------------------------------------------------------------- the action server


def test_a_forged_tracker_without_the_secret_is_refused_and_writes_no_alert(assistant):
    sender = f"web-victim-{secrets.token_hex(6)}"
    webhook = assistant.action_url + "/webhook"
    for headers in ({}, {"Authorization": "Bearer not-the-secret"}, {"Authorization": "Bearer " + TOKEN}):
        status, _, _ = request(webhook, "POST", forged_call(sender), headers)
        assert status == 401, headers
    assert request(assistant.action_url + "/actions")[0] == 401
    time.sleep(1)
    assert not [a for a in alert_lines(assistant) if a["sender_id"] == sender]
    # the same call with Rasa's secret is what Rasa does: it is served (so the refusal above is the control)
    status, _, body = request(
        webhook, "POST", forged_call(sender), {"Authorization": "Bearer " + action_secret(assistant)}
    )
    assert status == 200, body
    assert [a["kind"] for a in alert_lines(assistant) if a["sender_id"] == sender] == ["emergency"]


def test_no_web_page_can_call_the_action_server_through_cors(assistant):
    origin = {"Origin": "https://evil.example"}
    preflight = {**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for method, path, headers in (
        ("OPTIONS", "/webhook", preflight),
        ("POST", "/webhook", origin),
        ("GET", "/health", origin),
    ):
        status, got, _ = request(assistant.action_url + path, method, {} if method == "POST" else None, headers)
        cors = [name for name in got if name.lower().startswith("access-control-")]
        assert cors == [], (method, path, status, cors)
    assert request(assistant.action_url + "/health")[0] == 200  # the readiness probe stays open


def test_the_action_server_listens_on_loopback_even_when_the_servers_bind_every_interface(assistant):
    rasa_port = int(assistant.url.rsplit(":", 1)[1])
    action_port = int(assistant.action_url.rsplit(":", 1)[1])
    assert listening_addresses(rasa_port) & {"00000000", "00000000000000000000000000000000"}  # MESO_BIND_HOST
    assert listening_addresses(action_port) == {"0100007F"}  # 127.0.0.1 only (MESO_ACTION_BIND_HOST)


# --------------------------------------------------------------------------------- Rasa's HTTP API


def test_rasas_api_refuses_a_url_token_and_accepts_a_short_lived_jwt(assistant):
    sender = f"sec-{secrets.token_hex(5)}"
    assert assistant.post(sender, "hello")[0] == 200
    tracker = f"{assistant.url}/conversations/{sender}/tracker"
    refused = [
        (f"{tracker}?token={TOKEN}", {}),  # the URL token of old
        (tracker, {"Authorization": f"Bearer {TOKEN}"}),  # the raw secret is no JWT
        (tracker, {"Authorization": f"Bearer {api_jwt('another-secret-0123456789abcdef')}"}),
        (tracker, {"Authorization": f"Bearer {api_jwt(TOKEN, now=time.time() - 3600)}"}),  # expired
        (tracker, {}),
    ]
    for url, headers in refused:
        assert request(url, headers=headers)[0] == 401, (url, headers)
    status, _, body = request(tracker, headers={"Authorization": f"Bearer {api_jwt(TOKEN)}"})
    assert status == 200 and body["sender_id"] == sender
    # what the console does with it: hand a conversation back (core/rasa_api.py)
    hand_back(sender, Settings(rasa_url=assistant.url, rasa_token=TOKEN))


def test_no_secret_is_on_any_command_line(assistant):
    tree = process_tree(assistant.process.pid)
    assert any("bot.rasa_run run" in cmd for cmd in tree.values()), tree
    assert any("actions.server" in cmd for cmd in tree.values()), tree
    for secret in (TOKEN, action_secret(assistant)):
        assert not [cmd for cmd in tree.values() if secret in cmd]


# ------------------------------------------------------------------------------------ data at rest


def test_data_files_and_folders_are_owner_only_after_a_real_run(assistant):
    status, messages = assistant.post(f"sec-{secrets.token_hex(5)}", EMERGENCY)
    assert status == 200, messages
    tmp = assistant.tracker_db.parent
    run_dir = Path(assistant.env["MESO_RASA_RUN_DIR"])
    files = [
        assistant.tracker_db,
        tmp / "console.db",
        assistant.alerts_file,  # world-readable before the run
        run_dir / "endpoints.yml",
        run_dir / "credentials.yml",
        *sorted((run_dir / "logs").iterdir()),  # rasa.log was world-readable before the run
    ]
    folders = [run_dir, run_dir / "logs"]
    assert len(files) >= 8
    for path in files:
        assert path.exists(), path
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path}: {stat.filemode(path.stat().st_mode)}"
    for path in folders:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, f"{path}: {stat.filemode(path.stat().st_mode)}"


def test_the_alerts_file_has_no_patient_text_after_an_emergency(assistant):
    before = len(alert_lines(assistant))
    status, messages = assistant.post(f"sec-{secrets.token_hex(5)}", EMERGENCY)
    assert status == 200, messages
    new = alert_lines(assistant)[before:]
    assert [a["kind"] for a in new] == ["emergency"], new
    assert new[0]["reason"].startswith("warning_sign:") and re.fullmatch(r"P-[0-9A-Z]{6}", new[0]["patient_ref"])
    written = assistant.alerts_file.read_text(encoding="utf-8")
    assert not [word for word in PATIENT_WORDS if word in written]


@pytest.fixture(scope="module")
def console(assistant) -> Iterator[httpx.Client]:
    """The running console, logged in as an admin made with the command line."""
    done = subprocess.run(
        [sys.executable, "-m", "console", "create-user", STAFF, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        env=assistant.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with httpx.Client(base_url=assistant.console_url, timeout=30) as client:
        response = client.post("/api/auth/login", json={"username": STAFF, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        yield client


def test_audit_rows_name_no_patient_after_an_erasure(assistant, console):
    before = len(alert_lines(assistant))
    assert assistant.post(f"sec-{secrets.token_hex(5)}", EMERGENCY)[0] == 200
    sender = alert_lines(assistant)[before]["sender_id"]  # as stored (channels may namespace it)
    assert console.get(f"/api/conversations/{sender}").status_code == 200  # audited: view_transcript
    assert console.delete(f"/api/patients/{sender}").status_code == 200  # audited: erase

    audit = console.get("/api/audit", params={"page_size": 200}).json()["items"]
    assert not [entry for entry in audit if sender in json.dumps(entry)]
    mine = [e for e in audit if e["action"] in ("view_transcript", "erase") and e["actor"] == STAFF]
    assert {e["action"] for e in mine} == {"view_transcript", "erase"}
    assert len({e["target"] for e in mine}) == 1 and mine[0]["target"].startswith("erased-")
