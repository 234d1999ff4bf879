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

.PHONY: demo test lint venv clean

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
	$(BIN)/pytest -n $(PYTEST_WORKERS)
	$(BIN)/pytest -p no:cacheprovider examples/orders-service

lint: $(INSTALLED)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

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

$(CHROMIUM):
	@echo "$(CHROMIUM) is missing; installing Debian's chromium for the HTML report's tests"
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

clean:
	rm -rf $(VENV) $(REPORTS) .pytest_cache .ruff_cache
