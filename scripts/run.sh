#!/usr/bin/env bash
# Starts the assistant: the action server (safety gate, retrieval, answers) and the Rasa server
# (NLU, dialogue, channels: REST, web widget, Telegram and WhatsApp when configured; SQLite
# tracker store by default), and the staff console (conversations, handoff queue).
# Ctrl-C stops all three. Ports and storage come from the settings (MESO_* variables, .env).
# Once all three are ready, a server that exits is restarted with back-off (1, 2, 4 ... 30 s; back to
# 1 s after it stayed up a minute) while the others keep serving.
#   scripts/run.sh            # after scripts/setup-env.sh and scripts/train.sh (make run does all three)
set -euo pipefail
# Everything the servers write (conversations, the console's database, alerts, logs, generated
# configuration with secrets) is readable by this account only.
umask 077
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
say() { printf '\033[1m[run]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[run] error:\033[0m %s\n' "$*" >&2; exit 1; }

PY=.venv/bin/python
RASA=.venv-rasa/bin/rasa
RASA_PY=.venv-rasa/bin/python
[ -x "$PY" ] && [ -x "$RASA" ] || die "the environments are missing: run 'make run' (or scripts/setup-env.sh)"

# Settings (one typed object; this prints them as shell assignments)
SETTINGS_SH="$($PY - <<'PYEOF'
import shlex
from core.alert_channels.config import from_settings
from core.settings import get_settings
s = get_settings()
delivery = from_settings(s)  # staff alert email/chat, passed to Rasa as JSON (it has no pydantic-settings)
for k, v in dict(HOST=s.bind_host, RASA_PORT=s.rasa_port, ACTION_PORT=s.action_port, CONSOLE_PORT=s.console_port,
                 ACTION_HOST=s.action_bind_host, ACTION_SECRET=s.action_server_secret or "",
                 ACTION_PROBE="127.0.0.1" if s.action_bind_host in ("0.0.0.0", "::", "localhost") else s.action_bind_host,
                 TOKEN=s.rasa_token or "", RUN_DIR=s.rasa_run_dir, LOGS=s.rasa_run_dir / "logs",
                 MODEL=s.rasa_model_dir / "meso.tar.gz", DIALOGUE_TIMEOUT=s.dialogue_timeout_seconds,
                 ALERTS_FILE=s.alerts_file, STAFF_ALERT_URL=s.staff_alert_url or "", CLINIC_FILE=s.clinic_file,
                 ALERT_DELIVERY=delivery.to_json() if delivery else "",
                 CHANNELS=", ".join(["rest", "webchat"] + ["telegram"] * s.telegram_enabled
                                    + ["whatsapp"] * s.whatsapp_enabled)).items():
    print(f"{k}={shlex.quote(str(v))}")
# Rasa's CORS (every route: its API and the widget's): the clinic's pages only (MESO_WIDGET_ORIGINS)
from core.web_origins import for_rasa
print("CORS=(" + " ".join(shlex.quote(o) for o in for_rasa(s.allowed_widget_origins)) + ")")
PYEOF
)" || die "the settings are invalid (see above)"
eval "$SETTINGS_SH"
[ -f "$MODEL" ] || die "no trained model at $MODEL: run 'make run' (or scripts/train.sh)"
if [ -z "$TOKEN" ]; then
  # No MESO_RASA_TOKEN (a first run on embedded defaults): a random one for this run only, so the staff
  # console can still reply to patients and hand conversations back through Rasa's token-protected API.
  TOKEN=$($PY -c "import secrets; print(secrets.token_urlsafe(32))")
  export MESO_RASA_TOKEN="$TOKEN"
  say "MESO_RASA_TOKEN is not set: using a random token for this run (set it in .env to call Rasa's API yourself)"
fi
if [ -z "$ACTION_SECRET" ]; then
  # The action server answers only calls carrying this secret, which Rasa sends (endpoints.yml): without
  # MESO_ACTION_SERVER_SECRET, a random one for this run.
  ACTION_SECRET=$($PY -c "import secrets; print(secrets.token_urlsafe(32))")
  export MESO_ACTION_SERVER_SECRET="$ACTION_SECRET"
fi
$PY -m core.private_files || die "cannot make the data files owner-only (see above)"
$PY -m bot.rasa_config >/dev/null || die "cannot write the Rasa configuration (see above)"

port_free() { $PY -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[2], int(sys.argv[1])))" "$1" "${2:-$HOST}" 2>/dev/null; }
port_free "$ACTION_PORT" "$ACTION_HOST" || die "port $ACTION_PORT (action server) is already in use: stop whatever runs there, or set MESO_ACTION_PORT to another port"
port_free "$RASA_PORT" || die "port $RASA_PORT (Rasa) is already in use: stop whatever runs there (another 'make run'?), or set MESO_RASA_PORT to another port"
port_free "$CONSOLE_PORT" || die "port $CONSOLE_PORT (staff console) is already in use: stop whatever runs there, or set MESO_CONSOLE_PORT to another port"

