# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT

.PHONY: run test install migrate bench bench-webhook bench-suppression inflections clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

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
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/classify.py

## The webhook under gunicorn against a bare Flask endpoint, SQLite then PostgreSQL (BENCH_DATABASE_URL).
bench-webhook: install
	$(PY) bench/webhook.py $(BENCH_ARGS)

## CSV import, scrub and single checks against a 1,000,000-row list, on SQLite and PostgreSQL (bench_h4 by default).
bench-suppression: install
	$(PY) bench/suppression.py $(BENCH_ARGS)

# Word forms of keywords for the languages no run-time stemmer covers, written into keywords.yaml
# (reviewable there) from simplemma's dictionaries: offline, since loading them takes seconds.
inflections: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	$(PY) -m keywords inflections --file $(or $(KEYWORDS_FILE),keywords.yaml)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache
