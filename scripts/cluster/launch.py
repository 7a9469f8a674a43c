"""Starts the cluster (scripts/cluster/topology.py has the picture), prints one line saying where to chat, then
supervises it until Ctrl-C (or SIGTERM) stops everything.

Order: the checks (settings, HAProxy, environments, model, free ports, PostgreSQL, Redis), the generated files
(var/cluster/: Rasa's endpoints.yml and credentials.yml, haproxy.cfg, logs/), then HAProxy, the action servers,
the staff console and the first Rasa process; the other Rasa processes start once the first is ready (it has
created the tables in the shared database: Rasa processes creating the same tables at once can fail). Ready
when every server is up in HAProxy's health checks.

    .venv/bin/python -m scripts.cluster    # after scripts/setup-env.sh and scripts/train.sh (make run-cluster)
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import time
from types import FrameType

from pydantic import ValidationError

from core.settings import PROJECT_ROOT, Settings, get_settings
from scripts.cluster import haproxy, stores
from scripts.cluster.supervisor import Service, StartFailed, Supervisor, http_health
from scripts.cluster.topology import (
    LOOPBACK,
    ClusterConfigError,
    Topology,
    cluster_settings,
    common_env,
    plan,
    rasa_env,
)

PY = PROJECT_ROOT / ".venv" / "bin" / "python"
RASA_PY = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
START_TIMEOUT = 600.0
"""Seconds a server may take to start (loading the Rasa model takes minutes on a busy machine)."""
BALANCER_TIMEOUT = 30.0


def say(message: str) -> None:
    print(f"\033[1m[cluster]\033[0m {message}", flush=True)


def fail(message: str) -> int:
    print(f"\033[31m[cluster] error:\033[0m {message}", file=sys.stderr, flush=True)
    return 1


def port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _write_private(path: os.PathLike[str] | str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the cluster as Ctrl-C does


def services(settings: Settings, topology: Topology, binary: str, env: dict[str, str]) -> dict[str, list[Service]]:
    """Every process of the cluster, by kind."""
    from core.web_origins import for_rasa

    logs = topology.logs
    model = settings.rasa_model_dir / "meso.tar.gz"
    cors = for_rasa(settings.allowed_widget_origins)
    for_rasa_env = rasa_env(env, settings, topology)
    files = topology.rasa_dir
    rasa_cmd = [str(RASA_PY), "-m", "bot.rasa_run", "run", "--model", str(model), "--interface", LOOPBACK]
    rasa_cmd += ["--endpoints", str(files / "endpoints.yml"), "--credentials", str(files / "credentials.yml")]
    rasa_cmd += ["--cors", *cors]
    rasa = [
        Service(
            f"Rasa {i}",
            # bot/rasa_run.py starts `rasa run` with its HTTP API behind the JWT secret in MESO_RASA_TOKEN (not on
            # the command line); channels, tracker and lock store from the generated files
            [*rasa_cmd, "--port", str(port)],
            for_rasa_env,
            logs / f"rasa-{i}.log",
            http_health(f"http://{LOOPBACK}:{port}/webhooks/rest/"),
        )
        for i, port in enumerate(topology.rasa_ports, 1)
    ]
    actions = [
        Service(
            f"action server {j}",
            [str(PY), "-m", "actions.server", "--port", str(port), "--host", LOOPBACK],
            env,
            logs / f"actions-{j}.log",
            http_health(f"http://{LOOPBACK}:{port}/health"),
        )
        for j, port in enumerate(topology.action_ports, 1)
    ]
    console = Service(
        "staff console",
        [str(PY), "-m", "console", "serve"],
        env,
        logs / "console.log",
        http_health(f"http://{LOOPBACK}:{topology.console_port}/health"),
    )

    def balancer_answers() -> bool:
        try:
            haproxy.server_states(topology.haproxy_socket)
            return True
        except OSError:
            return False

    balancer = Service(
        "HAProxy", [binary, "-db", "-f", str(topology.haproxy_cfg)], env, logs / "haproxy.log", balancer_answers
    )
    return {"haproxy": [balancer], "actions": actions, "console": [console], "rasa": rasa}


def wait_balanced(topology: Topology, timeout: float) -> None:
    """Until HAProxy's health checks have every server up."""
    deadline = time.monotonic() + timeout
    while True:
        states = haproxy.server_states(topology.haproxy_socket)
        down = [f"{s.backend}/{s.server} ({s.status})" for s in states if not s.up]
        if not down:
            return
        if time.monotonic() > deadline:
            raise StartFailed(f"HAProxy's health checks still fail for {', '.join(down)} after {timeout:.0f} s")
        time.sleep(0.3)


