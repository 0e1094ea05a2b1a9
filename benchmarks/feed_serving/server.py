"""The API server for the feed serving benchmark: the real app under uvicorn (``--workers`` processes,
as behind any load balancer) and a job worker beside them running the feed's catch-up
(``python -m zhongcao.jobs feed_catch_up``, when the code served has a job runner), plus an ASGI wrapper that stamps each response with its server-side time
(``x-server-ms``: from the first byte of the request reaching the app to the response start, auth,
ranking and the seen-memory write included). ``--src`` picks the code (another checkout's ``src``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path


def make_app():  # type: ignore[no-untyped-def]
    """The app, wrapped; called once in each worker process (uvicorn's ``factory=True``)."""
    from zhongcao.api import create_app

    app = create_app()

    async def timed(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        began = time.perf_counter()

        async def stamped(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                ms = f"{(time.perf_counter() - began) * 1000:.3f}".encode()
                message = {**message, "headers": [*message.get("headers", []), (b"x-server-ms", ms)]}
            await send(message)

        await app(scope, receive, stamped)

    return timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--src", default=None, help="the zhongcao code to serve (a checkout's src folder)")
    args = parser.parse_args()
    os.environ["ZHONGCAO_DATABASE_URL"] = args.database
    os.environ["ZHONGCAO_MODELS_DIR"] = args.models
    os.environ["ZHONGCAO_EVENTS_DIR"] = args.events
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.src:
        # Workers (spawned) and the job worker import zhongcao from here, not from this checkout.
        os.environ["PYTHONPATH"] = os.pathsep.join([args.src, os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
        sys.path.insert(0, args.src)
    jobs = None
    if (Path(args.src) / "zhongcao" / "jobs" / "__main__.py").is_file() if args.src else True:
        # Only the feed's job: the others (Compass's first snapshot of the medium world above all) would
        # spend the run's CPU on what the benchmark does not measure.
        jobs = subprocess.Popen(
            [sys.executable, "-m", "zhongcao.jobs", "feed_catch_up"], env=os.environ.copy()
        )
    try:
        _serve(args)
    finally:
        if jobs is not None and jobs.poll() is None:
            jobs.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                jobs.wait(timeout=30)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(
        "server:make_app",
        factory=True,
        app_dir=str(Path(__file__).parent),
        workers=args.workers,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
