"""The ASGI application: `create_app()` wires settings, database and moderation gate to the routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from warden import __version__
from warden.api.deps import Services, TokenCache
from warden.api.responses import JSON, install_error_handlers
from warden.api.routes import accounts, instance, notifications, oauth, reports, search, statuses, timelines
from warden.config import Settings
from warden.policy.gate import AllowAll, ModerationGate
from warden.store.db import Database

DESCRIPTION = """Warden implements the Mastodon client API (a subset: no media, polls or federation),
plus Warden's own moderation endpoints under `/api/warden/v1`. Mastodon clients and libraries work unchanged.
Errors are `{"error": "..."}` with the HTTP status Mastodon uses."""


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               gate: ModerationGate | None = None, **extras: Any) -> FastAPI:
    settings = settings or Settings.from_env()
    db = db or Database(settings.database_url)
    app = FastAPI(title="Warden", version=__version__, description=DESCRIPTION, default_response_class=JSON,
                  docs_url="/api/docs", redoc_url=None, openapi_url="/openapi.json")
    app.state.services = Services(settings=settings, db=db, gate=gate or AllowAll(), tokens=TokenCache(),
                                  extras=dict(extras))
    install_error_handlers(app)
    for module in (oauth, instance, accounts, statuses, timelines, notifications, search, reports):
        app.include_router(module.router)
    return app
