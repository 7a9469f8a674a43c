# The README's two commands are `make run` and `make test`; everything else is for developers.
# `make` alone (or `make help`) lists the targets.
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1
.DEFAULT_GOAL := help

.PHONY: help setup lock index train run run-cluster ask test test-fast lint safety-report bench bench-cluster bench-faults bench-widgets bench-turn-cost clean

help:  ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' \
	  | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## create or refresh the Python environments from requirements/*.lock
	@scripts/setup-env.sh

lock:  ## requirements/*.txt -> *.lock, keeping pins (UPGRADE=name or UPGRADE=all moves them); then `make setup`
	@scripts/lock.sh $(if $(filter all,$(UPGRADE)),--upgrade,$(foreach p,$(UPGRADE),--upgrade-package $(p)))

index: setup  ## build the search index if it is missing or stale
	@$(PY) -m knowledge build --if-stale

train: setup  ## build the index, generate training data, train Rasa if anything changed
	@scripts/train.sh

run: train  ## start the action server (5055), Rasa (5005) and the staff console (8000); Ctrl-C stops all three
	@scripts/run.sh

run-cluster: train  ## the production topology behind HAProxy on one port (8080): RASA_PROCESSES=2 ACTION_SERVERS=2, PostgreSQL, Redis (docs/deploy.md)
	@scripts/setup-env.sh haproxy
	@$(if $(RASA_PROCESSES),MESO_RASA_PROCESSES=$(RASA_PROCESSES)) $(if $(ACTION_SERVERS),MESO_ACTION_SERVERS=$(ACTION_SERVERS)) \
	  $(PY) -m scripts.cluster

ask: index  ## the knowledge base's interactive search console (retrieval only)
	@$(PY) -m knowledge ask

test: train lint  ## what CI runs: the static checks (make lint), then every test: unit, conversation, end-to-end, browser
	@scripts/setup-env.sh browser
	@scripts/setup-env.sh haproxy
	@$(PY) -m pytest

test-fast: setup  ## the tests not marked slow, e2e or postgres (no trained model, index or database needed)
	@$(PY) -m pytest -m "not slow and not e2e and not postgres"

lint: setup  ## ruff check, ruff format --check, mypy over every package, knowledge and safety catalogue lints
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy
	@$(PY) -m knowledge lint
	@$(PY) -m actions.safety lint
	@$(PY) -m understanding lint

safety-report: train  ## the red-flag corpus through the safety gate, figures in docs/safety/safety-case.md
	@$(PY) scripts/safety_report.py --report docs/safety/safety-case.md

bench: train  ## retrieval, turn, turn cost (turn 1 against turn 50), staff console and understanding (held-out corpus) benchmarks, report in docs/benchmarks.md
	@$(PY) scripts/bench_retrieval.py --cases ../shared/eval/dev.jsonl --report docs/benchmarks.md --finetune
	@$(PY) scripts/bench_turns.py --report docs/benchmarks.md
	@$(PY) scripts/bench_turn_cost.py --report docs/benchmarks.md
	@$(PY) scripts/bench_console.py --report docs/benchmarks.md
	@$(PY) scripts/bench_understanding.py --report docs/benchmarks.md

bench-cluster: train  ## Locust load on the cluster with 1, 2 and 4 Rasa processes and a bare Rasa bot: capacity at p95 < 1 s (about an hour), in docs/benchmarks.md
	@scripts/setup-env.sh load
	@scripts/setup-env.sh haproxy
	@$(PY) scripts/bench_cluster.py --report docs/benchmarks.md

bench-faults: train  ## the cluster under load while a Rasa process, an action server, PostgreSQL and Redis fail in turn: messages sent, replied, stored, lost, duplicated (about 10 min), in docs/benchmarks.md
	@scripts/setup-env.sh haproxy
	@$(PY) scripts/bench_faults.py --report docs/benchmarks.md

bench-turn-cost: train  ## where Rasa's CPU goes in a turn, turn 1 against turn 50 (about 3 min; also part of make bench), in docs/benchmarks.md
	@$(PY) scripts/bench_turn_cost.py --report docs/benchmarks.md

bench-widgets: train  ## 1,000 open widgets polling for staff replies on the cluster while patients write: polls/s, latency, CPU per poll, staff reply seen after (about 8 min), in docs/benchmarks.md
	@scripts/setup-env.sh haproxy
	@$(PY) scripts/bench_widgets.py --report docs/benchmarks.md

clean:  ## remove generated files (var/, caches); the environments stay
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
