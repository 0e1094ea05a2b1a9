"""The shared item-to-item catch-up: published states that start where the one before ended, read by
time range, one process at a time, memory-mapped into every worker; and the worker's side of it in a
running server (a child process does the work)."""

from __future__ import annotations

import dataclasses
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


@pytest.mark.slow  # trains a feed model first
def test_a_running_server_catches_up_in_a_child_and_swaps_the_state_in(database, tmp_path):
    """As the app runs it: the worker's refresher starts ``python -m zhongcao.feed.catch_up`` for its
    model folder, with the server's event store, and swaps the published state into the model."""
    from zhongcao.api import create_app
    from zhongcao.config import Settings
    from zhongcao.feed.views import start_feed

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
    try:
        service.config = dataclasses.replace(service.config, catch_up_lag_seconds=0.0)
        deadline = time.monotonic() + 90
        served = None
        while time.monotonic() < deadline:
            served = service._model()
            if served is not None and catch_up.newest_state(path) is not None:
                code_a, code_b = served.catalog.code_of[a], served.catalog.code_of[b]
                if _mapped(served.sources.item_to_item.forward.data):
                    break
            time.sleep(0.1)
        assert served is not None and catch_up.newest_state(path) is not None, service.last_error
        assert _mapped(served.sources.item_to_item.forward.data), service.last_error
        base = load_item_to_item(path).transitions[code_a, code_b]
        assert served.sources.item_to_item.transitions[code_a, code_b] == base + 1
    finally:
        service.stop_refresher()
        time.sleep(0.1)


def test_readiness_reports_a_failed_catch_up_but_keeps_the_worker_in_rotation():
    from types import SimpleNamespace

    from zhongcao.health import feed_check

    failed = "catch-up exited 1: OSError: disk full"
    check = feed_check(SimpleNamespace(ready=True, last_error=failed, has_model=True))
    assert check.ok and failed in check.detail
    loading = feed_check(SimpleNamespace(ready=False, last_error=None, has_model=True))
    assert not loading.ok and loading.detail == "feed model loading"


def test_a_failing_child_is_reported_and_retried_only_after_the_interval(tmp_path, monkeypatch):
    """A child that exits with an error is reported in ``last_error`` (readiness shows it) and a worker
    does not start another before ``interval`` has passed."""
    import subprocess
    import sys
    from types import SimpleNamespace

    folder = tmp_path / "feed" / "v1"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text('{"window": {"until": "2026-01-01T00:00:00+00:00"}}')
    started: list[object] = []

    def failing_start(model_folder, until, env=None, nice=10):  # type: ignore[no-untyped-def]
        started.append(until)
        return subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.exit('OSError: disk full')"], stderr=subprocess.PIPE
        )

    monkeypatch.setattr(catch_up, "start", failing_start)
    shared = catch_up.SharedCatchUp(lambda: folder)
    model = SimpleNamespace(sources=None)
    for _ in range(50):
        shared.tick(model, interval=0.3, lag=0)  # type: ignore[arg-type]
        if shared.last_error:
            break
        time.sleep(0.05)
    assert shared.last_error and "disk full" in shared.last_error
    assert len(started) == 1  # not retried within the interval
    time.sleep(0.35)
    shared.tick(model, interval=0.3, lag=0)  # type: ignore[arg-type]
    assert len(started) == 2
    shared.stop()
