# Two commands matter: `make run` serves the app, `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
# What running needs (`pip install -e .`), and the dev tools on top (`.[dev]`).
# Both are redone when pyproject.toml changes: the dev stamp follows the runtime one.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
CATALOGS := $(wildcard translations/*/LC_MESSAGES/*.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: install run demo test test-fast lint check-translations translations compile clean \
	e2e-deps e2e

# The project with its dev extras (what `make test` uses).
install: $(DEV_STAMP)

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Compiled catalogs are build products, never committed.
compile: $(COMPILED)

translations/%.mo: translations/%.po | $(RUN_STAMP)
	$(BIN)/pybabel --quiet compile -i $< -o $@

run: $(RUN_STAMP) compile
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) --workers 2 wsgi:app

# A demo trade association with a campaign and six completed members (prints how to log in).
demo: $(RUN_STAMP) compile
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo --base-url http://127.0.0.1:$(PORT)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-translations: $(RUN_STAMP) compile
	$(BIN)/flask --app wsgi translations check

test: $(DEV_STAMP) compile lint check-translations
	$(BIN)/python -m pytest

# The same checks without the real-browser and the reliability tests: a quick loop.
test-fast: $(DEV_STAMP) compile lint check-translations
	$(BIN)/python -m pytest -m "not e2e and not reliability"

# The real-browser tests alone (`make test` runs them too). Playwright and axe-core
# come with the dev extra; Chromium is Debian's /usr/bin/chromium (.ci/run installs it).
e2e-deps: $(DEV_STAMP) compile
	@test -x /usr/bin/chromium || echo "Chromium not found at /usr/bin/chromium:" \
		"install it with 'apt-get install chromium'; the e2e tests will be skipped" >&2

e2e: e2e-deps
	$(BIN)/python -m pytest tests/e2e

# Re-extract every string and merge it into the catalogs (run after changing text).
translations: $(RUN_STAMP)
	$(BIN)/flask --app wsgi translations update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name '__pycache__' -type d -prune -exec rm -rf {} +
	find translations -name '*.mo' -delete
