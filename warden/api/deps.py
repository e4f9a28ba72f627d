"""What every endpoint can ask for: the running server's services and the authenticated viewer.

Tokens are checked against the database and kept in a short-lived in-process cache, so most requests
need no extra query; revoking a token drops it from this process's cache at once (other processes
forget it within `TOKEN_CACHE_SECONDS`). Suspending or unsuspending an account likewise drops its
tokens from the caches of the process that commits it, as it commits (`platform.auth.login_changed`).

A suspended account's tokens are refused with 403 "Your login is currently disabled" (Mastodon's
answer) everywhere except the few endpoints that declare `require(..., suspended_ok=True)`: reading
one's decisions and statements of reasons, and appealing them.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from warden.config import Settings
from warden.errors import Forbidden, NotFound, Unauthorized
from warden.platform.auth import LOGIN_CHANGED, TokenInfo, digest, lookup_token, lookup_token_direct
from warden.platform.scopes import grants
from warden.policy.gate import ModerationGate
from warden.store.db import Database
from warden.store.models import Account

T = TypeVar("T")
TOKEN_CACHE_SECONDS = 10.0
TOKEN_CACHE_SIZE = 20_000
LOGIN_DISABLED = "Your login is currently disabled"

#: Every TokenCache of this process, so a commit that suspends an account can drop its tokens from each.
_CACHES: weakref.WeakSet[TokenCache] = weakref.WeakSet()


class TokenCache:
    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, TokenInfo | None]] = OrderedDict()
        self._lock = threading.Lock()
        _CACHES.add(self)

    def get(self, key: str) -> tuple[bool, TokenInfo | None]:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return False, None
            return True, item[1]

    def put(self, key: str, info: TokenInfo | None) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + TOKEN_CACHE_SECONDS, info)
            self._items.move_to_end(key)
            while len(self._items) > TOKEN_CACHE_SIZE:
                self._items.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def forget_accounts(self, account_ids: set[int]) -> None:
        """Drop every cached token of these accounts (their suspension changed)."""
        with self._lock:
            for key in [k for k, (_, info) in self._items.items()
                        if info is not None and info.account_id in account_ids]:
                del self._items[key]


@event.listens_for(Session, "after_commit")
def _drop_changed_logins(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: wait for the outer commit
        return
    changed = session.info.pop(LOGIN_CHANGED, None)
    if changed:
        for cache in list(_CACHES):
            cache.forget_accounts(changed)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_logins(session: Session) -> None:
    session.info.pop(LOGIN_CHANGED, None)


@dataclass
class Services:
    """Everything the web layer needs, created once per process by `create_app`."""

    settings: Settings
    db: Database
    gate: ModerationGate
    tokens: TokenCache
    extras: dict[str, Any]


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


#: Whether this request's database work runs on the event loop itself (set per request by `create_app`).
#: On SQLite a query is local CPU work of a millisecond or two: handing it to a thread only adds a GIL
#: contest between the thread and the event loop, and measured throughput halves. On PostgreSQL,
#: which waits on the network, the threadpool keeps the loop free.
INLINE_DATABASE: ContextVar[bool] = ContextVar("warden_inline_database", default=False)


async def run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run database work: inline on SQLite, in the threadpool otherwise."""
    if INLINE_DATABASE.get():
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run slow CPU work that releases the GIL (password hashing, the detector) in the threadpool."""
    return await run_in_threadpool(fn, *args, **kwargs)


@dataclass(frozen=True)
class Viewer:
    token: TokenInfo
    raw_token: str

    @property
    def account_id(self) -> int:
        assert self.token.account_id is not None
        return self.token.account_id

    def account_in(self, session: Session) -> Account:
        """The viewer's account, loaded in `session` (404 if it was deleted meanwhile)."""
        account = session.get(Account, self.account_id)
        if account is None:
            raise NotFound()
        return account


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


