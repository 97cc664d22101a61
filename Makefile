# The two set-up commands: `make demo` (the main job) and `make test` (the whole suite). Both install
# everything they need on a fresh machine: uv (from PyPI), the locked Python dependencies, redis-server
# (Debian) and the Kafka jars (Maven Central, resolved on first stack start).
UV_VERSION ?= 0.13.9
PYTHON ?= python3
UV := $(PYTHON) -m uv

.PHONY: setup demo test unit fault chaos lint check format stack-up stack-down clean

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

# The whole suite, the fault tier at 300 articles per scenario included (docs/faults.md), and one
# short chaos run with a seed whose schedule is known (`make chaos` draws new ones).
CHAOS_TEST_SEED ?= 2002
test: lint
	NEWSWIRE_CHAOS_SEED=$${NEWSWIRE_CHAOS_SEED:-$(CHAOS_TEST_SEED)} $(UV) run pytest -q -p no:cacheprovider

# The fast tier: pure functions and fakes of one function, no broker (about half a minute).
unit: setup
	$(UV) run pytest -q -p no:cacheprovider tests/unit

# The fault tier at full size (2,000 articles per scenario); figures go into docs/faults.md.
fault: setup
	NEWSWIRE_FAULT_ARTICLES=2000 NEWSWIRE_PROPERTY_EXAMPLES=3000 \
		$(UV) run pytest -q -p no:cacheprovider -s -m "fault or integration" \
		tests/fault tests/integration/test_ingest_hostile.py

# The randomized fault campaign (tests/fault/test_chaos.py): CHAOS_RUNS seeded runs of CHAOS_SECONDS
# each, from CHAOS_SEED (random when empty; every run prints its seed and schedule). A failing
# seed re-runs the same schedule: make chaos CHAOS_SEED=<seed>. Figures as JSON lines in
# .newswire/chaos.jsonl.
CHAOS_SEED ?=
CHAOS_RUNS ?= 1
CHAOS_SECONDS ?= 180
chaos: setup
	NEWSWIRE_CHAOS_SEED=$(CHAOS_SEED) NEWSWIRE_CHAOS_RUNS=$(CHAOS_RUNS) \
		NEWSWIRE_CHAOS_SECONDS=$(CHAOS_SECONDS) NEWSWIRE_CHAOS_FIGURES=.newswire/chaos.jsonl \
		$(UV) run pytest -q -p no:cacheprovider -s tests/fault/test_chaos.py

format: setup
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

stack-up: setup
	$(UV) run newswire stack up

stack-down:
	$(UV) run newswire stack down

clean: stack-down
	rm -rf .newswire
