"""The production topology (`make run-cluster`: scripts/cluster/) with two Rasa processes and two action servers
behind HAProxy, on a throwaway database of the local PostgreSQL and a Redis database of its own, and one fault:
a Rasa process killed (SIGKILL) while several patients, on the REST channel and the web widget, are writing.

What a patient or the clinic would notice: every message a patient sent got a reply once the patient sent it
again after an error (the widget's "Not sent." Retry button: the same `client_message_id` with `resend: true`),
and every message is in the conversation exactly once with one reply, even one the dead process had stored; the load balancer keeps answering while the process is dead, the supervisor brings it
back and the load balancer gives it work again; Ctrl-C stops everything and frees every port.

Needs Debian's HAProxy (`make test` installs it: scripts/setup-env.sh haproxy), psql, and the local PostgreSQL
and Redis, like tests/e2e/test_postgres_tracker.py (marked `postgres`: skipped without PostgreSQL unless
MESO_REQUIRE_POSTGRES=1, as on CI)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from core.settings import PROJECT_ROOT
from scripts.benchlib import free_port, own_session, stop_group, wait_port_free
from scripts.cluster.haproxy import ServerState, find_binary, server_states
from tests.e2e.conftest import MODEL, TOKEN, staff_reply
from tests.e2e.test_postgres_tracker import psql
from tests.e2e.webchat import WebChat, call

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

READY_SECONDS = 600.0
"""The cluster starts one Rasa process, then the other: each loads the model (minutes on a busy machine)."""
RESTART_SECONDS = 420.0
REDIS_DB = "7"
"""A Redis database no other test uses (tests/e2e/test_postgres_tracker.py uses 3)."""
RETRY_AFTER = 1.0
GIVE_UP_AFTER = 90.0
"""Seconds a patient keeps sending one message again after errors before the test counts it as lost."""
KILL_AFTER_ANSWERS = 8
QUESTIONS = [
    "what is mesotherapy",
    "does mesotherapy hurt",
    "how many sessions are usually needed",
    "how long does one session take",
    "how long do the results last",
    "is there any downtime after a session",
    "what does a session cost",
    "how should I prepare for my first session",
]


# -- the cluster -----------------------------------------------------------------------------------


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_block(size: int) -> int:
    """The first of `size` consecutive free ports (the cluster numbers its processes' ports from a base)."""
    for _ in range(200):
        base = free_port()
        if base + size < 65535 and all(_bindable(base + k) for k in range(size)):
            return base
    raise RuntimeError(f"no {size} consecutive free ports")


@dataclass
class Cluster:
    url: str
    socket: Path
    process: subprocess.Popen[str]
    log: Path
    ports: list[int]
    db: str

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def rasa_pid(self, number: int) -> int:
        found = re.findall(rf"(?:starting|restarting) Rasa {number} \(pid (\d+)", self.text())
        assert found, f"no pid for Rasa {number} in the log:\n{self.text()[-3000:]}"
        return int(found[-1])

    def states(self) -> dict[str, ServerState]:
        return {f"{s.backend}/{s.server}": s for s in server_states(self.socket)}


def start_cluster(tmp: Path, db: str, processes: int = 2, action_servers: int = 2) -> Generator[Cluster, None, None]:
    """`make run-cluster` on free ports with the tracker store in database `db` (Redis database REDIS_DB): the
    cluster once ready, then (on the generator's next step) stopped with Ctrl-C and checked to stop cleanly."""
    while True:
        rasa_base, action_base, public, console = (
            free_block(processes),
            free_block(action_servers + 1),
            free_port(),
            free_port(),
        )
        ports = [
            public,
            console,
            *range(rasa_base, rasa_base + processes),
            *range(action_base, action_base + action_servers + 1),
        ]
        if len(set(ports)) == len(ports):
            break
    env = {
        **os.environ,
        "MESO_ENV": "test",
        "MESO_RASA_PROCESSES": str(processes),
        "MESO_ACTION_SERVERS": str(action_servers),
        "MESO_PUBLIC_PORT": str(public),
        "MESO_RASA_PORT": str(rasa_base),
        "MESO_ACTION_PORT": str(action_base),
        "MESO_CONSOLE_PORT": str(console),
        "MESO_TRACKER_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{db}",
        "MESO_LOCK_STORE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "MESO_CONSOLE_DB_URL": f"sqlite:///{tmp / 'console.db'}",
        "MESO_ALERTS_FILE": str(tmp / "alerts.jsonl"),
        "MESO_RASA_RUN_DIR": str(tmp / "rasa"),
        "MESO_CLUSTER_RUN_DIR": str(tmp / "cluster"),
        "MESO_RASA_TOKEN": TOKEN,
    }
    log = tmp / "cluster.log"
    fh = log.open("w")
    # what `make run-cluster` runs once the environments, the model and HAProxy are there
    proc = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "scripts.cluster"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=fh,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=own_session,
    )
    deadline = time.monotonic() + READY_SECONDS
    while not re.search(r"\[cluster\]\S* ready in", log.read_text()):
        if proc.poll() is not None:
            pytest.fail(f"the cluster exited with {proc.returncode} while starting:\n{log.read_text()[-5000:]}")
        if time.monotonic() > deadline:
            stop_group(proc, signal.SIGKILL, timeout=10)
            pytest.fail(f"the cluster was not ready in {READY_SECONDS:.0f} s:\n{log.read_text()[-5000:]}")
        time.sleep(0.5)
    yield Cluster(f"http://127.0.0.1:{public}", tmp / "cluster" / "haproxy.sock", proc, log, ports, db)
    # Ctrl-C (SIGINT to the process group, as a terminal sends it) stops every process cleanly
    clean = stop_group(proc, signal.SIGINT, timeout=45)
    fh.close()
    ports_free = all(wait_port_free(p) for p in ports)
    if not (clean and ports_free and re.search(r"\[cluster\]\S* stopped", log.read_text())):
        pytest.fail(f"Ctrl-C did not stop the cluster cleanly (ports free: {ports_free}):\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if find_binary() is None:
        pytest.fail("the cluster test needs HAProxy: run `scripts/setup-env.sh haproxy` (make test does)")
    if not (PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa").exists() or not MODEL.exists():
        pytest.fail("the cluster test needs .venv-rasa and a trained model: run `make test` (it trains first)")
    db = f"meso_e2e_cluster_{uuid.uuid4().hex[:8]}"
    psql(f"create database {db}")
    servers = start_cluster(tmp_path_factory.mktemp("e2e-cluster"), db)
    try:
        yield next(servers)
        next(servers, None)  # Ctrl-C and the clean-stop checks
    finally:
        servers.close()
        psql(f"drop database if exists {db} with (force)")


# -- patients --------------------------------------------------------------------------------------


class Patient(Protocol):
    label: str

    def send(self, text: str, message_id: str = "", resend: bool = False) -> tuple[int, list[str]]:
        """The HTTP status and the reply's texts (0: no HTTP answer at all). With `message_id` the message
        carries it as `client_message_id` (and `resend` when it is sent again), as the widget's do."""
        ...

    def sender_id(self) -> str: ...


def ids(message_id: str, resend: bool) -> dict[str, object]:
    return {"client_message_id": message_id, "resend": resend} if message_id else {}


class RestPatient:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sender = f"cluster-{uuid.uuid4().hex[:10]}"
        self.label = f"REST {self.sender}"

    def send(self, text: str, message_id: str = "", resend: bool = False) -> tuple[int, list[str]]:
        body = {"sender": self.sender, "message": text, "metadata": {"consent": True}, **ids(message_id, resend)}
        response = httpx.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        if response.status_code != 200:
            return response.status_code, []
        return 200, [m["text"] for m in response.json() if m.get("text")]

    def sender_id(self) -> str:
        return self.sender


class WidgetPatient:
    def __init__(self, url: str) -> None:
        self.chat = WebChat.start(url)
        self.cursor = 0
        self.label = f"widget {self.chat.sender_id}"

    def send(self, text: str, message_id: str = "", resend: bool = False) -> tuple[int, list[str]]:
        body = {"message": text, "consent": True, "after": self.cursor, **ids(message_id, resend)}
        response = call(self.chat.server, "POST", "webhook", body, self.chat.token)
        if response.status_code != 200:
            return response.status_code, []
        result = response.json()
        self.cursor = result["cursor"]
        return 200, [m["text"] for m in result["messages"] if m.get("role") == "bot" and m.get("text")]

    def sender_id(self) -> str:
        return self.chat.sender_id


@dataclass
class Exchange:
    """One message as the patient lived it: how many times it was sent and what came back in the end."""

    patient: str
    text: str
    attempts: int = 0
    status: int = 0
    reply: list[str] = field(default_factory=list)
    answered_at: float = 0.0
    errors: list[str] = field(default_factory=list)


def converse(patient: Patient, texts: list[str], out: list[Exchange], lock: threading.Lock) -> None:
    """Sends each message in turn; after an error (no answer, 502, 503, 504) the same message again a second later,
    with the same id and `resend: true` (the widget's Retry)."""
    for text in texts:
        exchange = Exchange(patient.label, text)
        message_id = uuid.uuid4().hex
        deadline = time.monotonic() + GIVE_UP_AFTER
        while True:
            exchange.attempts += 1
            try:
                exchange.status, exchange.reply = patient.send(text, message_id, resend=exchange.attempts > 1)
            except httpx.HTTPError as exc:
                exchange.status, exchange.reply = 0, []
                exchange.errors.append(type(exc).__name__)
            if exchange.status == 200 or exchange.status not in (0, 502, 503, 504) or time.monotonic() > deadline:
                break
            exchange.errors.append(str(exchange.status))
            time.sleep(RETRY_AFTER)
        exchange.answered_at = time.monotonic()
        with lock:
            out.append(exchange)
        if exchange.status != 200:
            return  # the rest of this patient's messages would not tell more


def stored_turns(db: str, sender: str) -> tuple[list[str], int]:
    """The patient messages stored for a sender, in order, and how many replies carry reply metadata."""
    rows = psql(
        f"select type_name, data from events where sender_id = '{sender}' and type_name in ('user', 'bot') order by id",
        db,
    ).splitlines()
    users, replies = [], 0
    for row in rows:
        kind, _, data = row.partition("|")
        event = json.loads(data)
        if kind == "user":
            users.append(event.get("text"))
        elif ((event.get("data") or {}).get("custom") or {}).get("meta"):
            replies += 1
    return users, replies


# -- the tests -------------------------------------------------------------------------------------


def test_one_public_port_routes_patients_to_rasa_and_staff_to_the_console(cluster: Cluster) -> None:
    rest = RestPatient(cluster.url)
    status, reply = rest.send("how many sessions are usually needed")
    assert status == 200 and reply, reply
    widget = WidgetPatient(cluster.url)
    status, reply = widget.send("does mesotherapy hurt")
    assert status == 200 and reply, reply
    demo = httpx.get(f"{cluster.url}/webhooks/webchat/demo", timeout=30)
    assert demo.status_code == 200 and "<script" in demo.text
    console = httpx.get(f"{cluster.url}/", timeout=30)
    assert console.status_code == 200 and "text/html" in console.headers["content-type"]
    assert httpx.get(f"{cluster.url}/health", timeout=30).json() == {"status": "ok"}
    # the action servers' route is not on the public port: the console answers it, not an action server
    assert httpx.post(f"{cluster.url}/webhook", json={"next_action": "action_respond"}, timeout=30).status_code in (
        404,
        405,
    )
    states = cluster.states()
    assert sorted(states) == [
        "actions/actions1",
        "actions/actions2",
        "console/console",
        "rasa/rasa1",
        "rasa/rasa2",
    ]
    assert all(s.up for s in states.values()), states


def test_a_staff_reply_reaches_the_widget_whichever_rasa_process_answers_its_polls(cluster: Cluster) -> None:
    chat = WebChat.start(cluster.url)
    cursor = chat.say("I would like to talk to a person please")["cursor"]
    status, answer = staff_reply(cluster.url, chat.sender_id, "Dr Rao here: how can I help?", author="dr.rao")
    assert status == 200, answer
    # each poll on a connection of its own: HAProxy shares them between both Rasa processes
    polls = [chat.history(cursor) for _ in range(6)]
    assert all([m["text"] for m in poll["messages"]] == ["Dr Rao here: how can I help?"] for poll in polls), polls
    latest = polls[-1]["cursor"]
    assert all(chat.history(latest) == {"messages": [], "cursor": latest} for _ in range(6))


def test_a_killed_rasa_process_loses_no_message(cluster: Cluster) -> None:
    patients: list[Patient] = [RestPatient(cluster.url) for _ in range(3)]
    patients += [WidgetPatient(cluster.url) for _ in range(2)]
    plans = [(patient, QUESTIONS[i:] + QUESTIONS[:i]) for i, patient in enumerate(patients)]
    exchanges: list[Exchange] = []
    lock = threading.Lock()
    threads = [threading.Thread(target=converse, args=(p, sent, exchanges, lock), daemon=True) for p, sent in plans]
    for thread in threads:
        thread.start()

    # In the middle of the stream, while HAProxy has a request on it, Rasa 2 is killed
    victim = cluster.rasa_pid(2)
    deadline = time.monotonic() + 120
    while len(exchanges) < KILL_AFTER_ANSWERS or cluster.states()["rasa/rasa2"].current == 0:
        assert time.monotonic() < deadline, "the stream did not reach Rasa 2"
        time.sleep(0.05)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    answered_before = len(exchanges)

    # HAProxy takes it out of rotation; patients keep getting answers meanwhile
    timeline: list[tuple[float, str]] = []
    while any(t.is_alive() for t in threads) or (
        time.monotonic() - killed_at < 10 and all(status == "UP" for _, status in timeline)
    ):
        timeline.append((time.monotonic(), cluster.states()["rasa/rasa2"].status))
        time.sleep(0.2)
        assert time.monotonic() - killed_at < 300, "the patients' messages were not answered within 5 minutes"
    down = [t for t, status in timeline if status != "UP"]
    assert down, f"HAProxy never took the dead Rasa 2 out of rotation: {timeline[:20]}"
    answered_while_down = [e for e in exchanges if e.answered_at > down[0] and e.status == 200]

    lost = [e for e in exchanges if e.status != 200 or not e.reply]
    assert not lost, f"messages without a reply: {lost}"
    assert len(exchanges) == sum(len(sent) for _, sent in plans)
    assert 0 < answered_before < len(exchanges), "the kill did not happen in the middle of the stream"
    assert answered_while_down, "no patient was answered while Rasa 2 was down"
    for patient, sent in plans:
        users, replies = stored_turns(cluster.db, patient.sender_id())
        assert users == sent, f"{patient.label}: stored {users}, sent {sent}"
        assert replies == len(sent), f"{patient.label}: {replies} stored replies for {len(sent)} messages"

    # The supervisor starts it again; HAProxy gives it work once its health check passes
    deadline = time.monotonic() + RESTART_SECONDS
    while not re.search(r"Rasa 2 ready again", cluster.text()) or not cluster.states()["rasa/rasa2"].up:
        assert time.monotonic() < deadline, (
            f"Rasa 2 was not back within {RESTART_SECONDS:.0f} s:\n{cluster.text()[-3000:]}"
        )
        time.sleep(1)
    assert re.search(r"Rasa 2 exited with code -9 \(killed by signal 9\)", cluster.text())
    restarted = cluster.rasa_pid(2)
    assert restarted != victim
    os.kill(restarted, 0)  # alive
    before = cluster.states()["rasa/rasa2"].sessions
    after_restart = RestPatient(cluster.url)
    for text in QUESTIONS[:4]:
        status, reply = after_restart.send(text)
        assert status == 200 and reply
    assert cluster.states()["rasa/rasa2"].sessions > before, "HAProxy sent nothing to the restarted Rasa 2"
    retried = [e for e in exchanges if e.attempts > 1]
    print(f"killed Rasa 2 with {answered_before} answers given; {len(retried)} messages sent again: {retried}")
