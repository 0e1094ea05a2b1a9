"""Test fixtures. Every test that takes ``db`` or ``client`` runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from ``ZHONGCAO_TEST_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/test).
Each xdist worker migrates its own schema once; tables are emptied between tests. Where PostgreSQL
cannot be reached its half is skipped, unless ``ZHONGCAO_REQUIRE_PG=1`` (CI), which makes it fail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Cheap password hashing for tests (production keeps argon2-cffi's defaults); set before any import reads it.
os.environ.setdefault("ZHONGCAO_ARGON2_TIME_COST", "1")
os.environ.setdefault("ZHONGCAO_ARGON2_MEMORY_KIB", "64")
os.environ.setdefault("ZHONGCAO_ARGON2_PARALLELISM", "1")
# Never let a test write into the developer's ./var (events, world state): a temporary folder per run.
os.environ.setdefault("ZHONGCAO_EVENTS_DIR", tempfile.mkdtemp(prefix="zhongcao-test-events-"))
os.environ.setdefault("ZHONGCAO_WORLD_DIR", tempfile.mkdtemp(prefix="zhongcao-test-world-"))
os.environ.setdefault("ZHONGCAO_MODELS_DIR", tempfile.mkdtemp(prefix="zhongcao-test-models-"))
os.environ.setdefault("ZHONGCAO_MEDIA_DIR", tempfile.mkdtemp(prefix="zhongcao-test-media-"))
# Tests empty the tables between cases: Compass's snapshot must be rewritten on every request.
os.environ.setdefault("ZHONGCAO_SEARCH_INDEX_DIR", tempfile.mkdtemp(prefix="zhongcao-test-search-"))
os.environ.setdefault("ZHONGCAO_ANALYTICS_DIR", tempfile.mkdtemp(prefix="zhongcao-test-analytics-"))
os.environ.setdefault("ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES", "0.000001")

import pytest  # noqa: E402
from fastapi.testclient import TestClient
from sqlalchemy import text

from zhongcao import migrate
from zhongcao.api import create_app
from zhongcao.config import Settings
from zhongcao.db import Base, Database
from zhongcao.tables import empty_all_tables  # registers every table

PG_URL = os.environ.get("ZHONGCAO_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("ZHONGCAO_REQUIRE_PG") == "1"
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _run_id() -> str:
    # Unique per pytest run (shared by its xdist workers), so concurrent runs never share a schema.
    return (os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{os.getpid():x}")[:8]


def _pg_database() -> Database:
    schema = f"zc_test_{_run_id()}_{_worker()}"
    probe = Database(PG_URL, pool_size=1, max_overflow=0)
    try:
        with probe.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        probe.dispose()
        message = f"PostgreSQL is not reachable at {PG_URL}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        if REQUIRE_PG:
            pytest.fail(message + " (ZHONGCAO_REQUIRE_PG=1 makes this a failure)", pytrace=False)
        pytest.skip(message)
    probe.dispose()
    return Database(
        PG_URL, connect_args={"options": f"-csearch_path={schema}"}, pool_size=20, max_overflow=60
    )


@pytest.hookimpl(tryfirst=True)  # before `-m` selects: the browser mark added here must count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that takes the Chromium fixture is a browser test whether or not its module says so
    # (make test-fast leaves browser tests out).
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
    # PostgreSQL allows 100 connections; concurrency tests open ~50 each. Running them all on one
    # xdist worker (with --dist loadgroup) keeps two of them from racing for connections.
    # Their SQLite half is not collected at all: SQLite serialises writers, so there is nothing to race.
    keep, drop = [], []
    for item in items:
        if item.get_closest_marker("pg_only"):
            callspec = getattr(item, "callspec", None)
            if callspec is not None and callspec.params.get("database") == "sqlite":
                drop.append(item)
                continue
            item.add_marker(pytest.mark.xdist_group("pg_concurrency"))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    _keep_xdist_groups_together(config, items)


def _keep_xdist_groups_together(config: pytest.Config, items: list[pytest.Item]) -> None:
    """What ``--dist loadgroup`` should do: suffix each grouped test's node id with ``@<group>``, which
    is how the xdist scheduler knows to send the group to one worker.

    pytest-xdist 3.8 writes the suffix to ``Item._nodeid``, which pytest 9.2 no longer reads (the id
    lives in ``Item._id``), so every group was silently spread over the workers: the PostgreSQL
    concurrency tests raced one another for connections and module-scoped worlds were built once per
    worker. Only on an xdist worker with ``--dist loadgroup``; a test already suffixed is left alone.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(sorted(names))}")  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:
    made: dict[str, Database] = {}
    yield made
    for kind, database in made.items():
        if kind == "postgresql":
            schema = f"zc_test_{_run_id()}_{_worker()}"
            database.dispose()
            cleanup = Database(PG_URL, pool_size=1, max_overflow=0)
            with cleanup.engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            cleanup.dispose()
        else:
            database.dispose()


