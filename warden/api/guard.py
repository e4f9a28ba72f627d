"""The door every HTTP request passes before anything parses it: bounded bodies, no NUL, strict JSON.

Hostile input used to reach the routes whole. A 50 MB JSON body was read into memory before anything
looked at it; text no database column can hold (NUL, which PostgreSQL refuses; a lone UTF-16
surrogate, which the standard library's JSON parser - the one FastAPI uses for model bodies -
accepts and no driver can encode) surfaced as a 500 deep inside a transaction. This pure ASGI
middleware refuses such requests up front, for every route, with a Mastodon-style `{"error": ...}`:

- a body longer than its cap is 413: at once and unread when `Content-Length` announces it, and as
  soon as the count passes the cap when it streams (chunked);
- NUL in the path or the query string, or in any string of a JSON or form body, is 422;
- a JSON body that strict JSON (orjson) refuses - lone surrogates included - is 422.

JSON and form bodies are at most the cap, so they are read here, checked once and replayed to the
app; other bodies (multipart) stream through counted, and `read_params` checks their decoded fields.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from starlette.exceptions import HTTPException

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

NUL_MESSAGE = "Validation failed: text may not contain NUL characters"
_FORM = "application/x-www-form-urlencoded"


def too_large_message(cap: int) -> str:
    return f"The request body is larger than this server accepts ({cap} bytes)"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes its cap; the app's error handlers answer 413."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, too_large_message(cap))


def contains_nul(value: Any) -> bool:
    """Whether any string in a decoded JSON value (keys included) contains NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False


def json_problem(body: bytes, *, declared: bool) -> str | None:
    """Why a JSON body must be refused, or None. `declared`: the client said it is JSON; an undeclared
    body is refused only when the lenient parser would take what the strict one refuses."""
    if not body.strip():
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if not declared:
            try:
                json.loads(body)
            except (ValueError, UnicodeDecodeError):
                return None  # not JSON at all: the app decides what it is
        return f"Validation failed: the request body is not valid JSON ({exc})"
    if b"\\u0000" in body and contains_nul(value):  # a raw NUL byte is not valid JSON at all
        return NUL_MESSAGE
    return None


def _header(scope: MutableMapping[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


async def refuse(send: Send, status: int, message: str, *, close: bool = False) -> None:
    body = orjson.dumps({"error": message})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the unread body is still on the connection: it cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class InputGuard:
    """Pure ASGI middleware; `route_caps` maps (method, path) to a cap other than `max_body_bytes`."""

    def __init__(self, app: Any, *, max_body_bytes: int,
                 route_caps: dict[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.route_caps = route_caps or {}

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string") or b""
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            return await refuse(send, 422, NUL_MESSAGE)
        cap = self.route_caps.get((scope["method"], scope["path"]), self.max_body_bytes)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await refuse(send, 400, "Content-Length must be a number of bytes", close=True)
            if int(declared) > cap:
                return await refuse(send, 413, too_large_message(cap), close=True)
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower().decode("latin-1")
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if is_json or content_type in (_FORM, ""):
            try:
                body = await _read(receive, cap)
            except BodyTooLarge:
                return await refuse(send, 413, too_large_message(cap), close=True)
            if body is None:
                return None  # the client left before sending its body: nobody to answer
            if content_type == _FORM:
                problem = NUL_MESSAGE if b"%00" in body or b"\x00" in body else None
            else:
                problem = json_problem(body, declared=is_json)  # FastAPI parses undeclared bodies as JSON
            if problem is not None:
                return await refuse(send, 422, problem)
            return await self.app(scope, _replay(body, receive), send)
        return await self._counted(scope, receive, send, cap)

    async def _counted(self, scope: MutableMapping[str, Any], receive: Receive, send: Send, cap: int) -> None:
        size = 0
        started = False

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:  # the app let it through its handlers
            if not started:
                await refuse(send, 413, too_large_message(cap), close=True)


async def _read(receive: Receive, cap: int) -> bytes | None:
    """The whole body (None if the client disconnects); raises `BodyTooLarge` as soon as it passes `cap`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(cap)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
