# The two commands of the README: `make demo` and `make test`. Each sets up its own
# virtual environment (.venv) on first use; a fresh machine needs only Python 3.11+,
# make and git (and apt, if python3-venv or chromium is missing).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
REPORTS ?= reports
PYTEST_WORKERS ?= auto
# The HTML report's tests drive Debian's chromium through Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
# The LocalStack tier (tests/localstack_tier) starts LocalStack from a venv of its own, since
# localstack-core needs Python 3.13+: PYTHON313, else python3.13 on PATH, else pyenv's 3.13,
# else python3 if it is 3.13 or newer.
LOCALSTACK_TESTS := tests/localstack_tier
LOCALSTACK_VENV ?= .venv-localstack
LOCALSTACK_INSTALLED := $(LOCALSTACK_VENV)/.installed
LOCALSTACK_REQUIREMENTS := $(LOCALSTACK_TESTS)/requirements.txt
PYTHON313 ?=
PYENV_ROOT ?= $(HOME)/.pyenv

.PHONY: demo test test-localstack lint venv clean

# Exit status 1 means "some controls failed": findings about the demo account, which is
# what the demo shows. Any other failure (usage, collection, internal) fails the target.
demo: $(INSTALLED)
	@mkdir -p $(REPORTS)
	$(BIN)/pytest --prr-account=moto examples/orders-service \
		--prr-json=$(REPORTS)/prr-results.json --junitxml=$(REPORTS)/junit.xml \
		--prr-html=$(REPORTS)/prr-report.html --prr-markdown=$(REPORTS)/prr-checklist.md; \
		status=$$?; [ $$status -le 1 ] || exit $$status
	@echo "demo: reports in $(REPORTS)/ (failing controls above are findings, not errors)"

test: lint $(INSTALLED) $(CHROMIUM)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --ignore=$(LOCALSTACK_TESTS)
	$(BIN)/pytest -p no:cacheprovider examples/orders-service

# The tests run from .venv; LocalStack runs from .venv-localstack's Python, named to them by
# PRR_LOCALSTACK_PYTHON (without it, the tier's tests fail saying to run this target).
test-localstack: $(INSTALLED) $(LOCALSTACK_INSTALLED)
	PRR_LOCALSTACK_PYTHON=$(CURDIR)/$(LOCALSTACK_VENV)/bin/python $(BIN)/pytest $(LOCALSTACK_TESTS)

lint: $(INSTALLED)
	$(BIN)/ruff check src tests examples benchmarks conftest.py
	$(BIN)/ruff format --check src tests examples benchmarks conftest.py

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "pytest-prr needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		echo "python3 -m venv failed; installing Debian's python3-venv"; rm -rf $(VENV); \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q python3-venv && \
		$(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

# A candidate counts only if it runs and is 3.13+: pyenv's python3.13 shim exists on PATH even
# where it refuses to run ("python3.13: command not found" when 3.13 is not pyenv's global).
$(LOCALSTACK_INSTALLED): $(LOCALSTACK_REQUIREMENTS)
	@python=; for candidate in $(PYTHON313) python3.13 $(PYENV_ROOT)/versions/3.13*/bin/python python3; do \
		if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then \
			python=$$candidate; break; fi; \
	done; \
	if [ -z "$$python" ]; then \
		echo "**********************************************************************"; \
		echo "make test-localstack needs Python 3.13 or newer (localstack-core does)"; \
		echo "and found none: not PYTHON313, python3.13 on PATH, pyenv's"; \
		echo "$(PYENV_ROOT)/versions/3.13*/bin/python, nor a python3 of 3.13+."; \
		echo "Install one (pyenv install 3.13) or name it: make test-localstack PYTHON313=/path/to/python"; \
		echo "**********************************************************************"; \
		exit 1; \
	fi; \
	echo "$(LOCALSTACK_VENV): $$("$$python" --version) ($$python)"; \
	"$$python" -m venv $(LOCALSTACK_VENV) && \
	$(LOCALSTACK_VENV)/bin/python -m pip install -q --upgrade pip && \
	$(LOCALSTACK_VENV)/bin/python -m pip install -q -r $(LOCALSTACK_REQUIREMENTS)
	@touch $@

$(CHROMIUM):
	@echo "$(CHROMIUM) is missing; installing Debian's chromium for the HTML report's tests"
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) $(REPORTS) .pytest_cache .ruff_cache
