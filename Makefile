# The two commands a user needs: `make serve` (build + serve the site) and `make test`.
# Both set up everything first on a fresh machine: virtualenv, Python packages, npm packages,
# Debian's Fashion-MNIST (the second article's data) and, for the tests, Debian's Chromium.
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve build test bench setup datasets chromium clean

serve: setup datasets
	$(VENV)/bin/layerwise serve

build: setup datasets
	$(VENV)/bin/layerwise build

bench: setup datasets chromium
	@test -x node_modules/.bin/lighthouse || npm ci --no-audit --no-fund  # with the dev dependencies
	$(VENV)/bin/layerwise bench

test: setup datasets chromium
	$(PY) -m pytest

# The Python and the npm packages at once: each waits on the network more than on a core.
setup:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed node_modules/.package-lock.json

# uv installs torch's 5.7 GB in about 20 s where pip took 60-120 s (4 s from uv's cache), the
# same versions. --compile-bytecode (15 s more): with PYTHONDONTWRITEBYTECODE set, as in some
# sandboxes, every new process compiled torch again (10 s to import it, 3.4 s compiled), and
# the suite starts about a hundred. (Above the rule, not in it: make echoes a recipe's comments.)
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[test]'
	touch $@

# Lighthouse (a dev dependency, 150 packages) only for `make bench`.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund

datasets:
	@test -d /usr/share/datasets/fashion-mnist || ($(SUDO) apt-get update && $(SUDO) apt-get install -y dataset-fashion-mnist)
	@test -f /usr/share/games/fortunes/fortunes -a -f /usr/share/dict/ngerman -a -f /usr/share/dict/dutch || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y fortunes wamerican wngerman wfrench witalian wspanish wdutch)

chromium:
	@test -x /usr/bin/chromium -a -x /usr/lib/chromium/chromium-headless-shell || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-headless-shell)

clean:
	rm -rf site .layerwise-cache
