"""The `Link` header Mastodon clients follow to page through lists."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from warden.api.responses import JSON
from warden.errors import ValidationFailed
from warden.platform.ids import as_id
from warden.platform.pagination import DEFAULT_LIMIT, clamp_limit


def link_header(request: Request, response: Response, newest: int | None, oldest: int | None) -> None:
    """Set `Link: <...max_id=oldest>; rel="next", <...min_id=newest>; rel="prev"` when the page has rows."""
    if newest is None or oldest is None:
        return
    url = request.url
    base = f"{url.scheme}://{url.netloc}{url.path}"  # what url.replace(query="") gives, without parsing it again
    keep = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "min_id", "since_id")]
    rest = f"{urlencode(keep)}&" if keep else ""
    next_url = f"{base}?{rest}max_id={oldest}"
    prev_url = f"{base}?{rest}min_id={newest}"
    response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'


def paged(request: Request, data: list[object] | bytes, cursors: list[int]) -> Response:
    """A JSON list response with its `Link` header; `cursors` are the page's ids, newest first.
    `data` may be the list already encoded (bytes), as the home timeline builds it."""
    response = Response(data, media_type=JSON.media_type) if isinstance(data, bytes) else JSON(data)
    if cursors:
        link_header(request, response, cursors[0], cursors[-1])
    return response


def window_args(max_id: str | None, since_id: str | None, min_id: str | None, limit: int | None, *,
                default: int = DEFAULT_LIMIT, maximum: int = 40) -> dict[str, int | None]:
    """Parse Mastodon's window query parameters: ids are strings of ASCII digits within 64 bits (anything
    else is a 422), `limit` is clamped to 1..`maximum` as Mastodon does (`default` when absent)."""
    def window_id(name: str, value: str | None) -> int | None:
        if value in (None, ""):
            return None
        ident = as_id(value)
        if ident is None:
            raise ValidationFailed(f"Validation failed: {name} must be a status or record id")
        return ident

    return {"max_id": window_id("max_id", max_id), "since_id": window_id("since_id", since_id),
            "min_id": window_id("min_id", min_id), "limit": clamp_limit(limit, default, maximum)}
