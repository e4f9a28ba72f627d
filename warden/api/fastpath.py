"""The hottest read, `GET /api/v1/timelines/home`, served without FastAPI's per-request machinery.

Routing a request through FastAPI (walking the included routers, solving the dependencies, validating
the query parameters) cost about as much CPU as building the page itself, which made it half of the
cost of the busiest endpoint. This pure ASGI middleware answers the common case directly: a bearer
token in the `Authorization` header that grants `read:statuses` to an account, and well-formed
window parameters. It calls the same code as the route (`routes/timelines.home_response`), so the
response is identical. Everything else - no token, an invalid or under-scoped one, a malformed
parameter, `access_token` in the query, any error - goes on to the FastAPI route, which answers it
as before (errors included), so this adds no behaviour of its own.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from warden.api.deps import Services, cached_token
from warden.api.pagination import window_args
from warden.api.routes.timelines import home_response
from warden.errors import ValidationFailed
from warden.platform.scopes import grants

HOME_PATH = "/api/v1/timelines/home"
WINDOW_PARAMS = ("max_id", "since_id", "min_id", "limit")


def _home_route(app: Any) -> Any:
    route = getattr(app.state, "home_route", None)
    if route is None:
        route = next((r for r in app.routes if getattr(r, "path", None) == HOME_PATH
                      and "GET" in (getattr(r, "methods", None) or ())), None)
        app.state.home_route = route
    return route


class HomeTimelineFastPath:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != HOME_PATH or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        try:
            response = await self._answer(Request(scope, receive))
        except Exception:  # the route answers it, with the app's own error handling
            response = None
        if response is None:
            return await self.app(scope, receive, send)
        scope["route"] = _home_route(scope["app"])  # what routing would have set (metrics label by it)
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Any:
        header = request.headers.get("authorization", "")
        raw = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not raw:
            return None
        svc: Services = request.app.state.services
        info = await cached_token(svc, raw)
        if info is None or info.account_id is None or info.suspended or not grants(info.scopes, "read:statuses"):
            return None
        query = request.query_params
        if query and any(len(query.getlist(name)) > 1 for name in WINDOW_PARAMS):
            return None
        limit = query.get("limit")
        if limit is not None and not (limit.isascii() and limit.isdigit()):
            return None  # FastAPI decides what else it accepts
        try:
            window = window_args(query.get("max_id"), query.get("since_id"), query.get("min_id"),
                                 int(limit) if limit is not None else None)
        except ValidationFailed:
            return None
        return await home_response(request, svc, info.account_id, window)
