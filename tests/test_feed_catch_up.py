"""The shared item-to-item catch-up: published states that start where the one before ended, read by
time range, one process at a time, memory-mapped into every worker; run by the ``feed_catch_up`` job
(a child process does the work) and swapped in by the API worker's feed."""

from __future__ import annotations

import fcntl
import mmap
import time
from datetime import timedelta

import numpy as np
import pytest

from tests.feed_helpers import trained
from zhongcao import clock
from zhongcao.feed import catch_up
from zhongcao.feed.covisit import Relation
from zhongcao.feed.model import load_item_to_item


def _mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory-mapped file (scipy keeps a view, not the memmap type)."""
    while isinstance(array, np.ndarray):
        if isinstance(array, np.memmap):
            return True
        array = array.base  # type: ignore[assignment]
    return isinstance(array, mmap.mmap)


def _plays(store, user: int, contents: list[int], at_us: int) -> None:  # type: ignore[no-untyped-def]
    store.append(
        {
            "ts": [at_us + i for i in range(len(contents))],
            "type": ["play"] * len(contents),
            "user_id": [user] * len(contents),
            "content_id": contents,
            "watch_ms": [5000] * len(contents),
        }
    )


@pytest.fixture
def model_and_store(database, tmp_path):  # type: ignore[no-untyped-def]
    model, path, store = trained(database, tmp_path)
    user = int(model.users.user_ids[0])
    a, b = (int(c) for c in model.catalog.content_ids[:2])
    codes = model.catalog.code_of[a], model.catalog.code_of[b]
    return model, path, store, user, (a, b), codes


@pytest.mark.slow  # trains a feed model first
def test_states_add_each_event_once_and_workers_map_them(model_and_store):
    model, path, store, user, (a, b), (code_a, code_b) = model_and_store
    base = load_item_to_item(path).transitions[code_a, code_b]
    now = clock.now()
    now_us = int(now.timestamp() * 1_000_000)
    assert catch_up.newest_state(path) is None

    _plays(store, user, [a, b], now_us - 10_000_000)
    first = catch_up.advance(path, store, until=now)
    assert first is not None and catch_up.newest_state(path) == (now, first)
    state = catch_up.load_state(first)
    assert state.transitions[code_a, code_b] == base + 1
    assert _mapped(state.forward.data)  # mapped, not copied
    # The published relations are the ones the counts normalise to.
    fresh = load_item_to_item(path).copy()
    fresh.transitions, fresh.forward = state.transitions.copy(), state.forward.copy()
    for kind in Relation:
        assert abs(state.relation(kind) - fresh.relation(kind)).max() < 1e-6

    # Nothing new: no state. The same events are never counted again by the next one.
    assert catch_up.advance(path, store, until=now + timedelta(seconds=5)) is None
    _plays(store, user, [a, b], now_us + 10_000_000)
    later = now + timedelta(seconds=20)
    second = catch_up.advance(path, store, until=later)
    assert second is not None and catch_up.newest_state(path) == (later, second)
    assert catch_up.load_state(second).transitions[code_a, code_b] == base + 2
    # Events before a state's end that arrive late are the next training's (the lag is for them).
    _plays(store, user, [a, b], now_us + 15_000_000)
    assert catch_up.advance(path, store, until=later + timedelta(seconds=1)) is None

    # Older states are pruned, keeping KEEP_STATES.
    for k in range(3):
        _plays(store, user, [b, a], now_us + (30 + k) * 1_000_000)
        catch_up.advance(path, store, until=now + timedelta(seconds=31 + k))
    assert len(list((path / catch_up.STATE_DIR).iterdir())) == catch_up.KEEP_STATES


@pytest.mark.slow  # trains a feed model first
def test_one_catch_up_at_a_time_per_model(model_and_store):
    _model, path, store, user, (a, b), _codes = model_and_store
    now = clock.now()
    _plays(store, user, [a, b], int(now.timestamp() * 1_000_000) - 1_000_000)
    with open(path / catch_up.LOCK_FILE, "a+b") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert catch_up.is_running(path)
        assert catch_up.advance(path, store, until=now) is None  # someone else is at it
    assert not catch_up.is_running(path)
    assert catch_up.advance(path, store, until=now) is not None


@pytest.mark.slow  # the job spawns `python -m zhongcao.feed.catch_up`, which imports and maps the model
def test_the_job_catches_up_in_a_child_and_the_server_swaps_the_state_in(database, tmp_path, monkeypatch):
    """As the processes run it: the ``feed_catch_up`` job (the job worker) starts
    ``python -m zhongcao.feed.catch_up`` for the newest model folder with the server's event store, and
    an API worker's feed swaps the published state into its model on its next due check."""
    from zhongcao.api import create_app
    from zhongcao.config import Settings
    from zhongcao.feed.views import start_feed
    from zhongcao.jobs import definitions
    from zhongcao.jobs.registry import JobContext, registered
    from zhongcao.jobs.runner import execute

    model, path, store = trained(database, tmp_path)
    user = int(model.users.user_ids[0])
    a, b = (int(c) for c in model.catalog.content_ids[:2])
    _plays(store, user, [a, b], int(clock.now().timestamp() * 1_000_000) - 2_000_000)
    store.flush()
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        models_dir=path.parent.parent,
        events_dir=tmp_path / "events",
        events_backend="segments",
        feed_catalog_refresh_seconds=0.05,
        feed_catch_up_seconds=0.5,
    )
    app = create_app(settings=settings, database=database)
    service = start_feed(app)
    with database.session(read_only=True) as db:
        served = service.bundle(db).model  # type: ignore[union-attr]
    assert not _mapped(served.sources.item_to_item.forward.data)
    monkeypatch.setattr(definitions, "FEED_CATCH_UP_LAG_S", 0.0)
    ran, result, error = execute(registered()["feed_catch_up"], JobContext(database, settings), force=True)
    assert ran and error is None and result == {"feed_catch_up": 1}
    assert catch_up.newest_state(path) is not None
    time.sleep(0.06)  # the feed's next check is due
    with database.session(read_only=True) as db:
        served = service.bundle(db).model  # type: ignore[union-attr]
    assert _mapped(served.sources.item_to_item.forward.data)
    code_a, code_b = served.catalog.code_of[a], served.catalog.code_of[b]
    base = load_item_to_item(path).transitions[code_a, code_b]
    assert served.sources.item_to_item.transitions[code_a, code_b] == base + 1
    # Caught up: the next run within the interval has nothing to do.
    ran, result, error = execute(registered()["feed_catch_up"], JobContext(database, settings), force=True)
    assert ran and result == {"feed_catch_up": 0}


