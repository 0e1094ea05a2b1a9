"""The API server for the feed serving benchmark: the real app, one uvicorn worker, plus an ASGI wrapper
that stamps each response with its server-side time (``x-server-ms``: from the first byte of the
request reaching the app to the response start, auth, ranking and the seen-memory write included)."""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    os.environ["ZHONGCAO_DATABASE_URL"] = args.database
    os.environ["ZHONGCAO_MODELS_DIR"] = args.models
    os.environ["ZHONGCAO_EVENTS_DIR"] = args.events
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from zhongcao.api import create_app

    app = create_app()

    async def timed(scope, receive, send):  # type: ignore[no-untyped-def]
        began = time.perf_counter()

        async def stamped(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                ms = f"{(time.perf_counter() - began) * 1000:.3f}".encode()
                message = {**message, "headers": [*message.get("headers", []), (b"x-server-ms", ms)]}
            await send(message)

        await app(scope, receive, stamped)

    uvicorn.run(timed, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
