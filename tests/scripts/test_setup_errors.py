"""The setup script explains what is missing instead of failing with a stack trace."""

from __future__ import annotations

import shutil
import subprocess

from core.settings import PROJECT_ROOT


def test_missing_python_310_is_a_clear_error(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "requirements").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts" / "setup-env.sh", tmp_path / "scripts" / "setup-env.sh")
    shutil.copy(PROJECT_ROOT / "requirements" / "rasa.lock", tmp_path / "requirements" / "rasa.lock")
    bin_dir = tmp_path / "bin"  # a PATH with the basic tools but no Python at all
    bin_dir.mkdir()
    for tool in ("cat", "sha256sum", "cut", "dirname", "printf", "grep"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    out = subprocess.run(
        ["/bin/bash", str(tmp_path / "scripts" / "setup-env.sh"), "rasa"],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "Python 3.10 was not found" in out.stderr
    assert "pyenv install 3.10" in out.stderr
