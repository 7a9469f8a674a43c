"""What the cluster runs and where, from the typed settings (core/settings.py): every process's port, the
shared stores, the generated files and the environment each process gets. Nothing here starts anything.

Only HAProxy listens on the public port (on MESO_BIND_HOST); every other process listens on 127.0.0.1:

    Rasa i (1..N)            127.0.0.1:MESO_RASA_PORT + i - 1
    action server j (1..M)   127.0.0.1:MESO_ACTION_PORT + j
    HAProxy, for Rasa only   127.0.0.1:MESO_ACTION_PORT        (Rasa's action endpoint: private)
    staff console            127.0.0.1:MESO_CONSOLE_PORT
    HAProxy, public          MESO_BIND_HOST:MESO_PUBLIC_PORT

The N Rasa processes share one tracker store, which must be PostgreSQL (MESO_TRACKER_DB_URL; unset, the
local database of CLUSTER_TRACKER_DB_URL), and one Redis lock store (MESO_LOCK_STORE_URL; unset,
CLUSTER_LOCK_STORE_URL).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from core.settings import CLUSTER_LOCK_STORE_URL, CLUSTER_TRACKER_DB_URL, PROJECT_ROOT, Settings

LOOPBACK = "127.0.0.1"
LOCK_MARGIN_SECONDS = 2


class ClusterConfigError(ValueError):
    """The settings describe no cluster that can run; the message names the variable to change."""


@dataclass(frozen=True)
class Listener:
    what: str
    host: str
    port: int


@dataclass(frozen=True)
class Topology:
    public_host: str
    public_port: int
    rasa_ports: tuple[int, ...]
    action_lb_port: int
    action_ports: tuple[int, ...]
    console_port: int
    tracker_db_url: str
    lock_store_url: str
    channel_db_url: str | None
    """The channels' delivery log and widget sessions when not in the tracker database (None: there)."""
    trusted_proxies: int
    """Proxies in front of Rasa that set X-Forwarded-For: HAProxy, and any the operator put before it."""
    lock_lifetime: int
    run_dir: Path

    @property
    def rasa_dir(self) -> Path:
        """The Rasa processes' endpoints.yml and credentials.yml (the same for all)."""
        return self.run_dir / "rasa"

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def haproxy_cfg(self) -> Path:
        return self.run_dir / "haproxy.cfg"

    @property
    def haproxy_socket(self) -> Path:
        """HAProxy's stats socket (owner only): the servers' states, read by the launcher and the tests."""
        return self.run_dir / "haproxy.sock"

    @property
    def local_host(self) -> str:
        """How processes on this machine reach the public port."""
        return LOOPBACK if self.public_host in ("0.0.0.0", "::", "localhost", "") else self.public_host

    @property
    def local_url(self) -> str:
        return f"http://{self.local_host}:{self.public_port}"

    @property
    def action_endpoint(self) -> str:
        """Rasa's action endpoint: HAProxy's private frontend in front of the action servers."""
        return f"http://{LOOPBACK}:{self.action_lb_port}/webhook"

    def listeners(self) -> list[Listener]:
        """Every address the cluster listens on, for the free-port check and the clean-stop check."""
        return [
            Listener("the load balancer's public port (MESO_PUBLIC_PORT)", self.public_host, self.public_port),
            Listener("the load balancer's action endpoint (MESO_ACTION_PORT)", LOOPBACK, self.action_lb_port),
            *(Listener(f"Rasa {i} (MESO_RASA_PORT + {i - 1})", LOOPBACK, p) for i, p in enumerate(self.rasa_ports, 1)),
            *(
                Listener(f"action server {j} (MESO_ACTION_PORT + {j})", LOOPBACK, p)
                for j, p in enumerate(self.action_ports, 1)
            ),
            Listener("the staff console (MESO_CONSOLE_PORT)", LOOPBACK, self.console_port),
        ]


def lock_lifetime(dialogue_timeout: float) -> int:
    """Seconds a Rasa process's hold on a conversation lasts in Redis (Rasa's TICKET_LOCK_LIFETIME, 60 by default).

    A process killed in the middle of a turn never releases its hold, so that conversation waits until the hold
    expires. Every channel cancels a turn after MESO_DIALOGUE_TIMEOUT_SECONDS and then stores its own reply, waiting
    up to 3 s for the lock (bot/channels/common.py, STORE_WAIT). A hold of the timeout plus 2 s outlasts every
    turn that stops when cancelled, and expires before the channel gives up storing the reply to a message that
    arrived after the kill: that message is answered and stored (by its own dialogue or, if that ran out of
    time waiting, with the channel's reply), never answered and left out of the conversation."""
    return math.ceil(dialogue_timeout) + LOCK_MARGIN_SECONDS


