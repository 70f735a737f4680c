# The README's words. Every target installs what it needs first (idempotent).
PY := .venv/bin/python

.PHONY: run test lint bench messages

## run: start Postgres/Redis if needed, migrate, seed the demo, serve web + worker + beat
run:
	@bash scripts/bootstrap.sh
	@$(PY) scripts/run_portal.py

## test: lint, then the whole suite (real Postgres, Redis, Celery worker, Chromium)
test:
	@bash scripts/bootstrap.sh --system-test-deps
	@bash scripts/services.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-logo --no-cache
	$(PY) manage.py makemigrations --check --dry-run --settings=config.test_settings --skip-checks
	$(PY) scripts/with_stores.py $(PY) -m pytest

## lint: ruff check, format check and the layer contracts
lint:
	@bash scripts/bootstrap.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-logo --no-cache

## bench: the benchmarks under bench/, each against a baseline measured in the same run
bench:
	@bash scripts/bootstrap.sh
	@bash scripts/services.sh
	$(PY) scripts/with_stores.py $(PY) bench/run.py

## messages: refresh and compile the translation catalogues (needs gettext)
messages:
	PORTAL_ENV=development $(PY) manage.py makemessages -l tr -l en --no-location --no-obsolete --ignore=.venv --ignore=static --ignore=tests --ignore=bench --ignore=scripts
	PORTAL_ENV=development $(PY) manage.py compilemessages --ignore=.venv
