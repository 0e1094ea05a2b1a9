"""The job worker process (``zhongcao worker``, ``python -m zhongcao.jobs``): every job on its schedule.

It is the one process that runs background work (API workers run none; docs/architecture.md). Run
one beside the API workers; more are safe. On PostgreSQL it is a Procrastinate worker
(:mod:`zhongcao.jobs.postgres`); on the embedded SQLite default, which Procrastinate cannot use, the
same job functions run in-process through :class:`zhongcao.jobs.runner.Worker` (each run claimed in
``job_runs``). SIGTERM and Ctrl-C stop it after the runs under way, so no claim is left for its lease
to expire.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterable
from types import FrameType

from pydantic import ValidationError

from zhongcao.config import Settings, describe_invalid, get_settings
from zhongcao.db import Database
from zhongcao.jobs.runner import Worker

log = logging.getLogger("zhongcao.jobs")


def run_worker(settings: Settings | None = None, names: Iterable[str] | None = None, nice: int = 5) -> None:
    """Run jobs until SIGTERM or SIGINT. ``nice``: lower the worker's CPU priority by this much, so its
    rebuilds give way to API workers on the same machine."""
    settings = settings or get_settings()
    if nice > 0:
        with contextlib.suppress(OSError):
            os.nice(nice)
    database = Database(settings=settings)
    if database.dialect == "postgresql":
        _run_procrastinate(database, settings, names)
        return
    worker = Worker(database, settings, names)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("job worker: %s", ", ".join(j.name for j in worker.jobs))
    worker.start()
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        worker.stop()
        database.dispose()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_procrastinate(database: Database, settings: Settings, names: Iterable[str] | None) -> None:
    from zhongcao.jobs.postgres import ProcrastinateWorker

    # Procrastinate logs every deferral, start and end at INFO (dozens of lines a minute here); a
    # failure is logged by the runner (zhongcao.jobs) and the status is in job_runs.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    try:
        worker = ProcrastinateWorker(database, settings, names)
        log.info("job worker (Procrastinate): %s", ", ".join(j.name for j in worker.jobs))
        worker.run()  # Procrastinate stops it on SIGTERM and SIGINT
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    names = (argv if argv is not None else sys.argv[1:]) or None
    try:
        settings = get_settings()
    except ValidationError as exc:  # one sentence naming the variable, as every command says it
        print(f"error: configuration is invalid: {describe_invalid(exc)}", file=sys.stderr)
        return 2
    run_worker(settings, names=names)
    return 0
