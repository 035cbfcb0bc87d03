# The project's vocabulary. `make dev` runs the API locally; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
PORT ?= 3000
MOTO_PORT ?= 5000
AWS_REGION ?= us-east-1
export SAM_CLI_TELEMETRY = 0

.DEFAULT_GOAL := help
.PHONY: help install assets dev reset sample events recordings query moto test unit integration openapi athena bench bench-record golden sam-env lint format typecheck template-check build deploy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# The virtual environment is brought up to date whenever the dependency lists change: `make dev`
# and the operator targets need the runtime, the local stack and the operator tools (LOCAL);
# `make test` and the checks add the test toolchain (TOOLS).
LOCAL := $(BIN)/.installed-local
TOOLS := $(BIN)/.installed
$(LOCAL): pyproject.toml layers/common/requirements.txt admin/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local]'
	@touch $@

$(TOOLS): $(LOCAL)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# aws-sam-cli pins its own boto3, so it lives in a virtual environment of its own.
$(SAM_VENV)/bin/.installed:
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli>=1.130'
	@touch $@

install: $(TOOLS) $(SAM_VENV)/bin/.installed ## Create both virtual environments

# posthog-js's lazy-loaded scripts for the pinned versions, from the npm registry (cached in .cache/).
ASSETS := layers/static/posthog-js/.fetched
$(ASSETS): layers/static/posthog-js-versions.txt admin/capture_admin/assets.py | $(LOCAL)
	$(BIN)/python -m capture_admin.assets fetch
	@touch $@

assets: $(ASSETS) ## Fetch posthog-js's lazy-loaded scripts (surveys, recorder...) for layers/static/

# `make dev KEY_CACHE_TTL_SECONDS=2` shortens the key cache, so a revocation shows in seconds;
# `make dev VERBOSE=1` prints the functions' own log and metric lines too; `make dev
# FIREHOSE=throttle` (or `fail`) makes Firehose refuse every call, and `S3=fail` the direct path's
# writes, to watch what the API does then.
dev: $(LOCAL) $(ASSETS) ## Run the API on http://127.0.0.1:3000 on embedded moto (PORT, MOTO_PORT, KEY_CACHE_TTL_SECONDS, VERBOSE=1, FIREHOSE=throttle|fail, S3=fail, FLOOD_RATE_LIMIT=N)
	PORT=$(PORT) MOTO_PORT=$(MOTO_PORT) \
	  $(if $(KEY_CACHE_TTL_SECONDS),KEY_CACHE_TTL_SECONDS=$(KEY_CACHE_TTL_SECONDS)) \
	  $(if $(FLOOD_RATE_LIMIT),FLOOD_RATE_LIMIT=$(FLOOD_RATE_LIMIT)) \
	  $(if $(FLOOD_RATE_WINDOW_SECONDS),FLOOD_RATE_WINDOW_SECONDS=$(FLOOD_RATE_WINDOW_SECONDS)) \
	  $(if $(FIREHOSE),CAPTURE_LOCAL_FIREHOSE=$(FIREHOSE)) $(if $(S3),CAPTURE_LOCAL_S3=$(S3)) \
	  $(if $(VERBOSE),CAPTURE_LOCAL_VERBOSE=$(VERBOSE)) $(BIN)/python -m capture_local dev

reset: ## Forget what `make dev` kept (projects, keys, settings, events, recordings): stop it first
	@if [ -n "$$(cat .capture-local/state.json 2>/dev/null)" ] && $(BIN)/python -c 'import sys; from capture_local import state; sys.exit(state.read() is None)' 2>/dev/null; then \
	  echo "make dev is running: stop it (Ctrl-C) before make reset"; exit 1; fi
	rm -rf .capture-local/data
	@echo "the local stack starts clean next time"

sample: $(LOCAL) ## Send an events/ sample to the running make dev over HTTP (make sample NAME=capture_json)
	@$(BIN)/python -m capture_local sample $(or $(NAME),$(error say which: make sample NAME=capture_json))

# Without MOTO_PORT given, `make events` finds the running `make dev` from its state file.
events: $(LOCAL) ## Print the events `make dev` has stored, one JSON object per line
	@$(if $(filter-out file,$(origin MOTO_PORT)),MOTO_PORT=$(MOTO_PORT)) $(BIN)/python -m capture_local events

recordings: $(LOCAL) ## Print the session recordings `make dev` has stored ($snapshot events), one JSON object per line
	@$(if $(filter-out file,$(origin MOTO_PORT)),MOTO_PORT=$(MOTO_PORT)) $(BIN)/python -m capture_local recordings