def prepare(settings: Settings) -> tuple[Topology, str]:
    """The checks before anything starts; the topology and the haproxy program. SystemExit with the reason."""
    try:
        topology = plan(settings)
    except ClusterConfigError as exc:
        raise SystemExit(fail(str(exc))) from None
    binary = haproxy.find_binary()
    if binary is None:
        raise SystemExit(fail(f"HAProxy is not installed: {haproxy.INSTALL_HINT}"))
    if not PY.exists() or not RASA_PY.exists():
        raise SystemExit(fail("the environments are missing: run 'make run-cluster' (or scripts/setup-env.sh)"))
    model = settings.rasa_model_dir / "meso.tar.gz"
    if not model.exists():
        raise SystemExit(fail(f"no trained model at {model}: run 'make run-cluster' (or scripts/train.sh)"))
    for listener in topology.listeners():
        if not port_free(listener.host, listener.port):
            raise SystemExit(
                fail(
                    f"port {listener.port} is already in use, needed for {listener.what}: stop whatever runs "
                    "there (another 'make run' or 'make run-cluster'?) or change that setting"
                )
            )
    try:
        if stores.ensure_database(topology.tracker_db_url):
            say(f"created the database {stores.where(topology.tracker_db_url)}")
        stores.check_redis(topology.lock_store_url)
    except stores.StoreUnavailable as exc:
        raise SystemExit(fail(str(exc))) from None
    return topology, binary


def write_files(settings: Settings, topology: Topology, binary: str) -> None:
    """var/cluster/ (or MESO_CLUSTER_RUN_DIR): Rasa's generated files, haproxy.cfg (checked), logs/, owner only."""
    from bot import rasa_config
    from core.private_files import tighten

    for folder in (topology.run_dir, topology.logs):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    try:
        rasa_config.write(cluster_settings(settings, topology))
    except ValueError as exc:
        raise SystemExit(fail(f"cannot write the Rasa configuration: {exc}")) from None
    _write_private(topology.haproxy_cfg, haproxy.render(topology))
    problem = haproxy.check_config(binary, topology.haproxy_cfg)
    if problem:
        raise SystemExit(fail(f"HAProxy refuses {topology.haproxy_cfg}:\n{problem}"))
    topology.haproxy_socket.unlink(missing_ok=True)  # left by a HAProxy that was killed
    tighten(settings, [topology.run_dir])


def main() -> int:
    os.umask(0o077)  # logs, generated files with secrets, anything the servers write: owner only
    try:
        settings = get_settings()
    except ValidationError as exc:
        return fail(f"the settings are invalid:\n{exc}")
    topology, binary = prepare(settings)

    rasa_token = settings.rasa_token or ""
    if not rasa_token:
        # as scripts/run.sh: a random token for this run, so the console can still reply through Rasa's API
        rasa_token = secrets.token_urlsafe(32)
        say(
            "MESO_RASA_TOKEN is not set: using a random token for this run (set it in .env to call Rasa's API yourself)"
        )
    action_secret = settings.action_server_secret or secrets.token_urlsafe(32)
    run_settings = cluster_settings(settings, topology).model_copy(
        update={"rasa_token": rasa_token, "action_server_secret": action_secret}
    )
    write_files(run_settings, topology, binary)
    env = common_env(os.environ, topology, rasa_token, action_secret)
    kinds = services(settings, topology, binary, env)
    supervisor = Supervisor(PROJECT_ROOT, say)
    signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    start = time.monotonic()
    try:
        for service in [service for kind in kinds.values() for service in kind]:
            service.log.write_bytes(b"")
        first, others = kinds["rasa"][0], kinds["rasa"][1:]
        for service in [*kinds["haproxy"], *kinds["actions"], *kinds["console"], first]:
            state = supervisor.launch(service)
            say(f"starting {service.name} (pid {state.history[-1]}; log: {service.log})")
        supervisor.wait_ready(
            [s.name for s in [*kinds["haproxy"], *kinds["actions"], *kinds["console"], first]], START_TIMEOUT
        )
        for service in others:
            state = supervisor.launch(service)
            say(f"starting {service.name} (pid {state.history[-1]}; log: {service.log})")
        supervisor.wait_ready([s.name for s in others], START_TIMEOUT)
        wait_balanced(topology, BALANCER_TIMEOUT)
        url = f"http://localhost:{topology.public_port}" if topology.local_host == LOOPBACK else topology.local_url
        say(
            f"ready in {time.monotonic() - start:.1f} s: {len(topology.rasa_ports)} Rasa processes, "
            f"{len(topology.action_ports)} action servers and the staff console behind HAProxy on "
            f"{topology.public_host}:{topology.public_port}; tracker store {stores.where(topology.tracker_db_url)}, "
            f"lock store {stores.where(topology.lock_store_url)}. Chat: POST {url}/webhooks/rest/webhook "
            '{"sender": "me", "message": "Does it hurt?", "metadata": {"consent": true}} or open the web widget demo: '
            f"{url}/webhooks/webchat/demo. Staff console: {url}/ (first login: {PY.relative_to(PROJECT_ROOT)} -m "
            "console create-admin NAME). Ctrl-C stops all."
        )
        supervisor.supervise()
    except KeyboardInterrupt:
        code = 130
    except (StartFailed, OSError) as exc:
        code = fail(str(exc))
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the clean stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping")
        supervisor.stop_all()
        topology.haproxy_socket.unlink(missing_ok=True)
        say("stopped")
    return code
