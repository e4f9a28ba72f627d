"""Watching a running node: Prometheus metrics at `/metrics` and Mastodon's `GET /health`.

* `metrics`: the metric definitions, recorded where the work happens, and multi-process mode;
* `middleware`: request latency by route template;
* `collector` and `outbox`: gauges read from the database at scrape time;
* `routes`: the two endpoints.

`install(app)` wires them into the API app (`create_app` calls it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the request-metrics middleware and the /health and /metrics routes to `app`, and have the
    process leave the multi-process sum of live gauges when the app shuts down."""
    from warden.observability.collector import DatabaseFigures
    from warden.observability.metrics import mark_process_dead
    from warden.observability.middleware import RequestMetrics
    from warden.observability.routes import router

    app.state.database_figures = DatabaseFigures(app.state.services.db)
    app.include_router(router)
    app.add_middleware(RequestMetrics)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        try:
            async with inner(running) as state:
                yield state
        finally:
            mark_process_dead()

    app.router.lifespan_context = lifespan
