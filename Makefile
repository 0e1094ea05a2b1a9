# zhongcao: two commands on a fresh machine.
#   make demo   install, migrate and serve the platform (embedded SQLite under ./var/)
#   make test   run the whole suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# pytest-xdist workers; the suite is database-bound, so two per core is a good default.
WORKERS ?= auto

.PHONY: install messages compile-messages demo serve test test-fast lint format bench bench-commerce bench-events bench-world bench-simulate bench-recsys bench-search bench-search-speed bench-compass bench-scores bench-feed-serving bench-feed-steady clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The pages' gettext catalogs: compiled on every install (a server also recompiles a stale .mo).
install: $(STAMP)
	$(PY) scripts/messages.py compile

compile-messages: install

# Extract the msgids the templates and web/*.py use and add the new ones, untranslated, to both
# catalogs (then fill them in; tests/test_web_i18n.py fails until every entry is translated).
# Old-style `key: (中文, English)` pairs from a branch: $(PY) scripts/messages.py from-pairs FILE.
messages: install
	$(PY) scripts/messages.py update
	$(PY) scripts/messages.py compile

demo: install
	$(BIN)/zhongcao demo

serve: install
	$(BIN)/zhongcao serve

test: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -q

test-fast: install
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -q -m "not slow"

lint: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations

format: install
	$(BIN)/ruff format src tests benchmarks migrations
	$(BIN)/ruff check --fix src tests benchmarks migrations

bench: bench-commerce bench-events bench-world bench-simulate bench-recsys bench-search bench-search-speed bench-compass bench-scores bench-feed-serving bench-feed-steady

bench-commerce: install
	$(PY) benchmarks/commerce/bench_checkout.py

bench-events: install
	$(PY) benchmarks/events/bench_ingest.py

bench-world: install
	$(PY) benchmarks/world/bench_build.py

bench-simulate: install
	$(PY) benchmarks/world/bench_simulate.py

bench-recsys: install
	$(PY) benchmarks/recsys/bench_recsys.py --protocol both

bench-search: install
	$(PY) benchmarks/search_relevance/bench_relevance.py

bench-search-speed: install
	$(PY) benchmarks/search_speed/bench_search_speed.py --products 1000000 --queries 3000

bench-compass: install
	$(PY) benchmarks/compass/bench_compass.py
	$(PY) benchmarks/compass/bench_compass_products.py

bench-scores: install
	$(PY) benchmarks/experience/bench_scores.py --records 10000

bench-feed-serving: install
	$(PY) benchmarks/feed_serving/bench_feed_serving.py

# Six minutes at 300/s: 20,000 shoppers, a play logged per item served, a catch-up inside.
bench-feed-steady: install
	$(PY) benchmarks/feed_serving/bench_feed_serving.py --users 20000 --rates 300 --seconds 360 --baseline-seconds 30 --plays

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
