"""The streaming endpoints, as Mastodon documents them (docs.joinmastodon.org/methods/streaming):

- `GET /api/v1/streaming/health`: `OK`, text/plain;
- `wss://…/api/v1/streaming`: one multiplexed WebSocket. A user token (Mastodon 4.2+ refuses public
  and app tokens) comes in the `Authorization` header, the `access_token` query parameter or the
  `Sec-WebSocket-Protocol` header; without a valid one the upgrade is answered 401. `?stream=` (with
  `tag=` or `list=`) subscribes at once; `{"type": "subscribe"|"unsubscribe", "stream": …, "tag": …}`
  messages manage streams afterwards. Events are `{"stream": [...], "event": …, "payload": "<JSON
  string>"}`; mistakes are answered `{"error": …, "status": 400}` on the socket;
- `GET /api/v1/streaming/user`, `/user/notification`, `/public`, `/public/local`, `/hashtag?tag=`,
  `/hashtag/local?tag=`, `/list?list=`, `/direct`: the same streams as server-sent events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request, WebSocket
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.websockets import WebSocketDisconnect

from warden.api.deps import LOGIN_DISABLED, Services, cached_token, run
from warden.api.responses import error
from warden.platform.auth import TokenInfo
from warden.platform.ids import as_id
from warden.platform.scopes import grants
from warden.store.client_models import UserList
from warden.streaming.hub import STREAMS, Connection, Subscription

router = APIRouter(tags=["streaming"])
HEARTBEAT_SECONDS = 15.0
#: The server-sent-events paths under /api/v1/streaming/ and the stream each one is.
SSE_CHANNELS = {"user": "user", "user/notification": "user:notification", "public": "public",
                "public/media": "public:media", "public/local": "public:local",
                "public/local/media": "public:local:media", "public/remote": "public:remote",
                "public/remote/media": "public:remote:media", "hashtag": "hashtag",
                "hashtag/local": "hashtag:local", "list": "list", "direct": "direct"}


class StreamError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _services(conn: HTTPConnection) -> Services:
    return conn.app.state.services  # type: ignore[no-any-return]


def _streaming(conn: HTTPConnection) -> Any:
    return _services(conn).extras["streaming"]


def subscription(stream: str | None, *, tag: str | None, list_id: str | None, scopes: frozenset[str]) -> Subscription:
    """A checked subscription, or a StreamError worded as Mastodon's streaming server words it."""
    if not stream or stream not in STREAMS:
        raise StreamError("Unknown stream type")
    needed = "read:notifications" if stream == "user:notification" else "read:statuses"
    if not grants(scopes, needed):
        raise StreamError("Access token does not have the required scopes", 401)
    if stream in ("hashtag", "hashtag:local"):
        name = (tag or "").strip().lstrip("#").lower()
        if not name:
            raise StreamError("No tag for stream provided")
        return Subscription(stream, name)
    if stream == "list":
        if not list_id:
            raise StreamError("Missing list name parameter")
        ident = as_id(list_id)
        if ident is None:
            raise StreamError("List not found", 404)
        return Subscription(stream, str(ident))
    return Subscription(stream)


async def checked(conn: HTTPConnection, stream: str | None, *, tag: str | None, list_id: str | None,
                  info: TokenInfo) -> Subscription:
    """`subscription`, and for a list: that it is the viewer's own (else "List not found", 404)."""
    sub = subscription(stream, tag=tag, list_id=list_id, scopes=info.scopes)
    if sub.stream == "list":
        db = _services(conn).db

        def owns() -> bool:
            with db.read() as session:
                row = session.get(UserList, int(sub.param or 0))
                return row is not None and row.account_id == info.account_id

        if not await run(owns):
            raise StreamError("List not found", 404)
    return sub


async def authenticate(conn: HTTPConnection, raw: str | None) -> TokenInfo:
    """The token's grant, as the REST API checks it (the same cache); StreamError 401 otherwise."""
    if not raw:
        raise StreamError("Missing access token", 401)
    info = await cached_token(_services(conn), raw)
    if info is None:
        raise StreamError("Invalid access token", 401)
    if info.account_id is None:
        raise StreamError("This method requires an authenticated user", 401)
    if info.suspended:
        raise StreamError(LOGIN_DISABLED, 403)
    if not any(grants(info.scopes, s) for s in ("read:statuses", "read:notifications")):
        raise StreamError("Access token does not have the required scopes", 401)
    return info


def _header_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return conn.query_params.get("access_token") or None


@router.get("/api/v1/streaming/health", response_class=PlainTextResponse, summary="Is streaming alive?")
async def health() -> PlainTextResponse:
    return PlainTextResponse("OK")


