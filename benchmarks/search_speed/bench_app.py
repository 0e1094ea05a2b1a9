"""The app the HTTP rows of ``bench_search_speed.py`` serve: ``zhongcao.api:create_app`` unchanged, plus,
at each worker's shutdown, its product index's result-cache counts written to ``$ZC_BENCH_STATS_DIR``
(one JSON file per worker process), so the benchmark reports the hit rate it measured."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI


def create_app() -> FastAPI:
    from zhongcao.api import create_app as create_zhongcao_app

    app = create_zhongcao_app()
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with inner(app_):
            yield
        state = getattr(app.state, "search", None)
        folder = os.environ.get("ZC_BENCH_STATS_DIR")
        if folder and state is not None and state.products is not None:
            cache = state.products.result_cache
            stats = {"size": cache.size, "hits": cache.hits, "misses": cache.misses}
            (Path(folder) / f"{os.getpid()}.json").write_text(json.dumps(stats))

    app.router.lifespan_context = lifespan
    return app
