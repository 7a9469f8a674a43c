"""End-to-end fixtures: the real servers, started the way `make run` starts them (scripts/run.sh),
on free ports with a private tracker database and alert file. Needs both environments and a
trained model (`make test` runs scripts/train.sh first)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.rasa_api import api_jwt
from core.settings import PROJECT_ROOT
from scripts.benchlib import free_port, own_session, stop_group, wait_port_free
from tests.e2e.fake_platforms import FakePlatforms

MODEL = PROJECT_ROOT / "var" / "rasa" / "models" / "meso.tar.gz"
READY_SECONDS = 420.0
"""How long scripts/run.sh may take to say it is ready (loading the Rasa model takes minutes on a busy machine)."""
TOKEN = "e2e-test-token-0123456789abcdef"
TELEGRAM_TOKEN = "123456789:AAE2e-test-bot-token"
TELEGRAM_SECRET = "e2e-telegram-secret_0123456789"
WHATSAPP_APP_SECRET = "e2e-whatsapp-app-secret"
WHATSAPP_VERIFY_TOKEN = "e2e-verify-token"
WHATSAPP_PHONE_ID = "106540352242922"
WHATSAPP_TEMPLATE = "staff_reply_followup"


@dataclass
class Assistant:
    url: str
    action_url: str
    console_url: str
    tracker_db: Path
    alerts_file: Path
    process: subprocess.Popen[str]
    log: Path
    env: dict[str, str]

    def post(self, sender: str, message: Any, metadata: dict[str, Any] | None = None, raw: bytes | None = None):
        """POST to the REST channel; returns (status, parsed JSON body)."""
        body = (
            raw
            if raw is not None
            else json.dumps(
                {"sender": sender, "message": message, "metadata": {"consent": True} if metadata is None else metadata}
            ).encode()
        )
        req = urllib.request.Request(
            self.url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def api_headers(self) -> dict[str, str]:
        """Rasa's HTTP API takes a short-lived JWT in the Authorization header (no URL token)."""
        return {"Authorization": f"Bearer {api_jwt(self.env['MESO_RASA_TOKEN'])}"}

    def tracker(self, sender: str) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/conversations/{sender}/tracker", headers=self.api_headers())
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def user_events(self, sender: str) -> list[dict[str, Any]]:
        """The patient messages stored for a sender, read straight from the tracker database."""
        if not self.tracker_db.exists():
            return []
        with sqlite3.connect(self.tracker_db) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def event_count(self, sender: str) -> int:
        if not self.tracker_db.exists():
            return 0
        with sqlite3.connect(self.tracker_db) as db:
            return db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]

    def staff_reply(self, sender: str, text: str, token: str = TOKEN) -> tuple[int, Any]:
        return staff_reply(self.url, sender, text, token)

    def alive(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/", timeout=5).close()
            return True
        except OSError:
            return False


def staff_reply(url: str, sender: str, text: str, token: str = TOKEN, author: str = "dr.test") -> tuple[int, Any]:
    """A clinician's reply through Rasa's staff webhook at `url` (an assistant, a cluster's public port): status, body."""
    req = urllib.request.Request(
        url + "/webhooks/staff/reply",
        data=json.dumps({"sender_id": sender, "text": text, "author": author}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def meta_of(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    metas = [m["custom"]["meta"] for m in messages if isinstance(m.get("custom"), dict) and "meta" in m["custom"]]
    return metas[-1] if metas else None


def texts_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages if m.get("text"))


def start_assistant(tmp: Path, **overrides: str):
    """Starts scripts/run.sh on free ports; yields an Assistant; Ctrl-C at the end must stop it cleanly."""
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists() or not MODEL.exists():
        pytest.fail("end-to-end tests need .venv-rasa and a trained model: run `make test` (it trains first)")
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MESO_ENV": "test",
        "MESO_RASA_PORT": str(rasa_port),
        "MESO_ACTION_PORT": str(action_port),
        "MESO_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "MESO_ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "MESO_TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.db'}",
        "MESO_CONSOLE_PORT": str(console_port),
        "MESO_CONSOLE_DB_URL": f"sqlite:///{tmp / 'console.db'}",
        "MESO_ALERTS_FILE": str(tmp / "alerts.jsonl"),
        "MESO_RASA_RUN_DIR": str(tmp / "rasa"),
        "MESO_RASA_TOKEN": TOKEN,
        **overrides,
    }
    log = tmp / "run.log"
    fh = log.open("w")
    proc = subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "run.sh")],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=own_session,
    )
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"scripts/run.sh exited with {proc.returncode}:\n{log.read_text()}")
        if re.search(r"\[run\]\S* ready in", log.read_text()):
            break
        time.sleep(0.5)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"the assistant did not become ready in {READY_SECONDS:.0f} s:\n{log.read_text()}")
    yield Assistant(
        url=f"http://127.0.0.1:{rasa_port}",
        action_url=f"http://127.0.0.1:{action_port}",
        console_url=f"http://127.0.0.1:{console_port}",
        tracker_db=tmp / "tracker.db",
        alerts_file=tmp / "alerts.jsonl",
        process=proc,
        log=log,
        env=env,
    )
    # Ctrl-C (SIGINT to the process group, as a terminal sends it) stops every server cleanly.
    clean = stop_group(proc, signal.SIGINT, timeout=30)
    fh.close()
    ports_free = all(wait_port_free(p) for p in (rasa_port, action_port, console_port))
    if not (clean and ports_free and re.search(r"\[run\]\S* stopped", log.read_text())):
        pytest.fail(f"Ctrl-C did not stop the assistant cleanly (ports free: {ports_free}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def platforms():
    """The fake Telegram Bot API / WhatsApp Graph API every e2e assistant sends to."""
    fake = FakePlatforms()
    yield fake
    fake.close()


def channel_settings(platforms: FakePlatforms) -> dict[str, str]:
    return {
        "MESO_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "MESO_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "MESO_TELEGRAM_API_BASE": platforms.telegram_base,
        "MESO_WHATSAPP_ACCESS_TOKEN": "EAAe2eTestAccessToken",
        "MESO_WHATSAPP_PHONE_NUMBER_ID": WHATSAPP_PHONE_ID,
        "MESO_WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
        "MESO_WHATSAPP_VERIFY_TOKEN": WHATSAPP_VERIFY_TOKEN,
        "MESO_WHATSAPP_API_BASE": platforms.graph_base,
        "MESO_WHATSAPP_TEMPLATE_NAME": WHATSAPP_TEMPLATE,
        "MESO_CHANNEL_RECOVERY_SECONDS": "1",  # claims left by a dead process are looked for every second
    }


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory, platforms: FakePlatforms):
    """The assistant with every channel on: REST, web widget, Telegram and WhatsApp (to the fake APIs)."""
    yield from start_assistant(tmp_path_factory.mktemp("e2e"), **channel_settings(platforms))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (Playwright's own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"browser tests need Debian's Chromium at {CHROMIUM}: run `scripts/setup-env.sh browser`")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