@router.websocket("/api/v1/streaming")
async def websocket_stream(websocket: WebSocket) -> None:
    raw = _header_token(websocket)
    protocol = websocket.headers.get("sec-websocket-protocol", "").split(",")[0].strip() or None
    try:
        info = await authenticate(websocket, raw or protocol)
    except StreamError as exc:
        await websocket.send_denial_response(error(exc.status, exc.message))
        return
    streaming = _streaming(websocket)
    connection = Connection(info.account_id or 0, info.scopes)
    params = websocket.query_params
    if params.get("stream"):  # subscribed before the upgrade completes, so no event is missed after it
        try:
            connection.subscriptions.add(await checked(websocket, params.get("stream"), tag=params.get("tag"),
                                                       list_id=params.get("list"), info=info))
        except StreamError as exc:
            connection.send(orjson.dumps({"error": exc.message, "status": exc.status}).decode())
    streaming.hub.add(connection)
    writer: asyncio.Task[None] | None = None
    try:
        await websocket.accept(subprotocol=protocol if raw is None else None)
        writer = asyncio.create_task(_pump(websocket, connection))
        while not connection.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            reply = await _control(websocket, connection, message.get("text") or message.get("bytes") or b"", info)
            if reply is not None:
                connection.send(reply)
    except WebSocketDisconnect:
        pass
    finally:
        streaming.hub.remove(connection)
        connection.close()
        if writer is not None:
            writer.cancel()


async def _control(websocket: WebSocket, connection: Connection, text: str | bytes, info: TokenInfo) -> str | None:
    """Handle one client message; an error frame to send back, or None."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.dumps({"error": "Could not parse JSON", "status": 400}).decode()
    if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
        return None  # Mastodon ignores what it does not understand
    try:
        sub = await checked(websocket, message.get("stream"), tag=message.get("tag"), list_id=message.get("list"),
                            info=info)
    except StreamError as exc:
        return orjson.dumps({"error": exc.message, "status": exc.status}).decode()
    if message["type"] == "subscribe":
        connection.subscriptions.add(sub)
    else:
        connection.subscriptions.discard(sub)
    return None


async def _pump(websocket: WebSocket, connection: Connection) -> None:
    try:
        while True:
            frame = await connection.queue.get()
            if frame is None:
                await websocket.close(code=1000)
                return
            await websocket.send_text(frame if isinstance(frame, str) else frame.websocket_text)
    except (WebSocketDisconnect, RuntimeError, OSError):
        connection.close()


async def sse_stream(channel: str, request: Request) -> Response:
    stream = SSE_CHANNELS.get(channel.strip("/"))
    if stream is None:
        return error(400, "Unknown channel requested")
    try:
        info = await authenticate(request, _header_token(request))
        sub = await checked(request, stream, tag=request.query_params.get("tag"),
                            list_id=request.query_params.get("list"), info=info)
    except StreamError as exc:
        return error(exc.status, exc.message)
    streaming = _streaming(request)
    connection = Connection(info.account_id or 0, info.scopes)
    connection.subscriptions.add(sub)
    streaming.hub.add(connection)

    async def events() -> AsyncIterator[str]:
        try:
            yield ":)\n"
            while True:
                try:
                    frame = await asyncio.wait_for(connection.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ":thump\n"
                    continue
                if frame is None:
                    return
                if isinstance(frame, str):  # an error meant for a WebSocket client
                    continue
                yield frame.sse_text()
        finally:
            streaming.hub.remove(connection)
            connection.close()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})



def _channel_route(channel: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return await sse_stream(channel, request)

    endpoint.__name__ = f"sse_{channel.replace('/', '_')}"
    return endpoint


_SSE_SUMMARIES = {"user": "The viewer's home timeline and notifications", "user/notification": "The viewer's notifications",
                  "public": "Public posts", "public/local": "Public posts of this server",
                  "public/remote": "Public posts of other servers (none: no federation)",
                  "hashtag": "Public posts with a hashtag (?tag=)", "hashtag/local": "Local public posts with a hashtag (?tag=)",
                  "list": "Posts of a list (?list=)", "direct": "Direct messages to and from the viewer"}
for _channel in SSE_CHANNELS:  # each of Mastodon's documented paths, declared; then the catch-all for the rest
    router.add_api_route(f"/api/v1/streaming/{_channel}", _channel_route(_channel), methods=["GET"],
                         summary=f"{_SSE_SUMMARIES.get(_channel, 'A stream')}, as server-sent events")
router.add_api_route("/api/v1/streaming/{channel:path}", sse_stream, methods=["GET"], include_in_schema=False)