def _get_database(kind: str, made: dict[str, Database], tmp_path_factory: pytest.TempPathFactory) -> Database:
    if kind not in made:
        if kind == "sqlite":
            path: Path = tmp_path_factory.mktemp("sqlite") / "zhongcao.db"
            database = Database(f"sqlite:///{path}")
        else:
            database = _pg_database()
        migrate.upgrade(database.engine)
        made[kind] = database
    return made[kind]


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, _databases: dict[str, Database], tmp_path_factory: pytest.TempPathFactory
) -> Database:
    if request.param != "postgresql" and request.node.get_closest_marker("pg_only"):
        pytest.skip("this test exercises PostgreSQL row locking; SQLite serialises writers")
    database = _get_database(request.param, _databases, tmp_path_factory)
    if database.dialect == "postgresql":
        _empty_written_tables(database)
    else:
        empty_all_tables(database)
    # Ids start again: a flash sale's cached facts would name the last test's sale.
    from zhongcao.flashsales import joining as flashsales_joining

    flashsales_joining.forget_join_facts()
    return database


# Between tests on PostgreSQL: delete the rows of only the tables that hold any (children first; a table
# of more than a thousand rows is truncated instead) and restart only the sequences that were used, in
# one round trip. A TRUNCATE of all ~60 tables before every test was the largest share of the
# PostgreSQL half's time (TRUNCATE costs per table, and a table that every other references, like
# users, cascades to all): about 200 ms a test against about 13 ms; a test writes a handful of rows.
_EMPTY_WRITTEN_TABLES = """
DO $$
DECLARE
    name text;
    row_count integer;
    large text[] := '{}';
    small text[] := '{}';
    seq record;
BEGIN
    FOREACH name IN ARRAY string_to_array(:tables, ',') LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I LIMIT 1001) AS probe', name) INTO row_count;
        -- The audit log refuses DELETE (append-only trigger); TRUNCATE is the only way to empty it.
        IF row_count > 1000 OR (row_count > 0 AND name = 'audit_entries') THEN
            large := large || quote_ident(name);
        ELSIF row_count > 0 THEN
            small := small || quote_ident(name);
        END IF;
    END LOOP;
    -- A generated world's tables: TRUNCATE beats deleting thousands of rows one by one.
    IF cardinality(large) > 0 THEN
        EXECUTE 'TRUNCATE ' || array_to_string(large, ', ') || ' CASCADE';
    END IF;
    FOREACH name IN ARRAY small LOOP
        EXECUTE 'DELETE FROM ' || name;
    END LOOP;
    FOR seq IN
        SELECT sequencename FROM pg_sequences
        WHERE schemaname = current_schema() AND last_value IS NOT NULL
    LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', seq.sequencename);
    END LOOP;
END $$
"""


def _empty_written_tables(database: Database) -> None:
    names = ",".join(t.name for t in reversed(Base.metadata.sorted_tables))  # children before parents
    with database.engine.begin() as conn:
        # DO takes no bind parameters: the table names (ours, from the models) are inlined as a literal.
        conn.execute(text(_EMPTY_WRITTEN_TABLES.replace(":tables", "'" + names.replace("'", "''") + "'")))


@pytest.fixture
def db(database: Database) -> Iterator:
    session = database.session()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    # A search index and a models folder per test: tests share a database and empty it between them,
    # and a model another test trained in this worker must not change what this test's app serves.
    return Settings(
        database_url=str(database.engine.url.render_as_string(hide_password=False)),
        search_index_dir=tmp_path / "search-index",
        models_dir=tmp_path / "models",
    )


@pytest.fixture
def app(settings: Settings, database: Database):
    return create_app(settings=settings, database=database)


class SessionAwareClient(TestClient):
    """A TestClient that ends the test's own transaction before each request.

    SQLite has a single writer and our sessions begin with BEGIN IMMEDIATE, so a test session left
    inside a transaction would block the server. Committing first also makes the test's set-up
    visible to the server, and expiring afterwards makes the test read what the server wrote.
    """

    def __init__(self, app, session) -> None:  # type: ignore[no-untyped-def]
        super().__init__(app, raise_server_exceptions=False)
        self._session = session

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        self._session.commit()
        try:
            return super().request(*args, **kwargs)
        finally:
            self._session.expire_all()


@pytest.fixture
def client(app, db) -> Iterator[TestClient]:
    with SessionAwareClient(app, db) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium per test process, shared by every browser test: Playwright's sync
    API allows one running instance per thread, so each module starting its own would fail whenever two
    such modules land in the same worker. Never a downloaded browser (no ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    from tests.web_helpers import CHROMIUM

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


# Real-time fixtures (Redis prefix per test, both bus implementations): tests/realtime_helpers.py.
from tests.realtime_helpers import realtime, redis_prefix  # noqa: E402, F401
