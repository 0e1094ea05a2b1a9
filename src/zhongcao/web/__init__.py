"""The web app: server-rendered pages on the same FastAPI server as the JSON API (docs/web.md).

``install(app)`` is the one call ``api.create_app`` makes: it adds the pages' router, serves this
package's static files and Plotly's offline bundle, and makes errors on page URLs render as HTML
pages (the JSON API keeps its JSON error shape).
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from zhongcao.web import errors, static
    from zhongcao.web.views import router

    static.mount(app)
    app.include_router(router)
    errors.install(app)
