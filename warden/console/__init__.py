"""The moderator console: server-rendered pages at /console for staff and partners (docs/console.md).

`install(app)` mounts it on the API app as its own small ASGI app, so its session cookie, security
headers and HTML error pages apply to the console only, never to the Mastodon API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warden.api.deps import Services
from warden.console import auth
from warden.console.session_store import ServerSessionMiddleware
from warden.errors import WardenError

STATIC = Path(__file__).resolve().parent / "static"

#: No inline script or style, nothing from another origin, no framing, forms post only to us.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the console's security headers (strict CSP first of all) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *(h for h in SECURITY_HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_console(services: Services) -> FastAPI:
    from warden.console.routes import router
    from warden.console.trends import router as trends_router
    from warden.console.templating import render

    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.services = services
    console.include_router(router)
    console.include_router(trends_router)
    console.mount("/static", StaticFiles(directory=STATIC), name="static")
    auth.secret_key(services.settings)  # made (once) at startup, not by the first appeal link a request signs
    console.add_middleware(ServerSessionMiddleware, db=services.db, cookie=auth.SESSION_COOKIE,
                           max_age=auth.SESSION_MAX_AGE, https_only=auth.https_only(services.settings))
    console.add_middleware(SecurityHeaders)

    @console.exception_handler(auth.LoginRequired)
    async def _login(_request: Request, exc: auth.LoginRequired) -> Response:
        return RedirectResponse(auth.login_url(exc.next_path), status_code=303)

    def _error(request: Request, status_code: int, message: str) -> Response:
        return render(request, "error.html", status_code=status_code, status=status_code, message=message)

    @console.exception_handler(WardenError)
    async def _warden(request: Request, exc: WardenError) -> Response:
        return _error(request, exc.status_code, exc.message)

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "No such page" if exc.status_code == 404 else str(exc.detail)
        return _error(request, exc.status_code, message)

    @console.exception_handler(RequestValidationError)
    async def _invalid(request: Request, _exc: RequestValidationError) -> Response:
        return _error(request, 404, "No such page")

    return console


def install(app: FastAPI) -> None:
    """Mount the console at /console (and send /console itself to it)."""

    async def console_root(_request: Request) -> Response:
        return RedirectResponse("/console/", status_code=303)

    app.add_route("/console", console_root, methods=["GET"], include_in_schema=False)
    app.mount("/console", create_console(app.state.services))
