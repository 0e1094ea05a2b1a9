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
os.environ.setdefault("ZHONGCAO_ANALYTICS_DIR", tempfile.mkdtemp(prefix="zhongcao-test-analytics-"))
os.environ.setdefault("ZHONGCAO_ANALYTICS_MAX_AGE_MINUTES", "0.000001")

import pytest  # noqa: E402
from fastapi.testclient import TestClient
from sqlalchemy import text

from zhongcao import migrate
from zhongcao.api import create_app
from zhongcao.config import Settings
from zhongcao.db import Database, empty_all_tables, import_all_models

import_all_models()

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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
    empty_all_tables(database)
    return database


@pytest.fixture
def db(database: Database) -> Iterator:
    session = database.session()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database_url=str(database.engine.url.render_as_string(hide_password=False)))


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
