"""JSON responses and Mastodon-style errors (`{"error": "..."}`) for every failure."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from warden.errors import WardenError
from warden.platform.ratelimit import RateLimited

log = logging.getLogger("warden.api")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def error(status_code: int, message: str, **extra: Any) -> JSON:
    return JSON({"error": message, **extra}, status_code=status_code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WardenError)
    async def _warden(_request: Request, exc: WardenError) -> Response:
        extra: dict[str, Any] = {}
        if exc.details:
            extra["details"] = exc.details
        response = error(exc.status_code, exc.message, **extra)
        if isinstance(exc, RateLimited):
            response.headers.update(exc.headers)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="Warden", error="invalid_token"'
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for item in exc.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path"))
            problems.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return error(422, "Validation failed: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "Error"
        if exc.status_code == 404 and message == "Not Found":
            # the router found no route: an unknown endpoint. A known route's missing record is a
            # WardenError NotFound ("Record not found"), as Mastodon words each.
            message = "Not found"
        return error(exc.status_code, message)

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return error(500, "An unexpected error occurred")