mkdir -p -m 700 "$LOGS"
pids=()
stop() {
  trap - INT TERM EXIT
  local all=("${pids[@]}" $(jobs -p))  # jobs: also a server being restarted at this very moment
  if [ ${#all[@]} -gt 0 ]; then
    say "stopping"
    kill -TERM "${all[@]}" 2>/dev/null || true
    for _ in $(seq 1 50); do
      alive=0; for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
      [ $alive = 0 ] && break; sleep 0.2
    done
    kill -KILL "${all[@]}" 2>/dev/null || true
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

# The three servers, by index: name, log, health URL; launch N starts server N (its log is appended to).
names=("action server" "Rasa" "staff console")
logs=("$LOGS/actions.log" "$LOGS/rasa.log" "$LOGS/console.log")
urls=("http://$ACTION_PROBE:$ACTION_PORT/health" "http://127.0.0.1:$RASA_PORT/webhooks/rest/" "http://127.0.0.1:$CONSOLE_PORT/health")
started=(0 0 0)
launch() {
  case $1 in
    # The action server's secret reaches it in the environment (MESO_ACTION_SERVER_SECRET), never on
    # the command line, which `ps` shows to everyone on the host.
    0) $PY -m actions.server --port "$ACTION_PORT" --host "$ACTION_HOST" >>"${logs[0]}" 2>&1 & ;;
    # Rasa cannot read the typed settings (no pydantic-settings in its environment): what its channels
    # and tracker store need is passed on here (bot/runtime.py). bot/rasa_run.py starts `rasa run` with its
    # HTTP API behind a JWT secret (MESO_RASA_TOKEN) read from the environment, so `ps` does not show it.
    1) MESO_DIALOGUE_TIMEOUT_SECONDS="$DIALOGUE_TIMEOUT" MESO_ALERTS_FILE="$ALERTS_FILE" \
         MESO_STAFF_ALERT_URL="$STAFF_ALERT_URL" MESO_CLINIC_FILE="$CLINIC_FILE" MESO_RASA_TOKEN="$TOKEN" \
         MESO_ALERT_DELIVERY="$ALERT_DELIVERY" \
         $RASA_PY -m bot.rasa_run run --model "$MODEL" --endpoints "$RUN_DIR/endpoints.yml" \
         --credentials "$RUN_DIR/credentials.yml" --port "$RASA_PORT" --interface "$HOST" --cors ${CORS[@]+"${CORS[@]}"} \
         >>"${logs[1]}" 2>&1 & ;;
    2) $PY -m console serve >>"${logs[2]}" 2>&1 & ;;
  esac
  pids[$1]=$!
  started[$1]=$SECONDS
}

start=$(date +%s.%N)
: >"${logs[0]}"; : >"${logs[1]}"; : >"${logs[2]}"
say "starting the action server on port $ACTION_PORT (log: ${logs[0]})"
launch 0
say "starting Rasa on port $RASA_PORT (log: ${logs[1]})"
launch 1
say "starting the staff console on port $CONSOLE_PORT (log: ${logs[2]})"
launch 2

wait_http "${urls[0]}" "the action server" "${pids[0]}" "${logs[0]}"
say "action server ready"
wait_http "${urls[2]}" "the staff console" "${pids[2]}" "${logs[2]}"
say "staff console ready"
wait_http "${urls[1]}" "Rasa" "${pids[1]}" "${logs[1]}"
ready=$($PY -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
say "ready in ${ready} s. Chat: POST http://localhost:$RASA_PORT/webhooks/rest/webhook {\"sender\": \"me\", \"message\": \"Does it hurt?\", \"metadata\": {\"consent\": true}} or open the web widget demo: http://localhost:$RASA_PORT/webhooks/webchat/demo. Channels: $CHANNELS. Staff console: http://localhost:$CONSOLE_PORT (first login: $PY -m console create-admin NAME). Ctrl-C stops."

# Stay in the foreground until Ctrl-C. A server that exits is restarted after a back-off delay that
# doubles on each exit (at most MAX_BACKOFF s) and goes back to 1 s once it has stayed up UP_RESET s.
MAX_BACKOFF=30
UP_RESET=60
delay=(1 1 1)
due=(0 0 0)      # when a stopped server is started again (0: it is running)
waiting=(0 0 0)  # 1: restarted, not answering on its health URL yet (checked every 2 s)
checked=(0 0 0)
while true; do
  for i in 0 1 2; do
    if [ "${due[$i]}" = 0 ]; then
      if kill -0 "${pids[$i]}" 2>/dev/null; then
        if [ "${waiting[$i]}" = 1 ] && [ $((SECONDS - checked[i])) -ge 2 ]; then
          checked[$i]=$SECONDS
          if $PY -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "${urls[$i]}" 2>/dev/null; then
            waiting[$i]=0
            say "${names[$i]} ready again"
          fi
        fi
        continue
      fi
      code=0
      wait "${pids[$i]}" 2>/dev/null || code=$?
      [ $((SECONDS - started[i])) -ge $UP_RESET ] && delay[$i]=1
      how=""
      [ "$code" -gt 128 ] && how=" (killed by signal $((code - 128)))"
      say "${names[$i]} exited with code $code; restarting in ${delay[$i]} s${how}. Log: ${logs[$i]}"
      due[$i]=$((SECONDS + delay[i]))
      delay[$i]=$((delay[i] * 2 > MAX_BACKOFF ? MAX_BACKOFF : delay[i] * 2))
      waiting[$i]=0
    elif [ "$SECONDS" -ge "${due[$i]}" ]; then
      due[$i]=0
      launch "$i"
      waiting[$i]=1
      say "restarting the ${names[$i]} (pid ${pids[$i]})"
    fi
  done
  sleep 0.5
done