def plan(settings: Settings) -> Topology:
    """The topology the settings describe, or a ClusterConfigError naming what to change."""
    explicit = settings.model_fields_set
    tracker = settings.tracker_db_url if "tracker_db_url" in explicit else CLUSTER_TRACKER_DB_URL
    if urlparse(tracker).scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ClusterConfigError(
            f"MESO_TRACKER_DB_URL is {_scheme(tracker)}: the cluster's Rasa processes share one tracker store, "
            f"which must be PostgreSQL (postgresql://user:password@host:5432/database; unset, {CLUSTER_TRACKER_DB_URL})"
        )
    if settings.channel_db_url and settings.channel_db_url.startswith("sqlite"):
        raise ClusterConfigError(
            "MESO_CHANNEL_DB_URL points at SQLite: the cluster's Rasa processes share the channels' delivery log "
            "and widget sessions; leave it unset (the tracker database) or point it at PostgreSQL"
        )
    locks = settings.lock_store_url or CLUSTER_LOCK_STORE_URL
    if urlparse(locks).scheme != "redis":
        raise ClusterConfigError(f"MESO_LOCK_STORE_URL must be redis://host:6379/N (it is {_scheme(locks)})")
    topology = Topology(
        public_host=settings.bind_host,
        public_port=settings.public_port,
        rasa_ports=tuple(settings.rasa_port + i for i in range(settings.rasa_processes)),
        action_lb_port=settings.action_port,
        action_ports=tuple(settings.action_port + j for j in range(1, settings.action_servers + 1)),
        console_port=settings.console_port,
        tracker_db_url=tracker,
        lock_store_url=locks,
        channel_db_url=settings.channel_db_url or None,
        trusted_proxies=max(1, settings.trusted_proxies),
        lock_lifetime=lock_lifetime(settings.dialogue_timeout_seconds),
        run_dir=settings.cluster_run_dir,
    )
    ports = [listener.port for listener in topology.listeners()]
    if max(ports) > 65535:
        raise ClusterConfigError(f"port {max(ports)} is beyond 65535: lower MESO_RASA_PORT or MESO_ACTION_PORT")
    clashes = sorted({p for p in ports if ports.count(p) > 1})
    if clashes:
        users = [f"{x.what}: {x.port}" for x in topology.listeners() if x.port in clashes]
        raise ClusterConfigError("two processes would listen on the same port; " + "; ".join(users))
    return topology


def _scheme(url: str) -> str:
    """A URL's kind for an error message, never its password."""
    return (urlparse(url).scheme or "not a URL") + "://..."


def cluster_settings(settings: Settings, topology: Topology) -> Settings:
    """The settings as the cluster's processes see them (what Rasa's generated files are written from)."""
    return settings.model_copy(
        update={
            "tracker_db_url": topology.tracker_db_url,
            "lock_store_url": topology.lock_store_url,
            "action_server_url": topology.action_endpoint,
            "trusted_proxies": topology.trusted_proxies,
            "rasa_run_dir": topology.rasa_dir,
            "rasa_url": topology.local_url,
        }
    )


def common_env(base: Mapping[str, str], topology: Topology, rasa_token: str, action_secret: str) -> dict[str, str]:
    """The environment of every process: the same stores, secrets and addresses for all."""
    env = dict(base)
    env.update(
        PYTHONPATH=str(PROJECT_ROOT) + (":" + base["PYTHONPATH"] if base.get("PYTHONPATH") else ""),
        PYTHONDONTWRITEBYTECODE="1",
        MESO_TRACKER_DB_URL=topology.tracker_db_url,
        MESO_LOCK_STORE_URL=topology.lock_store_url,
        MESO_TRUSTED_PROXIES=str(topology.trusted_proxies),
        # the console reaches Rasa (staff replies, hand-back) through the load balancer, so a dead Rasa is routed around
        MESO_RASA_URL=topology.local_url,
        MESO_ACTION_SERVER_URL=topology.action_endpoint,
        # behind HAProxy every server listens on loopback only (the console takes its interface from this)
        MESO_BIND_HOST=LOOPBACK,
        MESO_ACTION_BIND_HOST=LOOPBACK,
        MESO_RASA_TOKEN=rasa_token,
        MESO_ACTION_SERVER_SECRET=action_secret,
    )
    if topology.channel_db_url:
        env["MESO_CHANNEL_DB_URL"] = topology.channel_db_url
    return env


def rasa_env(common: Mapping[str, str], settings: Settings, topology: Topology) -> dict[str, str]:
    """A Rasa process's environment: what scripts/run.sh passes on (Rasa's Python has no pydantic-settings, so
    bot/runtime.py reads these), and the lifetime of its holds on conversations in Redis."""
    from core.alert_channels.config import from_settings

    delivery = from_settings(settings)
    env = dict(common)
    env.update(
        MESO_DIALOGUE_TIMEOUT_SECONDS=str(settings.dialogue_timeout_seconds),
        MESO_ALERTS_FILE=str(settings.alerts_file),
        MESO_STAFF_ALERT_URL=settings.staff_alert_url or "",
        MESO_CLINIC_FILE=str(settings.clinic_file),
        MESO_ALERT_DELIVERY=delivery.to_json() if delivery else "",
        TICKET_LOCK_LIFETIME=str(topology.lock_lifetime),
    )
    return env
