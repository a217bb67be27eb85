# blog-api developer interface. Every target works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_SERVER ?= postgresql://postgres@127.0.0.1:5432
# A database name of this run's own, so that checkouts sharing a server never collide; the
# suite creates it and drops it when it ends.
RUN_ID := $(shell date +%Y%m%d%H%M%S)_$(shell od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
TEST_PG_URL ?= $(PG_SERVER)/blog_api_test_$(RUN_ID)

.DEFAULT_GOAL := help
.PHONY: help fuzz install run migrate revision downgrade test test-pg lint fmt superuser bench soak client realworld clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## create .venv with the pinned dependencies

run: install migrate ## migrate, then serve the API on HOST:PORT (default 127.0.0.1:8000)
	$(BIN)/python -m blog_api serve

migrate: install ## apply the migrations to DATABASE_URL
	$(BIN)/alembic upgrade head

revision: install ## new migration from the models: make revision m="add things"
	@test -n "$(m)" || { echo 'usage: make revision m="what it does"'; exit 2; }
	$(BIN)/alembic revision --autogenerate -m "$(m)"

downgrade: install ## undo the last migration
	$(BIN)/alembic downgrade -1

test: install ## run the test suite on SQLite
	$(BIN)/pytest $(PYTEST_ARGS)

test-pg: install ## run the test suite on PostgreSQL (a database of this run on 127.0.0.1:5432)
	TEST_DATABASE_URL=$(TEST_PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install ## ruff, mypy and the layer contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: install ## format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

superuser: install migrate ## create a superuser (SUPERUSER_EMAIL, SUPERUSER_USERNAME, SUPERUSER_PASSWORD)
	$(BIN)/python -m blog_api create-superuser

fuzz: install ## schemathesis over both faces of a served app (FUZZ_DB=sqlite|postgresql, FUZZ_FACE=both|native|realworld, FUZZ_MAX_TIME=120 each)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,fuzz]"
	$(BIN)/python -m fuzz

soak: install ## mixed load, 32 clients, killed backends, then every write checked (SOAK_DB, SOAK_SECONDS=600)
	$(BIN)/python -m bench.soak

bench: install ## benchmark the app against bench/reference.py (BENCH_DB=postgresql|sqlite, BENCH_POSTS=100000)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python -m bench

CLIENT_STAMP := client/node_modules/.installed

$(CLIENT_STAMP): client/package.json client/package-lock.json
	cd client && npm ci --no-audit --no-fund
	touch $(CLIENT_STAMP)

client: install $(CLIENT_STAMP) ## generate the TypeScript client from the OpenAPI document; type-check it
	$(BIN)/python -m blog_api openapi > client/openapi.json
	cd client && npm run --silent generate && npm run --silent check
	@echo "client/src/schema.d.ts: generated from /openapi.json; client/src/usage.ts compiles against it"

realworld: install ## run the RealWorld API test suite (newman) against the /api face on a fresh SQLite database
	tests/realworld/run-suite.sh

clean: ## remove the virtual environment, caches and the local SQLite database
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache src/*.egg-info
	rm -rf client/node_modules client/openapi.json client/src/schema.d.ts
	rm -rf tests/realworld/node_modules tests/realworld/.work
	rm -f blog.db blog.db-shm blog.db-wal
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
