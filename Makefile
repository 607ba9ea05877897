# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes

.PHONY: run test install install-dev lock migrate bench bench-webhook bench-suppression bench-replay inflections clean

# Installs only what the lock files pin, each file checked against its hash; a marker per lock,
# so an edited lock reinstalls. requirements-dev.lock holds the runtime pins too, at the same versions.
$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements-dev.lock
	touch $@

## The runtime only (requirements.lock): what make run, migrate and the benchmarks need.
install: $(VENV)/.installed

## The runtime and the test and type-checking tools (requirements-dev.lock): what make test needs.
install-dev: $(VENV)/.installed-dev

# Run after editing requirements.txt or requirements-dev.txt, and commit the .txt and .lock files
# together; `make lock LOCK_ARGS=--upgrade` also moves the unpinned (transitive) dependencies to
# their newest releases. Run it with Python 3.11 on x86_64 Linux, like the gateway's machines: the
# locks are resolved for the interpreter that runs pip-compile. pip-tools lives in a throwaway venv,
# never in .venv; fetching every file's hash takes some minutes.
PIP_TOOLS ?= pip-tools==7.6.2
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/pip" install --quiet --disable-pip-version-check "$(PIP_TOOLS)" && \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/bin/pip-compile" $(LOCK_FLAGS) $(LOCK_ARGS) \
	  --output-file requirements.lock requirements.txt && \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/bin/pip-compile" $(LOCK_FLAGS) $(LOCK_ARGS) \
	  --constraint requirements.lock --output-file requirements-dev.lock requirements.txt requirements-dev.txt

migrate: install
	$(PY) -m flask --app wsgi db upgrade

## Serve on 127.0.0.1:$(PORT) with gunicorn, on SQLite under instance/ unless DATABASE_URL says otherwise.
## A developer's gateway: GATEWAY_ENV=development and PUBLIC_BASE_URL=http://127.0.0.1:$(PORT) unless set.
run: export GATEWAY_ENV ?= development
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	@echo "make run: GATEWAY_ENV=$$GATEWAY_ENV, PUBLIC_BASE_URL=$$PUBLIC_BASE_URL (a developer's gateway; in production set PUBLIC_BASE_URL to the URL providers call)"
	$(PY) -m flask --app wsgi dev-secrets
	$(PY) -m flask --app wsgi db upgrade
	$(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

## The whole suite; the PostgreSQL tests run too when TEST_DATABASE_URL is set.
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/classify.py

## The webhook under gunicorn against a bare Flask endpoint, SQLite then PostgreSQL (BENCH_DATABASE_URL).
bench-webhook: install
	$(PY) bench/webhook.py $(BENCH_ARGS)

## CSV import, scrub and single checks against a 1,000,000-row list, on SQLite and PostgreSQL (bench_h4 by default).
bench-suppression: install
	$(PY) bench/suppression.py $(BENCH_ARGS)

## How soon after a PostgreSQL outage a spooled opt-out is in the database for every machine (private cluster).
bench-replay: install-dev
	$(PY) bench/replay_window.py $(BENCH_ARGS)

# Word forms of keywords for the languages no run-time stemmer covers, written into keywords.yaml
# (reviewable there) from simplemma's dictionaries: offline, since loading them takes seconds.
inflections: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	$(PY) -m keywords inflections --file $(or $(KEYWORDS_FILE),keywords.yaml)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache
