"""`make run-cluster` (scripts/cluster/): the topology the settings describe, the HAProxy configuration made
from it, the shared stores' messages, and the supervisor's restarts. The cluster itself, with a process
killed under load, is tests/e2e/test_cluster.py."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.settings import CLUSTER_LOCK_STORE_URL, CLUSTER_TRACKER_DB_URL, Settings
from scripts.cluster import haproxy, stores
from scripts.cluster.supervisor import Service, Supervisor
from scripts.cluster.topology import ClusterConfigError, cluster_settings, common_env, plan


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, cluster_run_dir=tmp_path, **values)


def test_defaults_put_every_process_on_loopback_behind_one_public_port(tmp_path: Path) -> None:
    topology = plan(settings(tmp_path))
    assert topology.rasa_ports == (5005, 5006)
    assert topology.action_lb_port == 5055 and topology.action_ports == (5056, 5057)
    assert (topology.public_host, topology.public_port, topology.console_port) == ("127.0.0.1", 8080, 8000)
    assert topology.tracker_db_url == CLUSTER_TRACKER_DB_URL and topology.lock_store_url == CLUSTER_LOCK_STORE_URL
    assert topology.trusted_proxies == 1
    assert all(x.host == "127.0.0.1" for x in topology.listeners() if "public" not in x.what)


def test_processes_and_servers_follow_the_settings(tmp_path: Path) -> None:
    topology = plan(
        settings(
            tmp_path,
            rasa_processes=3,
            action_servers=1,
            rasa_port=7000,
            action_port=7100,
            tracker_db_url="postgresql://meso:s3cret@db.internal:5432/meso",
            lock_store_url="redis://cache.internal:6379/4",
            trusted_proxies=2,
        )
    )
    assert topology.rasa_ports == (7000, 7001, 7002) and topology.action_ports == (7101,)
    assert topology.tracker_db_url.endswith("@db.internal:5432/meso")
    assert topology.trusted_proxies == 2
    env = common_env({}, topology, "token", "secret")
    assert env["MESO_LOCK_STORE_URL"] == "redis://cache.internal:6379/4"
    assert env["MESO_ACTION_SERVER_URL"] == "http://127.0.0.1:7100/webhook"
    assert env["MESO_BIND_HOST"] == "127.0.0.1"  # the console too is behind HAProxy
    generated = cluster_settings(settings(tmp_path), topology)
    assert generated.action_server_url == "http://127.0.0.1:7100/webhook"


def test_the_lock_outlives_the_dialogue_timeout_by_a_little(tmp_path: Path) -> None:
    """A killed process's hold on a conversation expires soon after any live turn would have been cancelled."""
    assert plan(settings(tmp_path)).lock_lifetime == 10
    assert plan(settings(tmp_path, dialogue_timeout_seconds=4.5)).lock_lifetime == 7


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"tracker_db_url": "sqlite:///var/rasa/tracker.db"}, "MESO_TRACKER_DB_URL"),
        (
            {"tracker_db_url": "postgresql://p@h/db", "channel_db_url": "sqlite:///var/deliveries.db"},
            "MESO_CHANNEL_DB_URL",
        ),
        ({"lock_store_url": "memcached://h:11211"}, "MESO_LOCK_STORE_URL"),
        ({"rasa_port": 7999, "console_port": 8000}, "staff console"),
        ({"rasa_port": 65535}, "65535"),
    ],
)
def test_settings_that_cannot_make_a_cluster_are_refused_by_name(tmp_path: Path, values: dict, names: str) -> None:
    with pytest.raises(ClusterConfigError, match=names):
        plan(settings(tmp_path, **values))


def test_haproxy_keeps_actions_private_and_checks_every_server(tmp_path: Path) -> None:
    topology = plan(settings(tmp_path, bind_host="0.0.0.0", public_port=9090))
    config = haproxy.render(topology)
    assert "bind 0.0.0.0:9090" in config
    assert "bind 127.0.0.1:5055" in config  # Rasa's action endpoint: loopback only
    servers = [line.split() for line in config.splitlines() if line.strip().startswith("server ")]
    assert [s[1] for s in servers] == ["rasa1", "rasa2", "console", "actions1", "actions2"]
    assert all(s[2].startswith("127.0.0.1:") and s[-1] == "check" for s in servers)
    assert config.count("option httpchk") == 3
    # a client's own X-Forwarded-For is replaced: rate limits count the real address
    assert "http-request set-header X-Forwarded-For %[src]" in config


@pytest.mark.slow
def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    binary = haproxy.find_binary()
    if binary is None:
        pytest.fail(f"HAProxy is missing: {haproxy.INSTALL_HINT}")
    for trusted in (1, 2):
        topology = plan(settings(tmp_path, trusted_proxies=trusted))
        topology.haproxy_cfg.write_text(haproxy.render(topology))
        assert haproxy.check_config(binary, topology.haproxy_cfg) is None


def test_server_states_are_read_from_the_stats_socket(tmp_path: Path) -> None:
    path = tmp_path / "haproxy.sock"
    header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status"
    rows = [
        "public,FRONTEND,,,1,2,4000,10,0,0,0,0,0,,,,,OPEN",
        "rasa,rasa1,0,0,1,2,,7,0,0,,0,,0,0,0,0,UP",
        "rasa,rasa2,0,0,0,2,,5,0,0,,0,,3,0,1,0,DOWN",
        "rasa,BACKEND,0,0,1,2,400,12,0,0,0,0,,3,0,1,0,UP",
    ]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            assert conn.recv(100) == b"show stat\n"
            conn.sendall(("\n".join([header, *rows]) + "\n\n").encode())

    thread = threading.Thread(target=answer)
    thread.start()
    states = haproxy.server_states(path)
    thread.join()
    server.close()
    assert [(s.server, s.status, s.sessions, s.current, s.up) for s in states] == [
        ("rasa1", "UP", 7, 1, True),
        ("rasa2", "DOWN", 5, 0, False),
    ]


def test_store_messages_never_show_a_password() -> None:
    assert stores.where("postgresql://meso:s3cret@db:5432/meso") == "postgresql://meso:***@db:5432/meso"
    assert stores.where("redis://127.0.0.1:6379/1") == "redis://127.0.0.1:6379/1"
    with pytest.raises(stores.StoreUnavailable, match="not reachable") as refused:
        stores.check_redis("redis://:hunter2@127.0.0.1:1/1")
    assert "hunter2" not in str(refused.value)


def test_a_database_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(stores.StoreUnavailable, match="must name a database"):
        stores.ensure_database('postgresql://postgres@127.0.0.1:1/x"; drop table events; --')


@pytest.mark.slow
def test_a_process_that_exits_is_restarted_with_growing_delays(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(tmp_path, said.append)
    exits = Service("quitter", [sys.executable, "-c", "raise SystemExit(3)"], {}, tmp_path / "q.log", lambda: True)
    supervisor.launch(exits)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and sum("restarting in" in s for s in said) < 2:
        supervisor.tick()
        time.sleep(0.05)
    supervisor.stop_all()
    delays = [s for s in said if "restarting in" in s]
    assert delays[:2] == [
        f"quitter exited with code 3; restarting in 1 s. Log: {tmp_path / 'q.log'}",
        f"quitter exited with code 3; restarting in 2 s. Log: {tmp_path / 'q.log'}",
    ]
    assert any(s.startswith("restarting quitter (pid ") for s in said)
    assert len(supervisor.running["quitter"].history) == 2
