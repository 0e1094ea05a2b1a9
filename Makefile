# zhongcao: two commands on a fresh machine.
#   make demo   install, migrate and serve the platform (embedded SQLite under ./var/)
#   make test   lint (ruff, import contracts, mypy), then the whole suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# The exact versions every install uses (make lock regenerates it from pyproject.toml's ranges).
LOCK := requirements.lock
# pytest-xdist workers; the suite is database-bound, so two per core is a good default.
WORKERS ?= auto

.PHONY: install lock messages compile-messages demo serve test test-fast lint format bench bench-commerce bench-events bench-world bench-simulate bench-recsys bench-search bench-search-speed bench-compass bench-scores bench-feed-serving bench-feed-steady bench-media bench-chat bench-live-fanout bench-flash-sale bench-alliance bench-integrity clean

# The locked versions first, then the project itself with --no-deps, so nothing is resolved anew: a
# fresh machine gets the versions CI tested.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
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

# After changing a dependency in pyproject.toml: resolve requirements.lock again (uv, every platform).
lock:
	@test -x $(BIN)/uv || { test -x $(PY) || $(PYTHON) -m venv $(VENV); $(PY) -m pip install --quiet "uv>=0.13,<0.14"; }
	PY=$(PY) UV=$(BIN)/uv scripts/lock.sh

demo: install
	$(BIN)/zhongcao demo

serve: install
	$(BIN)/zhongcao serve

test: lint
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -q

# The core suite, in under two minutes: no long tests, no browser, no Spark (make test runs them all).
test-fast: install
	$(BIN)/pytest -n $(WORKERS) --dist loadgroup -q -m "not slow and not browser and not spark"

lint: install
	$(BIN)/ruff check src tests benchmarks migrations
	$(BIN)/ruff format --check src tests benchmarks migrations
	$(BIN)/lint-imports
	$(BIN)/mypy

# The type check alone (mypy over src/, configured under [tool.mypy] in pyproject.toml).
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks migrations
	$(BIN)/ruff check --fix src tests benchmarks migrations

bench: bench-commerce bench-events bench-world bench-simulate bench-recsys bench-search bench-search-speed bench-compass bench-scores bench-feed-serving bench-feed-steady bench-chat

# The load comes from wrk (compiled, so the client is not the bottleneck): Debian's package, installed
# when missing. PostgreSQL and Redis must be running (ZHONGCAO_BENCH_PG_URL, ZHONGCAO_BENCH_REDIS_URL).
bench-commerce: install
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y wrk || sudo apt-get install -y wrk; }; } || \
		{ echo "bench-commerce needs wrk (apt-get install wrk)"; exit 1; }
	$(PY) benchmarks/commerce/bench_checkout.py

bench-events: install
	$(PY) benchmarks/events/bench_ingest.py

bench-world: install
	$(PY) benchmarks/world/bench_build.py

bench-simulate: install
	$(PY) benchmarks/world/bench_simulate.py

# The north-star experiment (issue #20): time one medium policy-run, then the full table (hours).
bench-northstar: install
	$(PY) benchmarks/northstar/bench_policy_run.py --scale medium --days 10 --policy gmv
	$(BIN)/zhongcao simulate --seeds 1,2,3,4,5 --days 180 --scale medium --policy gmv,experience,trained --sensitivity

bench-alliance: install
	$(PY) benchmarks/alliance/bench_alliance.py --scale small --seed 1 --seed 2 --seed 3
	$(BIN)/zhongcao simulate --creator-policy plaza,matching --days 30 --seed 1
	$(BIN)/zhongcao simulate --creator-policy plaza,matching --days 30 --seed 2

# Attacks planted in the small world, three seeds × two camouflage levels (docs/integrity.md).
bench-integrity: install
	$(PY) benchmarks/integrity/bench_integrity.py --seeds 2,3,4 --camouflage 1,3 --days 12

bench-chat: install
	$(PY) benchmarks/chat/bench_chat.py --conversations 500 --workers 2

# A flash sale: 20,000 buyers for 1,000 units, 2 API workers + the job worker, PostgreSQL and Redis,
# loaded by wrk (installed when missing), the health-check rate as the baseline in the same run.
bench-flash-sale: install
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y wrk || sudo apt-get install -y wrk; }; } || \
		{ echo "bench-flash-sale needs wrk (apt-get install wrk)"; exit 1; }
	$(PY) benchmarks/flash_sale/bench_flash_sale.py --buyers 20000 --units 1000

bench-live-fanout: install
	$(PY) benchmarks/live_fanout/bench_live_fanout.py --viewers 5000 --events 100 --rate 2 --workers 2

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

# One ~5 MB camera photo through the media service (median of 15 runs).
bench-media: install
	$(PY) benchmarks/bench_media_photo.py --runs 15

bench-feed-serving: install
	$(PY) benchmarks/feed_serving/bench_feed_serving.py

# Six minutes at 300/s: 20,000 shoppers, a play logged per item served, a catch-up inside.
bench-feed-steady: install
	$(PY) benchmarks/feed_serving/bench_feed_serving.py --users 20000 --rates 300 --seconds 360 --baseline-seconds 30 --plays

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