# SQL and NAMED reach the recipe unexpanded: a query's `$` ('$["$browser"]') is not make's.
export CAPTURE_QUERY_SQL = $(value SQL)
export CAPTURE_QUERY_NAMED = $(value NAMED)
query: $(LOCAL) ## SQL over the events `make dev` stored, as Athena's tables, in DuckDB (SQL='...', NAMED='...'|list; none: a prompt)
	@$(BIN)/python -m capture_admin.query $${CAPTURE_QUERY_SQL:+--sql "$$CAPTURE_QUERY_SQL"} \
	  $${CAPTURE_QUERY_NAMED:+--named "$$CAPTURE_QUERY_NAMED"}

moto: $(LOCAL) ## Run only the moto server with the stack's resources (for `sam local start-api`)
	MOTO_PORT=$(MOTO_PORT) $(BIN)/python -m capture_local moto

sam-env: $(LOCAL) ## Regenerate local/sam-env.json (the env-vars file for `sam local start-api`)
	$(BIN)/python -m capture_local sam-env > local/sam-env.json

lint: $(TOOLS) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TOOLS) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(TOOLS) ## mypy (strict, pydantic plugin)
	$(BIN)/mypy

template-check: $(TOOLS) $(SAM_VENV)/bin/.installed ## cfn-lint and sam validate --lint on template.yaml
	$(BIN)/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --region $(AWS_REGION)

unit: $(TOOLS) ## Unit tests and the golden corpus (no network; seconds)
	$(BIN)/pytest tests/unit tests/golden

integration: $(TOOLS) sdk-deps chromium $(ASSETS) ## Integration tests only (moto, local stack, SDKs)
	$(BIN)/pytest $(PYTEST_PARALLEL) tests/integration

# Two processes (pytest-xdist), a test file each at a time: browser and SDK tests spend most of
# their time waiting on the network, so the other process runs meanwhile.
PYTEST_PARALLEL := -n 2 --dist loadfile

test: lint typecheck template-check sdk-deps chromium $(ASSETS) ## Every check: lint, types, template, all tests
	$(BIN)/pytest $(PYTEST_PARALLEL) --durations=10

# The JavaScript SDKs the integration tests drive, reinstalled whenever their lock file changes.
.PHONY: sdk-deps chromium
tests/sdk/js/node_modules/.installed: tests/sdk/js/package-lock.json
	npm ci --prefix tests/sdk/js --ignore-scripts --no-audit --no-fund
	@touch $@

sdk-deps: tests/sdk/js/node_modules/.installed ## Install posthog-node, posthog-js and playwright-core (npm ci in tests/sdk/js)

chromium: ## Install Debian's chromium for the posthog-js tests, when /usr/bin/chromium is missing
	@if [ -x /usr/bin/chromium ]; then exit 0; \
	elif [ "$$(id -u)" -eq 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else echo "make chromium: /usr/bin/chromium is missing; as root run: apt-get update && apt-get install -y chromium" >&2; exit 1; fi

openapi: $(LOCAL) ## Regenerate openapi.json and schemas/stored-event.schema.json from the code
	$(BIN)/python -m capture_admin.openapi

athena: $(LOCAL) ## Rewrite template.yaml's Glue columns and dedup view from schemas/stored-event.schema.json
	$(BIN)/python -m capture_admin.athena

# The bench runs on the functions' runtime, Python 3.13, when the machine has it (as `make build`
# finds it), else on $(PYTHON); it says which.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/bin/.installed: pyproject.toml layers/common/requirements.txt admin/requirements.txt
	@if dir="$$(scripts/find-python3.13 2>/dev/null)"; then py="$$dir/python3.13"; \
	else py="$$(command -v $(PYTHON))"; echo "make bench: no python3.13 (Lambda's runtime) found; using $$($$py -V)" >&2; fi; \
	rm -rf $(BENCH_VENV) && "$$py" -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	@touch $@

bench: $(BENCH_VENV)/bin/.installed $(ASSETS) ## Benchmarks: throughput vs the floor, cold start, memory, packing, cost (prints; ~2 min)
	$(BENCH_VENV)/bin/python bench/run.py

bench-record: $(BENCH_VENV)/bin/.installed $(ASSETS) ## make bench, then write its table to bench/results.md
	$(BENCH_VENV)/bin/python bench/run.py --record

golden: $(TOOLS) ## Re-record tests/golden/cases from tests/golden/scenarios.py (then review the diff)
	PYTHONPATH=tests POWERTOOLS_METRICS_NAMESPACE=golden POWERTOOLS_LOG_LEVEL=ERROR $(BIN)/python -m golden.record

build: $(SAM_VENV)/bin/.installed $(ASSETS) ## sam build for python3.13 on arm64 (needs python3.13 on PATH; see scripts/find-python3.13)
	@py313="$$(scripts/find-python3.13)" && PATH="$$py313:$$PATH" $(SAM_VENV)/bin/sam build

deploy: build ## sam deploy (first time: make deploy DEPLOY_ARGS=--guided)
	$(SAM_VENV)/bin/sam deploy $(DEPLOY_ARGS)

clean: ## Remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
