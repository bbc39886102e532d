# Two commands matter: `make run` serves the app, `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
CATALOGS := $(wildcard translations/*/LC_MESSAGES/*.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: install run test lint check-translations translations compile clean e2e-deps e2e

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Compiled catalogs are build products, never committed.
compile: $(COMPILED)

translations/%.mo: translations/%.po | $(STAMP)
	$(BIN)/pybabel --quiet compile -i $< -o $@

run: $(STAMP) compile
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) --workers 2 wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-translations: $(STAMP) compile
	$(BIN)/flask --app wsgi translations check

test: $(STAMP) compile lint check-translations
	$(BIN)/python -m pytest

# The real-browser tests alone (`make test` runs them too). Playwright and axe-core
# come with the dev extra; Chromium is Debian's /usr/bin/chromium (.ci/run installs it).
e2e-deps: $(STAMP) compile
	@test -x /usr/bin/chromium || echo "Chromium not found at /usr/bin/chromium:" \
		"install it with 'apt-get install chromium'; the e2e tests will be skipped" >&2

e2e: e2e-deps
	$(BIN)/python -m pytest tests/e2e

# Re-extract every string and merge it into the catalogs (run after changing text).
translations: $(STAMP)
	$(BIN)/flask --app wsgi translations update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name '__pycache__' -type d -prune -exec rm -rf {} +
	find translations -name '*.mo' -delete
