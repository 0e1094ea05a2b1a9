"""The FastAPI application: one error shape, size limits, every domain's router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from zhongcao import __version__
from zhongcao.api_contract import answer_405_with_allow, document_statuses
from zhongcao.config import Settings, get_settings
from zhongcao.db import Database
from zhongcao.errors import install_error_handlers
from zhongcao.middleware import BodySizeLimitMiddleware
from zhongcao.security import SecurityHeadersMiddleware

log = logging.getLogger("zhongcao")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the feed's model and catalogue before the worker takes traffic, and the chart library; on
    shutdown, write the feed memory still pending. The worker starts no thread or process of its own:
    background work is the job worker's (``zhongcao worker``, docs/architecture.md)."""
    from zhongcao.feed.views import start_feed

    service = start_feed(app)
    service.warm(app.state.database)  # before the worker takes traffic: blocking here is the point
    # Import the consoles' chart library now rather than in the first chart page's request (~0.3 s).
    import plotly.graph_objects  # noqa: F401

    yield
    service.close()
    await app.state.realtime.aclose()
    app.state.realtime.close()


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings=settings)
    app = FastAPI(
        lifespan=_lifespan,
        title="zhongcao",
        version=__version__,
        summary="Open-source interest-commerce platform: content field, center field, FACT, north star.",
        docs_url=None,  # served below from local files: no CDN at run time
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.database = database
    # The real-time bus and presence (Redis or in-process); messages that services queue on this
    # database's sessions go out on this bus when they commit.
    from zhongcao.realtime import outbox
    from zhongcao.realtime.service import connect as connect_realtime

    app.state.realtime = connect_realtime(settings)
    # Login throttling's counters (Redis when configured, else this process's memory).
    from zhongcao.users.throttle import LoginThrottle

    app.state.login_throttle = LoginThrottle.from_settings(settings)
    # The feed demotes what bought engagement promoted, from the published flag set (issue #19).
    from zhongcao.feed.rerank import set_integrity_hook
    from zhongcao.integrity.demotion import PublishedFlagDemotion

    set_integrity_hook(PublishedFlagDemotion(settings.models_dir))
    outbox.attach(database, app.state.realtime.bus)
    # Purchases that the order service records on this database's sessions go to these settings'
    # event store once the payment commits (events/purchases.py).
    import weakref

    from zhongcao.events import purchases
    from zhongcao.events.views import app_store

    app_ref = weakref.ref(app)
    purchases.attach(database, lambda: app_store(app_ref()))
    install_error_handlers(app)
    _mount_api_docs(app)
    from zhongcao.media.views import upload_body_limits
    from zhongcao.web.after_sale_case import evidence_upload_limits
    from zhongcao.web.creator.studio import creator_upload_limits
    from zhongcao.web.merchant.content import page_upload_limits
    from zhongcao.web.merchant.product_editor import editor_body_limits

    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        path_limits={
            **upload_body_limits(settings),
            **editor_body_limits(settings),
            **page_upload_limits(settings),
            **creator_upload_limits(settings),
            **evidence_upload_limits(settings),
        },
    )
    # Added last, so outermost: even a 413 from the size limit carries the headers.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)

    from zhongcao.affiliate.sample_views import router as samples_router
    from zhongcao.affiliate.views import router as affiliate_router
    from zhongcao.aftersales.views import router as aftersales_router
    from zhongcao.audit.views import router as audit_router
    from zhongcao.campaigns.views import router as campaigns_router
    from zhongcao.catalog.views import router as catalog_router
    from zhongcao.commerce.views import router as commerce_router
    from zhongcao.compass.views import router as compass_router
    from zhongcao.content.report_views import router as content_reports_router
    from zhongcao.content.views import router as content_router
    from zhongcao.events.views import router as events_router
    from zhongcao.experience.views import router as experience_router
    from zhongcao.feed.views import router as feed_router
    from zhongcao.finance.views import router as finance_router
    from zhongcao.flashsales.views import router as flashsales_router
    from zhongcao.health import router as health_router
    from zhongcao.integrity.views import router as integrity_router
    from zhongcao.jobs.views import router as jobs_router
    from zhongcao.logistics.views import router as logistics_router
    from zhongcao.media.views import router as media_router
    from zhongcao.membership.views import router as membership_router
    from zhongcao.notifications.views import router as notifications_router
    from zhongcao.reviews.views import router as reviews_router
    from zhongcao.search.views import router as search_router
    from zhongcao.shops.views import router as shops_router
    from zhongcao.support.views import router as support_router
    from zhongcao.users.views import router as users_router
    from zhongcao.warehouse.views import router as warehouse_router

    # The feed, then search first: routes are matched in order, one pattern at a time (walking the
    # ~160 routes before it cost a search request about a tenth of its CPU), and GET /api/feed and
    # /api/search are the busiest endpoints (no other router shares their paths).
    for router in (
        feed_router,
        search_router,
        health_router,
        users_router,
        shops_router,
        catalog_router,
        content_router,
        content_reports_router,
        commerce_router,
        logistics_router,
        affiliate_router,
        aftersales_router,
        reviews_router,
        campaigns_router,
        support_router,
        experience_router,
        finance_router,
        events_router,
        compass_router,
        jobs_router,
        media_router,
        notifications_router,
        membership_router,
        samples_router,
        audit_router,
        warehouse_router,
        flashsales_router,
        integrity_router,
    ):
        app.include_router(router)
    from zhongcao import web  # the server-rendered pages (docs/web.md)

    web.install(app)
    document_statuses(app)
    answer_405_with_allow(app)
    return app


def _mount_api_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc, with their JavaScript served from this server. The
    pages are written here rather than by FastAPI's helpers, whose Swagger page starts the UI from an
    inline script that the Content-Security-Policy forbids: ``js/api-docs.js`` starts it instead."""
    from pathlib import Path

    import fastapi_offline
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    from zhongcao.web.static import static_url

    static_dir = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/static/api-docs", StaticFiles(directory=static_dir), name="api-docs-static")
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>zhongcao API</title>\n"
        '<link rel="icon" href="/static/api-docs/favicon.png">\n'
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            head
            + '<link rel="stylesheet" href="/static/api-docs/swagger-ui.css">\n</head>\n<body>\n'
            + '<div id="swagger-ui" data-openapi-url="/openapi.json"></div>\n'
            + '<script src="/static/api-docs/swagger-ui-bundle.js"></script>\n'
            + f'<script src="{static_url("js/api-docs.js")}"></script>\n</body>\n</html>\n'
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(
            head
            + "</head>\n<body>\n"
            + '<redoc spec-url="/openapi.json"></redoc>\n'
            + '<script src="/static/api-docs/redoc.standalone.js"></script>\n</body>\n</html>\n'
        )
