"""The item-to-item catch-up, computed once per model version and shared by every API worker.

Between trainings, the co-visitation and next-item counts take the events logged since
(``ItemToItem.update``). On a busy server that is seconds of CPU (about 3 s for 900,000 plays on the
medium world: the read, the sparse sums and re-normalising three relations). Done inside each worker it
ran N times over, on the cores that serve requests, in the same interpreter as the request path; the
feed's p99 spiked to seconds every 5 minutes. So the ``feed_catch_up`` job (``zhongcao worker``) runs
it, in a child process at idle CPU priority (``python -m zhongcao.feed.catch_up MODEL_FOLDER``), one
at a time per model folder (a file lock), and publishes its result as a *state* next to the model:

    <model version>/catch_up/<until, µs since the epoch>/   one .npy file per array, renamed into place

An API worker memory-maps the newest state (no copy: every worker shares the same pages) and swaps it
into its model, the way it swaps in a new model version (``feed.refreshing``). Each state starts where the one
before it ended, so no event is counted twice; a state is complete counts, not a delta, so a worker
that missed one loses nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import scipy.sparse as sp

from zhongcao.config import Settings
from zhongcao.events.store import EventStore
from zhongcao.feed.covisit import ItemToItem, Relation
from zhongcao.feed.event_log import Coding, new_interactions, read_window_end
from zhongcao.feed.model import load_coding_parts, load_item_to_item

log = logging.getLogger(__name__)

STATE_DIR = "catch_up"
LOCK_FILE = "catch_up.lock"
KEEP_STATES = 2  # the newest, and the one before it (a worker may still be reading it)
_MATRICES = ("transitions", "forward")


def _us(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp() * 1_000_000)


def newest_state(model_folder: Path) -> tuple[datetime, Path] | None:
    """The newest published state of a model folder: (the time it counts events up to, its folder)."""
    states = model_folder / STATE_DIR
    if not states.is_dir():
        return None
    found = sorted(int(p.name) for p in states.iterdir() if p.name.isdigit() and p.is_dir())
    if not found:
        return None
    return datetime.fromtimestamp(found[-1] / 1_000_000, tz=UTC), states / str(found[-1])


def save_state(item_to_item: ItemToItem, model_folder: Path, until: datetime) -> Path:
    """Publish ``item_to_item`` (counts, tails, normalised relations) as the state up to ``until``."""
    states = model_folder / STATE_DIR
    states.mkdir(exist_ok=True)
    for stale in states.glob(".*.tmp"):  # left by a catch-up that was stopped (the lock is ours now)
        shutil.rmtree(stale, ignore_errors=True)
    final = states / str(_us(until))
    tmp = states / f".{final.name}.{os.getpid()}.tmp"
    tmp.mkdir()
    arrays: dict[str, np.ndarray] = {"tails": item_to_item.tails, "window": np.asarray([item_to_item.window])}
    matrices = {name: getattr(item_to_item, name) for name in _MATRICES}
    matrices.update({f"relation_{kind.value}": item_to_item.relation(kind) for kind in Relation})
    for name, matrix in matrices.items():
        matrix = matrix.tocsr()
        arrays.update(
            {
                f"{name}_data": matrix.data,
                f"{name}_indices": matrix.indices,
                f"{name}_indptr": matrix.indptr,
                f"{name}_shape": np.asarray(matrix.shape, dtype=np.int64),
            }
        )
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", np.ascontiguousarray(array))
    os.replace(tmp, final)
    for old in sorted((int(p.name) for p in states.iterdir() if p.name.isdigit()), reverse=True)[
        KEEP_STATES:
    ]:
        shutil.rmtree(states / str(old), ignore_errors=True)
    return final


def load_state(folder: Path) -> ItemToItem:
    """A published state, memory-mapped: loading costs no copy and every worker shares the pages."""

    def array(name: str) -> np.ndarray:
        return np.load(folder / f"{name}.npy", mmap_mode="r")

    def matrix(name: str) -> sp.csr_matrix:
        shape = tuple(int(x) for x in array(f"{name}_shape"))
        return sp.csr_matrix(
            (array(f"{name}_data"), array(f"{name}_indices"), array(f"{name}_indptr")),
            shape=shape,
            copy=False,
        )

    item_to_item = ItemToItem(window=int(array("window")[0]))
    item_to_item.transitions = matrix("transitions")
    item_to_item.forward = matrix("forward")
    item_to_item.n_items = item_to_item.transitions.shape[0]
    item_to_item.tails = np.array(array("tails"))  # small, and ``update`` writes into it
    item_to_item.set_normalised({kind: matrix(f"relation_{kind.value}") for kind in Relation})
    return item_to_item


@contextlib.contextmanager
def _exclusive(model_folder: Path) -> Iterator[BinaryIO | None]:
    """The model folder's catch-up lock, or ``None`` when another process holds it."""
    with open(model_folder / LOCK_FILE, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield f


def is_running(model_folder: Path) -> bool:
    """Whether a catch-up holds this model folder's lock now."""
    with _exclusive(model_folder) as held:
        return held is None


def advance(model_folder: Path, store: EventStore, until: datetime) -> Path | None:
    """Add the events from the newest state's end (or the model's window end) up to ``until`` and
    publish the result; ``None`` when another process is at it, or there was nothing to add."""
    with _exclusive(model_folder) as held:
        if held is None:
            return None
        state = newest_state(model_folder)
        since = state[0] if state is not None else read_window_end(model_folder)
        if since is not None and until <= since:
            return None
        users, items = new_interactions(store, Coding(*load_coding_parts(model_folder)), since, until)
        if not len(users):
            return None
        base = load_state(state[1]) if state is not None else load_item_to_item(model_folder)
        item_to_item = base.copy().update(users, items)
        return save_state(item_to_item, model_folder, until)


def start(
    model_folder: Path, until: datetime, env: dict[str, str] | None = None, nice: int = 10
) -> subprocess.Popen[bytes]:
    """Run :func:`advance` in a child process at lower CPU priority; ``env`` is added to the caller's
    environment (where the event store is)."""
    return subprocess.Popen(
        [sys.executable, "-m", "zhongcao.feed.catch_up", str(model_folder), "--until", until.isoformat(),
         "--nice", str(nice)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # Its own process group (a Ctrl-C to the server is not the child's), but the server's session:
        # with the kernel's autogroup scheduling a new session would compete with the whole server as
        # an equal, whatever its priority; in the session, its low priority holds against the workers.
        process_group=0,
    )  # fmt: skip


def catch_up_env(settings: Settings) -> dict[str, str]:
    """The environment a catch-up child needs to open the same event store as the server."""
    return {
        "ZHONGCAO_DATABASE_URL": settings.database_url,
        "ZHONGCAO_EVENTS_DIR": str(Path(settings.events_dir).resolve()),
        "ZHONGCAO_EVENTS_BACKEND": settings.events_backend,
    }


def _lower_priority(nice: int) -> None:
    """Run only on CPU the workers leave idle where the OS allows it (Linux ``SCHED_IDLE``), else nicely."""
    if nice <= 0:
        return
    os.nice(nice)
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Catch a feed model's item-to-item counts up (see module doc)."
    )
    parser.add_argument("model_folder", type=Path)
    parser.add_argument("--until", required=True, help="ISO time: add events logged before it")
    parser.add_argument("--nice", type=int, default=10)
    args = parser.parse_args(argv)
    _lower_priority(args.nice)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from zhongcao.events import service as events_service

    until = datetime.fromisoformat(args.until)
    path = advance(args.model_folder, events_service.get_store(), until)
    print(path or "nothing to do")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
