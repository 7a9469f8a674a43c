"""The lock files (requirements/*.lock, made by `make lock`) are what setup-env.sh installs: each
must be in step with its input (requirements/*.txt), pin every package with its hashes, and keep
the CUDA build of torch out of the app environment."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from core.settings import PROJECT_ROOT

REQ = PROJECT_ROOT / "requirements"
SCRIPTS = PROJECT_ROOT / "scripts"


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]


def read_lock(path: Path) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    name, version = "", ""
    hashes: list[str] = []
    for line in [*path.read_text().splitlines(), ""]:
        start = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if start or not line.startswith(" "):
            if name:
                pins[canonicalize_name(name)] = Pin(version, tuple(hashes))
            name, version, hashes = (start.group(1), start.group(2), []) if start else ("", "", [])
        hashes += re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
    return pins


def read_input(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def not_in_lock(input_file: Path, lock_file: Path) -> list[str]:
    """The input's requirements that the lock does not satisfy (a lock older than its input)."""
    pins = read_lock(lock_file)
    return [
        str(req)
        for req in read_input(input_file)
        if canonicalize_name(req.name) not in pins
        or not req.specifier.contains(pins[canonicalize_name(req.name)].version, prereleases=True)
    ]


@pytest.mark.parametrize("env", ["app", "rasa"])
def test_lock_is_in_step_with_its_input(env: str) -> None:
    stale = not_in_lock(REQ / f"{env}.txt", REQ / f"{env}.lock")
    assert not stale, f"requirements/{env}.txt asks for {stale}, which {env}.lock does not pin: run `make lock`"


def test_a_lock_older_than_its_input_is_noticed(tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("# comment\nPyYAML>=6.0  # inline\npsycopg[binary]>=3.1\nhypothesis==6.170.15\n")
    (tmp_path / "out.lock").write_text(
        "pyyaml==6.0.3 \\\n    --hash=sha256:" + "a" * 64 + "\n    # via -r in.txt\n"
        "psycopg==3.2.0 \\\n    --hash=sha256:" + "b" * 64 + "\n"
        "hypothesis==6.170.17 \\\n    --hash=sha256:" + "c" * 64 + "\n"
    )
    assert not_in_lock(tmp_path / "in.txt", tmp_path / "out.lock") == ["hypothesis==6.170.15"]


@pytest.mark.parametrize("env", ["app", "rasa"])
def test_every_package_is_pinned_with_its_hashes(env: str) -> None:
    pins = read_lock(REQ / f"{env}.lock")
    assert len(pins) > 50, f"{env}.lock looks truncated: {len(pins)} packages"
    assert [name for name, pin in pins.items() if not pin.hashes] == []
    lines = [line for line in (REQ / f"{env}.lock").read_text().splitlines() if line and line[0].isalnum()]
    assert all("==" in line for line in lines), "a lock pins one version of each package"


def test_app_lock_leaves_torch_and_cuda_to_setup_env() -> None:
    pins = read_lock(REQ / "app.lock")
    cuda = [name for name in pins if name == "torch" or name.startswith(("nvidia-", "triton"))]
    assert cuda == [], "torch's CPU build is installed by setup-env.sh; the CUDA packages must not come in"
    assert {"sympy", "networkx", "filelock"} <= set(pins), "torch's own dependencies are locked"


def test_setup_and_lock_scripts_agree_on_the_torch_build() -> None:
    setup = re.search(r'^TORCH_PIN="([^"]+)"', (SCRIPTS / "setup-env.sh").read_text(), re.M)
    lock = re.search(r'^TORCH_CPU="([^"]+)"', (SCRIPTS / "lock.sh").read_text(), re.M)
    assert setup and lock and setup.group(1) == lock.group(1)
    assert setup.group(1).endswith("+cpu")
