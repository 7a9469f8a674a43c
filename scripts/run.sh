#!/usr/bin/env bash
# Starts the assistant: the action server (safety gate, retrieval, answers) and the Rasa server
# (NLU, dialogue, channels: REST, web widget, Telegram and WhatsApp when configured; SQLite
# tracker store by default), and the staff console (conversations, handoff queue).
# Ctrl-C stops all three. Ports and storage come from the settings (MESO_* variables, .env).
#   scripts/run.sh            # after scripts/setup-env.sh and scripts/train.sh (make run does all three)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
say() { printf '\033[1m[run]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[run] error:\033[0m %s\n' "$*" >&2; exit 1; }

PY=.venv/bin/python
RASA=.venv-rasa/bin/rasa
[ -x "$PY" ] && [ -x "$RASA" ] || die "the environments are missing: run 'make run' (or scripts/setup-env.sh)"

# Settings (one typed object; this prints them as shell assignments)
eval "$($PY - <<'PYEOF'
import shlex
from core.settings import get_settings
s = get_settings()
for k, v in dict(HOST=s.bind_host, RASA_PORT=s.rasa_port, ACTION_PORT=s.action_port, CONSOLE_PORT=s.console_port,
                 TOKEN=s.rasa_token or "", RUN_DIR=s.rasa_run_dir, LOGS=s.rasa_run_dir / "logs",
                 MODEL=s.rasa_model_dir / "meso.tar.gz",
                 CHANNELS=", ".join(["rest", "webchat"] + ["telegram"] * s.telegram_enabled
                                    + ["whatsapp"] * s.whatsapp_enabled)).items():
    print(f"{k}={shlex.quote(str(v))}")
PYEOF
)" || die "the settings are invalid (see above)"
[ -f "$MODEL" ] || die "no trained model at $MODEL: run 'make run' (or scripts/train.sh)"
if [ -z "$TOKEN" ]; then
  # No MESO_RASA_TOKEN (a first run on embedded defaults): a random one for this run only, so the staff
  # console can still reply to patients and hand conversations back through Rasa's token-protected API.
  TOKEN=$($PY -c "import secrets; print(secrets.token_urlsafe(32))")
  export MESO_RASA_TOKEN="$TOKEN"
  say "MESO_RASA_TOKEN is not set: using a random token for this run (set it in .env to call Rasa's API yourself)"
fi
$PY -m bot.rasa_config >/dev/null || die "cannot write the Rasa configuration (see above)"

port_free() { $PY -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('$HOST', int(sys.argv[1])))" "$1" 2>/dev/null; }
port_free "$ACTION_PORT" || die "port $ACTION_PORT (action server) is already in use: stop whatever runs there, or set MESO_ACTION_PORT (and MESO_ACTION_SERVER_URL) to another port"
port_free "$RASA_PORT" || die "port $RASA_PORT (Rasa) is already in use: stop whatever runs there (another 'make run'?), or set MESO_RASA_PORT to another port"
port_free "$CONSOLE_PORT" || die "port $CONSOLE_PORT (staff console) is already in use: stop whatever runs there, or set MESO_CONSOLE_PORT to another port"

mkdir -p "$LOGS"
pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break; sleep 0.2
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  say "stopped"
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

wait_http() {  # url, name, pid, log
  for _ in $(seq 1 600); do
    kill -0 "$3" 2>/dev/null || die "$2 exited during start-up; its log: $4 (last lines below)
$(tail -n 20 "$4")"
    $PY -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$2 did not become ready in 120 s; its log: $4"
}

start=$(date +%s.%N)
say "starting the action server on port $ACTION_PORT (log: $LOGS/actions.log)"
$PY -m actions.server --port "$ACTION_PORT" --host "$HOST" >"$LOGS/actions.log" 2>&1 &
pids+=($!)
say "starting Rasa on port $RASA_PORT (log: $LOGS/rasa.log)"
api=()
[ -n "$TOKEN" ] && api=(--enable-api --auth-token "$TOKEN")
$RASA run --model "$MODEL" --endpoints "$RUN_DIR/endpoints.yml" \
  --credentials "$RUN_DIR/credentials.yml" --port "$RASA_PORT" --interface "$HOST" --cors "*" \
  "${api[@]}" >"$LOGS/rasa.log" 2>&1 &
pids+=($!)
say "starting the staff console on port $CONSOLE_PORT (log: $LOGS/console.log)"
$PY -m console serve >"$LOGS/console.log" 2>&1 &
pids+=($!)

wait_http "http://127.0.0.1:$ACTION_PORT/health" "the action server" "${pids[0]}" "$LOGS/actions.log"
say "action server ready"
wait_http "http://127.0.0.1:$CONSOLE_PORT/health" "the staff console" "${pids[2]}" "$LOGS/console.log"
say "staff console ready"
wait_http "http://127.0.0.1:$RASA_PORT/webhooks/rest/" "Rasa" "${pids[1]}" "$LOGS/rasa.log"
ready=$($PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
say "ready in ${ready} s. Chat: POST http://localhost:$RASA_PORT/webhooks/rest/webhook {\"sender\": \"me\", \"message\": \"Does it hurt?\", \"metadata\": {\"consent\": true}} or open the web widget demo: http://localhost:$RASA_PORT/webhooks/webchat/demo. Channels: $CHANNELS. Staff console: http://localhost:$CONSOLE_PORT (first login: $PY -m console create-admin NAME). Ctrl-C stops."

# Stay in the foreground until Ctrl-C or until one of the servers stops.
while true; do
  for p in "${pids[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      die "a server stopped unexpectedly; logs in $LOGS"
    fi
  done
  sleep 1
done
