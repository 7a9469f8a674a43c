# The README's two commands are `make run` and `make test`; everything else is for developers.
PY := .venv/bin/python
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup index train run test test-fast lint bench clean

setup:  ## create or refresh the Python environment(s)
	@scripts/setup-env.sh

index: setup  ## build the search index if it is missing or stale
	@$(PY) -m knowledge build --if-stale

train: setup  ## build the index, generate training data, train Rasa if anything changed
	@scripts/train.sh

run: train  ## start the action server (5055) and Rasa (5005) on embedded defaults; Ctrl-C stops
	@scripts/run.sh

ask: index  ## the knowledge base's interactive search console (retrieval only)
	@$(PY) -m knowledge ask

test: train  ## the whole test suite (what CI runs): unit, conversation, end-to-end and browser
	@scripts/setup-env.sh browser
	@$(PY) -m knowledge lint
	@$(PY) -m pytest

test-fast: setup  ## skip tests marked slow
	@$(PY) -m pytest -m "not slow"

lint: setup  ## static checks
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy
	@$(PY) -m knowledge lint

bench: train  ## retrieval, turn and staff console benchmarks, report in docs/benchmarks.md
	@$(PY) scripts/bench_retrieval.py --cases ../shared/eval/dev.jsonl --report docs/benchmarks.md --finetune
	@$(PY) scripts/bench_turns.py --report docs/benchmarks.md
	@$(PY) scripts/bench_console.py --report docs/benchmarks.md

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
