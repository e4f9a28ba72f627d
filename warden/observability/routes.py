"""`GET /health` (Mastodon's: "OK" when the web process and its database answer) and `GET /metrics`.

`/metrics` is open, as Prometheus endpoints conventionally are on a loopback or private interface;
when WARDEN_METRICS_TOKEN is set it wants that token as a bearer token (Prometheus'
`authorization: {credentials: ...}`), so a node on a public interface does not publish its queue sizes.
"""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import PlainTextResponse, Response

from warden.api.deps import bearer_token, offload, run, services
from warden.errors import Unauthorized
from warden.observability.collector import DatabaseFigures
from warden.observability.metrics import process_registry

TOKEN_ENV = "WARDEN_METRICS_TOKEN"

router = APIRouter(tags=["health"])


@router.head("/health", include_in_schema=False)
@router.get("/health", response_class=PlainTextResponse, summary="Health",
            responses={503: {"description": "The database does not answer"}})
async def health(request: Request) -> Response:
    """"OK" (text/plain) when this process and its database answer; 503 otherwise. No token needed."""
    db = services(request).db

    def ping() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1"))

    try:
        await run(ping)
    except Exception:
        return PlainTextResponse("database unreachable", status_code=503)
    return PlainTextResponse("OK")


def _authorize(request: Request) -> None:
    wanted = os.environ.get(TOKEN_ENV)
    if not wanted:
        return
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), wanted.encode()):
        raise Unauthorized(f"/metrics needs the bearer token set in {TOKEN_ENV}")


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    _authorize(request)
    figures: DatabaseFigures = request.app.state.database_figures

    def render() -> bytes:
        return generate_latest(process_registry()) + generate_latest(figures.registry)

    # in the threadpool even on SQLite: counting dead letters scans processed_events (~30 ms at 500,000
    # rows, at most once per cache period), which the event loop should not wait for
    return Response(await offload(render), media_type=CONTENT_TYPE_LATEST)
