"""The console's session middleware: `request.session` kept on the server (platform/console_sessions.py).

It replaces Starlette's `SessionMiddleware` (a signed cookie that cannot be revoked) with the same
interface for the pages: `request.session` is a dict, loaded from the session row before the page
runs and written back, if it changed, before the response starts. The cookie carries only the
session's random id (HttpOnly, SameSite=Lax, `Secure` on https, path /console).

Pages log in and out through `auth.start_session` / `auth.end_session`, which mark the request's
`SessionState`: a login always gets a fresh id (no fixation), a logout deletes the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warden.api.deps import run
from warden.platform import console_sessions
from warden.store.db import Database

STATE_KEY = "warden.console_session"


@dataclass
class SessionState:
    """One request's view of its session; `auth` reads the login from it and marks logins and logouts."""

    raw: str | None = None
    account_id: int | None = None
    partner_id: int | None = None
    role: str | None = None
    loaded: dict[str, Any] = field(default_factory=dict)
    #: Set by `auth.start_session`: (kind, id, role) of the login to open a fresh session for.
    login: tuple[str, int, str] | None = None
    #: Set by `auth.end_session`.
    ended: bool = False


def state_of(scope: Scope) -> SessionState:
    state = scope.get(STATE_KEY)
    if not isinstance(state, SessionState):
        state = scope[STATE_KEY] = SessionState()
    return state


def _load(db: Database, raw: str) -> console_sessions.Found | None:
    with db.read() as session:
        result = console_sessions.find(session, raw)
    if result is None:
        return None
    found, due = result
    if due:
        with db.write() as session:
            console_sessions.touch(session, raw)
    return found


def _persist(db: Database, state: SessionState, data: dict[str, Any]) -> str | None:
    """Write the request's session back; returns the new raw id when the cookie must change, "" when
    it must be cleared, None when it stays as it is."""
    with db.write() as session:
        if state.login is not None:
            if state.raw:
                console_sessions.close(session, state.raw)
            kind, ident, role = state.login
            return console_sessions.open_session(
                session, data, account_id=ident if kind == "staff" else None,
                partner_id=ident if kind == "partner" else None, role=role)
        if state.ended:
            if state.raw:
                console_sessions.close(session, state.raw)
            if not data:
                return ""
            return console_sessions.open_session(session, data)
        if data == state.loaded:
            return None
        if state.raw:
            console_sessions.save(session, state.raw, data)
            return None
        return console_sessions.open_session(session, data) if data else None


class ServerSessionMiddleware:
    def __init__(self, app: ASGIApp, *, db: Database, cookie: str, max_age: int, https_only: bool,
                 path: str = "/console") -> None:
        self.app, self.db, self.cookie, self.max_age, self.path = app, db, cookie, max_age, path
        self.flags = "; HttpOnly; SameSite=lax" + ("; Secure" if https_only else "")

    def _cookie_header(self, raw: str) -> str:
        if not raw:
            return f"{self.cookie}=; Path={self.path}; Max-Age=0{self.flags}"
        return f"{self.cookie}={raw}; Path={self.path}; Max-Age={self.max_age}{self.flags}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("path", "").startswith("/static/"):
            scope.setdefault("session", {})
            await self.app(scope, receive, send)
            return
        state = state_of(scope)
        raw = HTTPConnection(scope).cookies.get(self.cookie) or ""
        found = await run(_load, self.db, raw) if raw else None
        if found is not None:
            state.raw, state.account_id, state.partner_id, state.role = raw, found.account_id, found.partner_id, \
                found.role
            state.loaded = found.data
        scope["session"] = dict(state.loaded)

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                data = scope["session"] if isinstance(scope.get("session"), dict) else {}
                new_raw = await run(_persist, self.db, state, data)
                if new_raw is None and raw and found is None:
                    new_raw = ""  # a cookie for no live session: clear it
                if new_raw is not None:
                    MutableHeaders(scope=message).append("set-cookie", self._cookie_header(new_raw))
            await send(message)

        await self.app(scope, receive, send_with_session)

