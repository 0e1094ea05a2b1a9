"""Compass's snapshot is refreshed by the ``compass_snapshot`` job: a request never waits for a build
once one exists, a build is published whole or not at all, and concurrent first requests build it once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.commerce_helpers import paid_order
from tests.factories import auth, make_product, make_shop
from zhongcao.compass import refresher
from zhongcao.db import Database
from zhongcao.jobs.registry import JobContext, registered
from zhongcao.jobs.runner import execute


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The name of the thread that ran each build of a snapshot under ``tmp_path``."""
    names: list[str] = []
    real = refresher.write_snapshot

    def counted(source: Any, store: Any, out_dir: Path) -> dict[str, Any]:
        if out_dir.is_relative_to(tmp_path):
            names.append(threading.current_thread().name)
        return real(source, store, out_dir)

    monkeypatch.setattr(refresher, "write_snapshot", counted)
    return names


def test_requests_read_the_newest_snapshot_and_the_job_rebuilds_a_stale_one(
    client, db, tmp_path: Path, builds: list[str]
) -> None:
    settings = client.app.state.settings
    settings.analytics_dir = tmp_path
    settings.analytics_max_age_minutes = 60.0
    shop = make_shop(db)
    product = make_product(db, shop.shop, price_fen=1_000, stock=10)
    paid_order(db, shop=shop, product=product)
    headers = auth(db, shop.owner)

    def gmv() -> int:
        response = client.get("/api/merchant/compass/core?days=1", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["current"]["gmv_fen"]

    # No snapshot at all: the request builds the first one itself.
    assert gmv() == 1_000 and len(builds) == 1
    root = refresher.snapshot_root(settings, client.app.state.database)
    first = refresher.current(root)
    assert first is not None and (root / refresher.POINTER).read_text() == first.path.name
    # A new sale; the snapshot is fresh (under an hour old): answered from it, nothing rebuilt.
    paid_order(db, shop=shop, product=product)
    assert gmv() == 1_000 and len(builds) == 1
    # Stale: the request still answers at once from the snapshot it has, and builds nothing.
    settings.analytics_max_age_minutes = 1e-6
    assert gmv() == 1_000 and len(builds) == 1
    # The job rebuilds it (in the job worker's thread for it); requests then read the new one.
    entry = registered()["compass_snapshot"]
    ran, result, error = execute(entry, JobContext(client.app.state.database, settings), force=True)
    assert ran and error is None and result == {"compass_snapshot": 1}
    assert refresher.current(root).path != first.path and len(builds) == 2
    settings.analytics_max_age_minutes = 60.0
    assert gmv() == 2_000


def test_a_snapshot_is_published_whole_or_not_at_all(
    database: Database, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.analytics_dir = tmp_path
    good = refresher.refresh_snapshot(database, settings)
    assert good is not None and (good.path / "sales.parquet").exists()
    root = good.path.parent

    def dies_half_way(source: Any, store: Any, out_dir: Path) -> dict[str, Any]:
        out_dir.mkdir(parents=True)
        (out_dir / "sales.parquet").write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(refresher, "write_snapshot", dies_half_way)
    with pytest.raises(OSError, match="disk full"):
        refresher.refresh_snapshot(database, settings)
    assert refresher.current(root) == good  # readers still get the last complete one
    assert [p.name for p in root.iterdir() if p.is_dir()] == [good.path.name]  # nothing half-built left


def test_concurrent_first_requests_build_one_snapshot(
    database: Database, settings, tmp_path: Path, builds: list[str]
) -> None:
    settings.analytics_dir = tmp_path
    got: list[Path] = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        got.append(refresher.newest_snapshot(database, settings).path)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1 and len(set(got)) == 1 and len(got) == 4


def test_old_snapshots_are_deleted_once_superseded_long_enough(
    database: Database, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.analytics_dir = tmp_path
    made = [refresher.refresh_snapshot(database, settings) for _ in range(3)]
    root = made[0].path.parent
    assert len(refresher._generations(root)) == 3  # superseded less than GRACE_S ago: all kept
    monkeypatch.setattr(refresher, "GRACE_S", 0.0)
    for _ in range(2):
        made.append(refresher.refresh_snapshot(database, settings))
    kept = refresher._generations(root)
    assert kept == [s.path for s in made[-refresher.KEEP :]]
    assert refresher.current(root) == made[-1]


def test_each_database_has_its_own_snapshot_folder(tmp_path: Path) -> None:
    one, same, other = (
        Database(f"sqlite:///{tmp_path}/a.db"),
        Database(f"sqlite:///{tmp_path}/a.db"),
        Database(f"sqlite:///{tmp_path}/b.db"),
    )
    try:
        assert refresher.database_key(one) == refresher.database_key(same)
        assert refresher.database_key(one) != refresher.database_key(other)
    finally:
        for database in (one, same, other):
            database.dispose()
