# The two set-up commands: `make demo` (the main job) and `make test` (the whole suite). Both install
# everything they need on a fresh machine: uv (from PyPI), the locked Python dependencies, redis-server
# (Debian) and the Kafka jars (Maven Central, resolved on first stack start).
UV_VERSION ?= 0.13.9
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: setup demo test unit fault lint check format stack-up stack-down clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (Debian)"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@if command -v docker >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1 && \
		! command -v docker-compose >/dev/null 2>&1; then \
		echo "installing docker-compose (Debian) to validate docker-compose.yml"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null || true; fi
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian) for the dashboard's browser test"; \
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium not installed: the dashboard browser test will be skipped"; }
	@command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1 || { \
		echo "Kafka needs java (17+) and mvn on PATH"; exit 1; }

demo: setup
	$(UV) run newswire demo

lint: setup
	$(UV) run ruff format --check .
	$(UV) run ruff check .
	$(UV) run mypy

# The whole suite, the fault tier at 300 articles per scenario included (docs/faults.md).
test: lint
	$(UV) run pytest -q -p no:cacheprovider

# The fast tier: pure functions and fakes of one function, no broker (about half a minute).
unit: setup
	$(UV) run pytest -q -p no:cacheprovider tests/unit

# The fault tier at full size (2,000 articles per scenario); figures go into docs/faults.md.
fault: setup
	NEWSWIRE_FAULT_ARTICLES=2000 NEWSWIRE_PROPERTY_EXAMPLES=3000 \
		$(UV) run pytest -q -p no:cacheprovider -s -m "fault or integration" \
		tests/fault tests/integration/test_ingest_hostile.py

format: setup
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

stack-up: setup
	$(UV) run newswire stack up

stack-down:
	$(UV) run newswire stack down

clean: stack-down
	rm -rf .newswire