def test_readiness_reports_a_failed_catch_up_but_keeps_the_worker_in_rotation():
    from types import SimpleNamespace

    from zhongcao.health import feed_check

    failed = "catch-up exited 1: OSError: disk full"
    check = feed_check(SimpleNamespace(ready=True, last_error=failed, has_model=True))
    assert check.ok and failed in check.detail
    loading = feed_check(SimpleNamespace(ready=False, last_error=None, has_model=True))
    assert not loading.ok and loading.detail == "feed model loading"


def test_a_failing_child_fails_the_job_which_is_retried_after_its_backoff(database, tmp_path, monkeypatch):
    """A child that exits with an error fails the run: operators see the error, and the job is due
    again only after the retry delay."""
    import subprocess
    import sys

    from zhongcao.config import Settings
    from zhongcao.jobs import definitions
    from zhongcao.jobs.models import JobRun
    from zhongcao.jobs.registry import JobContext, registered
    from zhongcao.jobs.runner import execute

    folder = tmp_path / "feed" / "v1"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text('{"window": {"until": "2026-01-01T00:00:00+00:00"}}')
    started: list[object] = []

    def failing_start(model_folder, until, env=None, nice=10):  # type: ignore[no-untyped-def]
        started.append(until)
        return subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.exit('OSError: disk full')"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    monkeypatch.setattr(catch_up, "start", failing_start)
    monkeypatch.setattr(definitions, "FEED_CATCH_UP_LAG_S", 0.0)
    settings = Settings(models_dir=tmp_path, feed_catch_up_seconds=0.3)
    entry = registered()["feed_catch_up"]
    context = JobContext(database, settings)
    ran, _result, error = execute(entry, context)
    assert ran and error is not None and "disk full" in error
    with database.session(read_only=True) as db:
        row = db.get(JobRun, "feed_catch_up")
        assert row.status == "failed" and row.attempts == 1 and "disk full" in row.last_error
        delay = (row.next_due_at - row.last_finished_at).total_seconds()
    assert abs(delay - entry.retry_delay(1)) < 1.0
    ran, _result, _error = execute(entry, context)  # not due again yet
    assert not ran and len(started) == 1
