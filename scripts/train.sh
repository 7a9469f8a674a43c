#!/usr/bin/env bash
# Prepares everything the Rasa server needs and trains the model when its inputs changed
# (Rasa's own fingerprinting decides; an unchanged project trains nothing).
#   1. builds the knowledge index if it is missing or stale
#   2. generates the ask_question NLU examples from the knowledge base (var/rasa/data/)
#   3. renders endpoints.yml / credentials.yml from the settings (var/rasa/)
#   4. rasa train -> var/rasa/models/meso.tar.gz
#   5. the learned safety detector (var/safety/, rebuilt only when its training data changed)
#   6. the route classifier (var/understanding/, likewise)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1
say() { printf '\033[1m[train]\033[0m %s\n' "$*"; }

PY=.venv/bin/python
RASA=.venv-rasa/bin/rasa
say "knowledge index"
$PY -m knowledge build --if-stale
$PY -m bot.nlu_from_knowledge var/rasa/data/ask_question.yml
$PY -m bot.rasa_config >/dev/null
# The learned safety detector and the route classifier (one core each, neither reads the Rasa model) build
# while Rasa trains: on a 2-core machine the three take about the time of the longest instead of the sum.
mkdir -p var/logs
side() {  # log, command...: runs in the background, its exit code in <log>.rc
  local log=$1; shift
  ( rc=0; "$@" >"$log" 2>&1 || rc=$?; echo "$rc" >"$log.rc" ) &
}
rm -f var/logs/train-safety.log.rc var/logs/train-router.log.rc
say "learned safety detector and route classifier (each builds only when its corpus or examples changed; beside Rasa)"
side var/logs/train-safety.log $PY -m actions.safety.learned build
side var/logs/train-router.log $PY -m understanding build
say "Rasa model (trains only when the domain, data or config changed)"
start=$(date +%s)
set +e
$RASA train --config config.yml --domain bot/domain.yml --data bot/data var/rasa/data \
  --out var/rasa/models --fixed-model-name meso >var/logs/train-rasa.log 2>&1
rasa_rc=$?
set -e
grep -E "Nothing changed|Your Rasa model is trained|error|Error|Finished training" var/logs/train-rasa.log || true
wait
failed=0
if [ "$rasa_rc" != 0 ] || [ ! -f var/rasa/models/meso.tar.gz ]; then
  echo "[train] error: Rasa training failed (exit $rasa_rc; log: var/logs/train-rasa.log, last lines below); run: $RASA train --config config.yml --domain bot/domain.yml --data bot/data var/rasa/data" >&2
  tail -n 20 var/logs/train-rasa.log >&2
  failed=1
else
  say "model ready: var/rasa/models/meso.tar.gz ($(( $(date +%s) - start )) s)"
fi
for part in safety router; do
  log=var/logs/train-$part.log
  grep -v "^\s*$" "$log" | tail -n 5
  if [ "$(cat "$log.rc" 2>/dev/null)" != 0 ]; then
    echo "[train] error: the $part build failed (log: $log)" >&2
    failed=1
  fi
done
exit $failed
