"""The benchmarks' server process: a fresh PostgreSQL schema, a free port, ``zhongcao serve --workers
N`` started in a session of its own and stopped with all its workers, and the workers' CPU time.

Shared by the HTTP benchmarks (chat, commerce, flash sale, live fan-out), which put this folder on
``sys.path`` and import it. What each benchmark seeds and measures stays in its own script.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def reset_pg_schema(pg_url: str, schema: str) -> None:
    """Drop and recreate ``schema``: every run starts from an empty database."""
    import psycopg

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(
    url: str, *, redis_url: str | None, redis_prefix: str, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The server's environment: this process's, less the test suite's cheap password hashing (a
    benchmark measures production settings), with the database, Redis and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHONGCAO_ARGON2_")}
    env.update(ZHONGCAO_DATABASE_URL=url, ZHONGCAO_LOG_LEVEL="warning")
    if redis_url:
        env.update(ZHONGCAO_REDIS_URL=redis_url, ZHONGCAO_REDIS_PREFIX=redis_prefix)
    env.update(extra or {})
    return env


def start_server(
    env: dict[str, str],
    port: int,
    workers: int,
    log: Path,
    *,
    migrate: bool = True,
    timeout_s: float = 120.0,
) -> subprocess.Popen:
    """``zhongcao serve`` on ``port`` with ``workers`` workers, ready when every worker is up and
    ``/api/health/live`` answers. Its output goes to ``log``: a pipe nobody reads fills up (64 KiB)
    and then blocks the server's next write. A session of its own, so :func:`stop_server` stops the
    workers too: killing only uvicorn's supervisor once left a worker holding transactions open (the
    next run's ``DROP SCHEMA`` then waited on them)."""
    command = [sys.executable, "-m", "zhongcao.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)] + ([] if migrate else ["--no-migrate"])
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=out, start_new_session=True
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + log.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/live", timeout=1) as r:
                if r.status == 200 and len(worker_pids(proc)) >= workers:
                    time.sleep(1.0)  # a worker may answer a moment after it forked
                    return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"server did not start in {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (supervisor and workers), SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            os.killpg(proc.pid, 0)  # the supervisor is gone: is any worker left?
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)


def worker_pids(proc: subprocess.Popen) -> list[int]:
    """uvicorn's worker processes (children of the serving process), else the process itself."""
    try:
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    except OSError:
        return []
    return children or [proc.pid]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
