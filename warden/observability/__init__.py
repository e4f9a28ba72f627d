"""Watching a running node: Prometheus metrics at `/metrics` and Mastodon's `GET /health`.

* `metrics`: the metric definitions, recorded where the work happens, and multi-process mode;
* `middleware`: request latency by route template;
* `collector` and `outbox`: gauges read from the database at scrape time;
* `routes`: the two endpoints.

`install(app)` wires them into the API app (`create_app` calls it).
"""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the request-metrics middleware and the /health and /metrics routes to `app`."""
    from warden.observability.collector import DatabaseFigures
    from warden.observability.middleware import RequestMetrics
    from warden.observability.routes import router

    app.state.database_figures = DatabaseFigures(app.state.services.db)
    app.include_router(router)
    app.add_middleware(RequestMetrics)
