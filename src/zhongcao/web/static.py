"""Static files: this package's CSS/JS under ``/static/web/`` and Plotly's offline bundle.

URLs carry a short hash of the file's content (``?v=…``), so browsers may cache them for a long time
and still fetch a new version the moment a file changes. Nothing is loaded from a CDN.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
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
PLOTLY_CSS_URL = "/static/vendor/plotly.css"
# A versioned URL never changes content, so it may be cached for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
log = logging.getLogger("zhongcao.web")


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


_JS_STRING = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
_RULE = re.compile(rf"({_JS_STRING}|[A-Za-z_$][\w$]*):({_JS_STRING}),?")


def _js_string(literal: str) -> str:
    """The text of a JavaScript string literal (double-quoted ones are JSON already)."""
    if literal[0] == "'":
        literal = '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    return str(json.loads(literal))


@cache
def plotly_css() -> str:
    """The style rules Plotly's bundle would add to the page from JavaScript, as a stylesheet.

    Plotly inserts them into a ``<style>`` element it creates, which a Content-Security-Policy without
    ``'unsafe-inline'`` styles refuses; it skips that when the page already has a stylesheet with id
    ``plotly.js-style-global`` and class ``no-inline-styles`` (console/base.html), which is this one.
    The rules are read from the installed bundle (``"X …": "…"`` pairs, X and Y standing for the plot
    and the notifier), so they always match its version; Plotly inserts each before the previous
    ones, so they are written in reverse order."""
    source = plotly_path().read_text(encoding="utf-8") if plotly_path().is_file() else ""
    start = source.find('{"X,X div":')
    end = source.find("};for(", start)
    if start < 0 or end < 0:
        log.warning("plotly.css: the style rules were not found in this plotly.min.js")
        return ""
    rules = []
    for key, value in _RULE.findall(source[start + 1 : end]):
        selector = _js_string(key) if key[0] in "'\"" else key
        selector = re.sub(r"^,", " ,", selector)
        selector = selector.replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector} {{{_js_string(value)}}}")
    return "\n".join(reversed(rules)) + "\n"


# A <style> element the bundle adds while it loads, unless an element with its id is already there.
_LOADED_STYLE = re.compile(
    r'getElementById\("([0-9a-f]{16,})"\)\)\{var ([\w$]+)=document\.createElement\("style"\);\2\.id="\1"'
)


@cache
def plotly_style_ids() -> tuple[str, ...]:
    """The ids of the ``<style>`` elements Plotly's bundle inserts as it loads when no element with
    that id exists (today one: MapLibre's rules, for map traces, which the consoles never draw).
    ``console/base.html`` puts an empty ``<template>`` with each id before the bundle, so it inserts
    nothing the Content-Security-Policy would refuse. A console that draws maps would serve those rules
    as a stylesheet, as :func:`plotly_css` does for the rest."""
    source = plotly_path().read_text(encoding="utf-8") if plotly_path().is_file() else ""
    return tuple(dict.fromkeys(match.group(1) for match in _LOADED_STYLE.finditer(source)))


def plotly_css_url() -> str:
    return f"{PLOTLY_CSS_URL}?v={hashlib.sha256(plotly_css().encode()).hexdigest()[:10]}"


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

    @app.get(PLOTLY_CSS_URL, include_in_schema=False)
    def plotly_stylesheet() -> Response:
        return Response(plotly_css(), media_type="text/css", headers={"Cache-Control": IMMUTABLE})