async def cached_token(svc: Services, raw: str) -> TokenInfo | None:
    """The token `raw` stands for (None: unknown or revoked), from this process's cache when it can."""
    key = digest(raw)
    hit, info = svc.tokens.get(key)
    if not hit:
        def lookup() -> TokenInfo | None:
            if svc.db.direct_reads:
                with svc.db.direct_read() as conn:
                    return lookup_token_direct(conn, raw)
            with svc.db.read() as session:
                return lookup_token(session, raw)
        info = await run(lookup)
        svc.tokens.put(key, info)
    return info


async def token_info(request: Request, *, suspended_ok: bool = False) -> tuple[str, TokenInfo] | None:
    """The bearer token and what it grants (None: no token sent). An unknown or revoked token is
    refused with 401; a suspended account's token with 403, unless `suspended_ok`."""
    raw = bearer_token(request)
    if raw is None:
        return None
    info = await cached_token(services(request), raw)
    if info is None:
        raise Unauthorized("The access token is invalid")
    if info.suspended and not suspended_ok:
        raise Forbidden(LOGIN_DISABLED)
    return raw, info


def require(scope: str, *, user: bool = True, suspended_ok: bool = False) -> Callable[[Request], Awaitable[Viewer]]:
    """A dependency: a token granting `scope` (and, with `user`, belonging to an account).
    `suspended_ok`: a suspended account's token is accepted too (only for reading one's own decisions
    and appealing them)."""

    async def dependency(request: Request) -> Viewer:
        found = await token_info(request, suspended_ok=suspended_ok)
        if found is None:
            raise Unauthorized("The access token is invalid")
        raw, info = found
        if user and info.account_id is None:
            raise Unauthorized("This method requires an authenticated user")
        if not grants(info.scopes, scope):
            raise Forbidden("This action is outside the authorized scopes")
        return Viewer(token=info, raw_token=raw)

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


async def optional_viewer(request: Request) -> Viewer | None:
    """The viewer when a valid user token is sent; None for anonymous requests."""
    found = await token_info(request)
    if found is None or found[1].account_id is None:
        return None
    return Viewer(token=found[1], raw_token=found[0])


def viewer_id(viewer: Viewer | None) -> int | None:
    return viewer.account_id if viewer is not None else None


# --- moderation: staff roles and partner tokens -------------------------------------------------

STAFF_ROLES = ("moderator", "senior", "admin")
SENIOR_ROLES = ("senior", "admin")


@dataclass(frozen=True)
class Staff:
    """A staff member: a token with the admin scope asked for, on an account whose role allows it."""

    viewer: Viewer
    account: Any  # warden.store.models.Account (detached, read-only)

    @property
    def account_id(self) -> int:
        return self.viewer.account_id


def require_staff(scope: str, *, senior: bool = False) -> Callable[[Request], Awaitable[Staff]]:
    """A dependency: `scope` on the token *and* a moderator role on the account (senior: senior or admin).
    A plain user's token is refused with 403 even when it carries an admin scope."""
    token_dependency = require(scope)
    roles = SENIOR_ROLES if senior else STAFF_ROLES

    async def dependency(request: Request) -> Staff:
        viewer = await token_dependency(request)
        svc = services(request)

        def load() -> Any:
            with svc.db.read() as session:
                return session.get(Account, viewer.account_id)

        account = await run(load)
        if account is None or account.role not in roles or account.suspended_at is not None:
            raise Forbidden("This action needs a senior moderator" if senior else "This action needs a moderator")
        return Staff(viewer=viewer, account=account)

    dependency.__name__ = f"require_staff_{scope.replace(':', '_')}"
    return dependency


async def require_partner(request: Request) -> Any:
    """A dependency: the partner whose token (`warden create-partner`) is the bearer token."""
    raw = bearer_token(request)
    if raw is None:
        raise Unauthorized("This endpoint needs a partner token (create one with `warden create-partner`)")
    svc = services(request)

    def load() -> Any:
        from warden.cases.notices import partner_for_token

        with svc.db.read() as session:
            return partner_for_token(session, raw)

    partner = await run(load)
    if partner is None:
        raise Unauthorized("The partner token is invalid")
    return partner
