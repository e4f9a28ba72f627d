"""The ASGI application: `create_app()` wires settings, database and moderation gate to the routes."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI

from warden import __version__
from warden.api.deps import INLINE_DATABASE, Services, TokenCache
from warden.api.fastpath import HomeTimelineFastPath
from warden.api.guard import InputGuard
from warden.api.responses import JSON, install_error_handlers
from warden.api.routes import (
    accounts,
    admin,
    bookmarks,
    conversations,
    filters,
    admin_trends,
    discovery,
    follow_requests,
    hashes,
    client3,
    instance,
    media,
    lists,
    markers,
    moderation,
    notification_groups,
    notifications,
    oauth,
    outcomes,
    push,
    reports,
    search,
    status_extras,
    statuses,
    timelines,
)
from warden.cases.notices import MAX_BATCH_BYTES
from warden.cases.runtime import Moderation
from warden.config import Settings
from warden.console import install as install_console
from warden.observability import install as install_observability
from warden.platform.push import PushWorker
from warden.platform.ratelimit import Limiter
from warden.platform.scheduler import Scheduler
from warden.policy.gate import ModerationGate
from warden.store.db import Database
from warden.streaming import Streaming
from warden.streaming import routes as streaming_routes
from warden.web import install as install_web

DESCRIPTION = """Warden implements the Mastodon client API (a subset: no polls or federation; images only for media),
plus Warden's own moderation endpoints under `/api/warden/v1`. Mastodon clients and libraries work unchanged.
Errors are `{"error": "..."}` with the HTTP status Mastodon uses."""


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               gate: ModerationGate | None = None, detector: Any = None, worker: bool | None = None,
               **extras: Any) -> FastAPI:
    """`detector`: a detector object to use instead of loading `warden.detection` (tests pass a fake);
    `worker`: run the moderation outbox worker in this process (default: yes, unless WARDEN_WORKER=0).
    With `settings.detection_enabled` the write path gets the policy gate, otherwise an allow-all gate."""
    settings = settings or Settings.from_env()
    db = db or Database(settings.database_url)
    engine = Moderation.build(settings, db, gate=gate, detector=detector, worker=worker)
    streaming = Streaming(settings, db)
    scheduler = Scheduler(db, settings, engine.gate)  # scheduled statuses and the end of polls
    pusher = PushWorker(db, settings.base_url) if engine.worker is not None else None  # Web Push delivery
    inner = pusher.around(engine.lifespan) if pusher else engine.lifespan
    app = FastAPI(title="Warden", version=__version__, description=DESCRIPTION, default_response_class=JSON,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json",
                  lifespan=streaming.around(scheduler.around(inner)))
    app.state.services = Services(settings=settings, db=db, gate=engine.gate, tokens=TokenCache(),
                                  extras={"ratelimit": Limiter(settings.rate_limits), **extras,
                                          "moderation": engine, "streaming": streaming})
    media.install_storage(app.state.services, extras.get("media_storage"))
    install_error_handlers(app)
    # matched in this order, route by route: the busiest first (posting walked 33 routes to its own); no path
    # is served by two of them, so the order decides nothing else (tests/test_api_coverage.py checks that each
    # operation reaches its own route)
    for module in (statuses, timelines, oauth, instance, accounts, notification_groups, notifications, search, reports,
                   outcomes, moderation, admin, streaming_routes, media, hashes, lists, filters, markers, bookmarks,
                   conversations, follow_requests, status_extras, discovery, admin_trends, client3, push):
        app.include_router(module.router)
    install_console(app)
    install_web(app)  # public pages, /static and the HTML 404 page (after the JSON error handlers)
    app.add_middleware(HomeTimelineFastPath)  # inside InlineDatabase: its database work runs inline too
    if db.is_sqlite and os.environ.get("WARDEN_DB_THREADS", "").lower() not in ("1", "true", "on"):
        app.add_middleware(InlineDatabase)
    app.add_middleware(InputGuard, max_body_bytes=settings.max_body_bytes,  # before anything reads a body
                       route_caps={("POST", "/api/warden/v1/notices"): max(settings.max_body_bytes, MAX_BATCH_BYTES),
                                   **{route: max(settings.max_body_bytes, media.UPLOAD_BODY_CAP)
                                      for route in media.UPLOAD_ROUTES}})
    install_observability(app)  # the outermost middleware: every request is measured, the fast path's too
    return app


class InlineDatabase:
    """Pure ASGI middleware: this app's database work runs on the event loop (see `deps.run`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        token = INLINE_DATABASE.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            INLINE_DATABASE.reset(token)
