# The two commands a user needs: `make serve` (build + serve the site) and `make test`.
# Both set up everything first on a fresh machine: virtualenv, Python packages, npm packages,
# and (for the tests) Debian's Chromium.
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve build test bench setup chromium clean

serve: setup
	$(VENV)/bin/layerwise serve

build: setup
	$(VENV)/bin/layerwise build

bench: setup chromium
	$(VENV)/bin/layerwise bench

test: setup chromium
	$(PY) -m pytest

setup: $(VENV)/.installed node_modules/.package-lock.json

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

clean:
	rm -rf site .layerwise-cache
