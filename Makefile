# Two entry points: `make run` (serve the app) and `make test` (Biome on static/js, then every test).
# Each creates .venv and installs what it needs; `make test` also installs
# Debian's Chromium for the browser tests when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test bench chromium screenshots

$(VENV)/.app: pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.app
	$(PY) -m pip install -q -e '.[test]'
	touch $@

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# Biome lints and checks the formatting of static/js (pinned in package-lock.json); Node.js from Debian if missing.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(VENV)/.app
	$(VENV)/bin/layerlab

test: $(VENV)/.test chromium node_modules/.installed
	npx --no-install biome ci static/js
	$(PY) -m pytest

screenshots: $(VENV)/.test chromium
	$(PY) -m tests.screenshots

bench: $(VENV)/.test chromium
	$(PY) -m bench
