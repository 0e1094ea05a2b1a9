"""Static files: this package's CSS/JS under ``/static/web/`` and Plotly's offline bundle.

URLs carry a short hash of the file's content (``?v=…``), so browsers may cache them for a long time
and still fetch a new version the moment a file changes. Nothing is loaded from a CDN.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static/web"
PLOTLY_URL = "/static/vendor/plotly.min.js"
# A versioned URL never changes content, so it may be cached for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """The versioned URL of ``static/<name>`` (``css/base.css`` -> ``/static/web/css/base.css?v=…``)."""
    path = STATIC_DIR / name
    return f"{STATIC_PREFIX}/{name}?v={_digest(path)}"


def plotly_path() -> Path:
    """``plotly.min.js`` as shipped inside the plotly Python package (offline; the consoles' charts)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def plotly_url() -> str:
    return f"{PLOTLY_URL}?v={_digest(plotly_path())}"


class _CachedStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            query = scope.get("query_string", b"")
            response.headers["Cache-Control"] = IMMUTABLE if b"v=" in query else "public, max-age=300"
        return response


def mount(app: FastAPI) -> None:
    app.mount(STATIC_PREFIX, _CachedStatic(directory=STATIC_DIR), name="web-static")

    @app.get(PLOTLY_URL, include_in_schema=False)
    def plotly_js() -> FileResponse:
        path = plotly_path()
        if not path.is_file():  # a plotly wheel without its bundle: say so rather than 500
            raise HTTPException(404, "plotly.min.js is not in the installed plotly package")
        return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": IMMUTABLE})
