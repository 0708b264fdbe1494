# Two commands: `make run` (set up, then the default analysis) and `make test` (set up, then tests).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_FLAGS ?= -q --disable-pip-version-check
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test test-slow lint bench docs clean-venv

$(VENV)/.created:
	@py=$$(sh scripts/find_python.sh) || exit 1; \
	echo "Creating $(VENV) with $$py ($$($$py --version))"; \
	"$$py" -m venv $(VENV) && touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	@echo "Installing bayes_resil into $(VENV) (first time takes a few minutes)"
	@$(PY) -m pip install $(PIP_FLAGS) -e . 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c "import bayes_resil" && touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	@$(PY) -m pip install $(PIP_FLAGS) -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c "import pytest, pyfixest, selenium, hypothesis, statsmodels, xdist" && touch $@

run: $(VENV)/.installed
	$(PY) -m bayes_resil $(ARGS)

# one pytest-xdist worker per core, each test module on one worker (tests/conftest.py); the
# `slow` truth-recovery tests run with `make test-slow` (CI runs both: .ci/run)
test: $(VENV)/.installed-dev
	@sh scripts/ensure_chromium.sh
	$(PY) -m pytest -n auto --dist loadgroup -m "not slow" $(PYTEST_ARGS)

test-slow: $(VENV)/.installed-dev
	$(PY) -m pytest -n auto --dist loadgroup -m slow $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check src tests bench

$(VENV)/.installed-docs: $(VENV)/.installed
	@$(PY) -m pip install $(PIP_FLAGS) -e '.[docs]' 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	@$(PY) -c "import mkdocs, mkdocstrings" && touch $@

docs: $(VENV)/.installed-docs   # the API reference from the docstrings, and the walkthroughs, in site/
	$(PY) -m mkdocs build --strict

bench: $(VENV)/.installed-dev
	$(PY) bench/run_all.py

clean-venv:
	rm -rf $(VENV)
