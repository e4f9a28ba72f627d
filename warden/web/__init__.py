"""Warden's public web pages (issue 33): profiles, posts, hashtags, the landing and about pages.

HTML for anonymous visitors, rendered with Jinja2 (autoescape on); see warden/web/pages.py for what a
visitor may see, and docs/web.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
#: Paths that are never web pages: their 404s stay Mastodon-style JSON.
NOT_PAGES = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/", "/console", "/metrics", "/health", "/openapi.json",
             "/static/")


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not an API client, not a file)."""
    path = request.url.path
    if path.startswith(NOT_PAGES):
        return False
    return path.startswith("/@") or "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    """Add the pages, /static (default avatar, header and thumbnail) and the HTML 404 page."""
    from warden.web.routes import not_found, router

    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="web-static")
    previous = app.exception_handlers.get(StarletteHTTPException)

    async def page_or_json(request: Request, exc: Any) -> Response:
        if exc.status_code == 404 and wants_page(request):
            return not_found(request)
        assert previous is not None
        return await previous(request, exc)  # type: ignore[no-any-return]

    app.add_exception_handler(StarletteHTTPException, page_or_json)
