"""Request latency by route template: a pure ASGI middleware that costs a few microseconds a request.

The route is read after the app has answered, from the route the router matched (`scope["route"]`)
behind the mounts it went through (`scope["root_path"]`, which each mount extends), so the label is
the template (`/api/v1/statuses/{status_id}`, `/console/static/{path}`), never the raw path: one
series per endpoint whatever ids clients send. A request no route matched is "unmatched". Status is the class ("2xx", ..., "5xx"); an
exception that escapes the app counts as "5xx".
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warden.observability import metrics

METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
STATUS_CLASSES = ("0xx", "1xx", "2xx", "3xx", "4xx", "5xx")
UNMATCHED = "unmatched"
#: Requests under this prefix can change the number of open streams (see `refresh_stream_connections`).
STREAMING_PREFIX = "/api/v1/streaming"


def route_template(scope: Scope, root_path: str = "") -> str:
    """The template of the route that served `scope` (after the app ran), prefixed with the mounts
    it went through; `root_path` is the scope's root path before the app ran."""
    route: Any = scope.get("route")
    prefix = scope.get("root_path", "")[len(root_path):]
    if route is None or isinstance(route, Mount):  # a mounted app without routes (static files), or none
        return prefix + "/{path}" if prefix else UNMATCHED
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return prefix + path if isinstance(path, str) else UNMATCHED


def refresh_stream_connections() -> None:
    """Set the stream gauge from the streaming hub's own count, when the hub exists in this build."""
    try:
        from warden.streaming.hub import connection_count  # type: ignore[import-not-found]
    except ImportError:
        return
    metrics.STREAM_CONNECTIONS.set(connection_count())


#: (route, method, status class) -> its histogram series; bounded, as the labels are.
_series: dict[tuple[str, str, str], Any] = {}


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            try:
                await self.app(scope, receive, send)
            finally:
                if scope["type"] == "websocket":
                    refresh_stream_connections()
            return
        started = perf_counter()
        root_path = scope.get("root_path", "")
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed = perf_counter() - started
            route = route_template(scope, root_path)
            method = scope["method"] if scope["method"] in METHODS else "other"
            status_class = STATUS_CLASSES[status // 100] if 0 <= status < 600 else "5xx"
            key = (route, method, status_class)
            series = _series.get(key)
            if series is None:  # labels() takes a lock and builds the key each time: ~3 us we can save
                series = _series[key] = metrics.HTTP_REQUEST_SECONDS.labels(*key)
            series.observe(elapsed)
            if route.startswith(STREAMING_PREFIX):
                refresh_stream_connections()
