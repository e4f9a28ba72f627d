"""The web side of rate limits (warden/platform/ratelimit.py): the app's limiter, the client's
address, and Mastodon's `X-RateLimit-*` headers on the responses of limited endpoints."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from warden.api.deps import services
from warden.platform.ratelimit import Limiter, PasswordThrottle, Quota


def limiter(request: Request) -> Limiter:
    return services(request).extras["ratelimit"]  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """The peer's address as the server sees it (behind a reverse proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so this is the client's, not the proxy's)."""
    return request.client.host if request.client else "unknown"


def password_throttle(request: Request) -> PasswordThrottle:
    return limiter(request).passwords(client_address(request))


def with_quota(response: Response, quota: Quota | None) -> Response:
    """`response` with the headers of the window it was counted in (as Mastodon sends them)."""
    if quota is not None:
        response.headers.update({k: v for k, v in quota.headers().items() if k != "Retry-After"})
    return response
