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
say "Rasa model (trains only when the domain, data or config changed)"
start=$(date +%s)
$RASA train --config config.yml --domain bot/domain.yml --data bot/data var/rasa/data \
  --out var/rasa/models --fixed-model-name meso 2>&1 \
  | grep --line-buffered -E "Nothing changed|Your Rasa model is trained|error|Error|Epochs|Finished training" \
  | grep --line-buffered -v "Epochs:.*[0-9]%" || true
[ -f var/rasa/models/meso.tar.gz ] || { echo "[train] error: training failed, run: $RASA train --config config.yml --domain bot/domain.yml --data bot/data var/rasa/data" >&2; exit 1; }
say "model ready: var/rasa/models/meso.tar.gz ($(( $(date +%s) - start )) s)"
say "learned safety detector (builds only when the red-flag corpus or the examples changed)"
$PY -m actions.safety.learned build
say "route classifier (builds only when the patient-message corpus or the examples changed)"
$PY -m understanding build
