# Carte Artisan. Two commands do everything on a fresh machine:
#   make run    set up (venv, database, dev keys, demo data) and serve on http://127.0.0.1:8000 with a
#               job worker (PORT=8001 make run)
#   make test   set up the test tools and run the whole suite (ruff + pytest + the JS unit tests under node)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
SECRET_KEY_FILE := instance/secret_key
# `PORT=8001 make run` serves on another port; the printed QR texts then point there too (the
# port is only in the QR text's URL, never in the signed token). Set PUBLIC_BASE_URL yourself to
# print QR texts for another address (a phone on the same network, a tunnel).
PORT ?= 8000
PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
SERVE_ENV := PUBLIC_BASE_URL=$(PUBLIC_BASE_URL) GUNICORN_BIND=127.0.0.1:$(PORT)

.PHONY: run test test-js lint translations setup clean bench vendor

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/activate requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(SECRET_KEY_FILE):
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(48))" > $@

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d webapp/translations --statistics 2>&1 | grep -v '^$$' || true

setup: $(VENV)/.runtime $(SECRET_KEY_FILE) translations
	$(SERVE_ENV) $(FLASK) setup

# The web server and a job worker (scripts/serve.py): Ctrl-C stops both. JOB_WORKERS=2 make run
# starts two workers (print batches render in parallel across them).
run: setup
	@echo "Carte Artisan on http://127.0.0.1:$(PORT) with a job worker (Ctrl-C stops both)"
	$(SERVE_ENV) $(BIN)/python scripts/serve.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(VENV)/.dev translations lint
	$(BIN)/pytest
	@$(MAKE) --no-print-directory test-js

# The browser verifier module (static/js/lib/card-verifier.js) against docs/card-token-vectors.json.
# Running the app needs no Node; its tests do. Without node they are skipped here, never in CI
# (CI=true or REQUIRE_BROWSER=1), where .ci/run installs Debian's nodejs.
NODE ?= node
test-js:
	@if command -v $(NODE) >/dev/null 2>&1; then \
		$(NODE) --test tests/js/*.test.mjs; \
	elif [ "$${CI:-}" = "true" ] || [ -n "$${REQUIRE_BROWSER:-}" ]; then \
		echo "node is missing: the JS unit tests (tests/js/) must run in CI" >&2; exit 1; \
	else \
		echo "SKIPPED: JS unit tests (tests/js/): node is not installed"; \
	fi

bench: $(VENV)/.dev translations
	$(BIN)/python bench/verify_load.py
	$(BIN)/python bench/issue_all.py
	$(BIN)/python bench/eligibility.py
	$(BIN)/python bench/import_register.py --xlsx-rows 50000
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/audit_verify.py
	$(BIN)/python bench/card_app.py

# Front-end packages (DESIGN decision 10). `npm ci` installs exactly what package-lock.json pins
# (install scripts off: we only copy files), then scripts/vendor.py (Python standard library)
# copies the files the app serves into static/vendor/<package>/ and writes
# static/vendor/manifest.json (version, path, source file, SHA-256). Commit static/vendor/:
# `make run` serves these copies and needs no Node. tests/test_vendor.py checks them.
vendor:
	npm ci --ignore-scripts --no-audit --no-fund
	$(PYTHON) scripts/vendor.py

clean:
	rm -rf $(VENV) instance/carte.sqlite3* .pytest_cache .ruff_cache
