"""Console login, sessions, CSRF and roles.

A console session is kept on the server (platform/console_sessions.py, console/session_store.py):
the cookie holds only a random id (HttpOnly, SameSite=Lax, `Secure` when the base URL is https, scoped
to `/console`), the row says who logged in, with which role, and holds the session's CSRF token. It
lasts 12 hours at most and 2 hours idle; logout deletes it, and so do a password change, a role change
and a suspension for all of the account's sessions. The account or partner is re-read on every request
as well, so a demoted, suspended or revoked login stops working at once whatever path changed it.

Staff log in with their account's username or e-mail and password (role moderator, senior or admin;
plain users are refused). Partners log in with their partner name and the token `warden create-partner`
printed (only its SHA-256 is stored, as for the notices API).

Every POST form carries `csrf_token`, compared in constant time with the session's token; a request
whose Origin header names another host is refused as well.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from starlette.datastructures import FormData

from warden.api.deps import run, services
from warden.cases import audit
from warden.cases.notices import partner_for_token
from warden.config import Settings
from warden.console.session_store import state_of
from warden.errors import Forbidden, Unauthorized
from warden.platform.auth import authenticate
from warden.platform.ratelimit import PasswordThrottle
# The server's secret moved to platform/server_key.py (it signs appeal links); kept importable from here.
from warden.platform.server_key import SECRET_FILE, data_dir, secret_key  # noqa: F401
from warden.store.db import Database
from warden.store.models import Account
from warden.store.moderation_models import Partner

SESSION_COOKIE = "warden_console"
SESSION_MAX_AGE = 12 * 3600

MODERATOR = ("moderator", "senior", "admin")
SENIOR = ("senior", "admin")
ADMIN = ("admin",)
PARTNER = ("partner",)


class LoginRequired(Exception):
    """Raised by a page dependency for an anonymous (or expired) visitor: answered with 303 to the login page."""

    def __init__(self, next_path: str = "") -> None:
        super().__init__("login required")
        self.next_path = next_path


@dataclass(frozen=True)
class ConsoleUser:
    kind: str  # staff | partner
    id: int
    name: str
    role: str  # moderator | senior | admin | partner

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_senior(self) -> bool:
        return self.role in SENIOR

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN

    @property
    def home(self) -> str:
        return "/console/queue" if self.is_staff else "/console/partner"


def https_only(settings: Settings) -> bool:
    return settings.base_url.lower().startswith("https://")


# --- logging in --------------------------------------------------------------------------------


def login(db: Database, username: str, password: str, throttle: PasswordThrottle | None = None) -> ConsoleUser:
    """The console user for these credentials, or Unauthorized / Forbidden / RateLimited with a message
    to show.

    A password that starts with `wpt_` is tried as a partner token first (partners log in with their
    name and token); everything else is a staff login, counted by `throttle` (the client address's) as
    the API's password checks are: per account and address, so guessing from one address never locks
    the moderator out from theirs (warden/platform/ratelimit.py)."""
    username, password = (username or "").strip(), password or ""
    if not username or not password:
        raise Unauthorized("Enter your username and password")
    if password.startswith("wpt_"):
        with db.write() as session:
            partner = partner_for_token(session, password)
            if partner is not None and hmac.compare_digest(partner.name.encode(), username.encode()):
                audit.append(session, action="console.login", subject=f"partner:{partner.id}")
                return ConsoleUser(kind="partner", id=partner.id, name=partner.name, role="partner")
    with db.write() as session:
        account = authenticate(session, username, password, throttle=throttle)
        if account.role not in MODERATOR:
            raise Forbidden("This account has no access to the moderator console")
        audit.append(session, action="console.login", subject=f"account:{account.id}", actor_id=account.id)
        return ConsoleUser(kind="staff", id=account.id, name=account.username, role=account.role)


def start_session(request: Request, user: ConsoleUser) -> None:
    """A fresh session for `user`: a new id (the old one is deleted), nothing carried over from
    before the login, a new CSRF token."""
    state = state_of(request.scope)
    state.login, state.ended = (user.kind, user.id, user.role), False
    request.session.clear()
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    """Log out: the session's row is deleted, so a copy of the cookie is refused from now on."""
    state = state_of(request.scope)
    state.login, state.ended = None, True
    request.session.clear()


def load_user(db: Database, account_id: int | None, partner_id: int | None, role: str | None) -> ConsoleUser | None:
    """The console user of a live session: a staff account still holding the role it logged in with
    and not suspended, or a partner not revoked."""
    with db.read() as session:
        if account_id is not None:
            account = session.get(Account, account_id)
            if account is None or account.role not in MODERATOR or account.role != role or \
                    account.suspended_at is not None:
                return None
            return ConsoleUser(kind="staff", id=account.id, name=account.username, role=account.role)
        if partner_id is not None:
            partner = session.get(Partner, partner_id)
            if partner is None or partner.revoked_at is not None:
                return None
            return ConsoleUser(kind="partner", id=partner.id, name=partner.name, role="partner")
    return None


async def session_user(request: Request) -> ConsoleUser | None:
    """Who this request's session belongs to, if it is a live login."""
    state = state_of(request.scope)
    if state.raw is None or (state.account_id is None and state.partner_id is None):
        return None
    return await run(load_user, services(request).db, state.account_id, state.partner_id, state.role)


def safe_next(value: str | None, default: str) -> str:
    """Only paths inside the console are followed after login (no open redirects)."""
    if value and value.startswith("/console/") and "//" not in value and "\\" not in value \
            and not urlsplit(value).netloc:
        return value
    return default


def landing(user: ConsoleUser, next_path: str) -> str:
    """Where to go after logging in: `next_path` when it is a page for this kind of login, else home."""
    wanted = safe_next(next_path, user.home)
    return wanted if wanted.startswith("/console/partner") == (user.kind == "partner") else user.home


def login_url(next_path: str = "") -> str:
    return "/console/login" + (f"?next={quote(next_path, safe='/')}" if next_path else "")


# --- CSRF --------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use, e.g. for the login form)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _same_origin(request: Request) -> bool:
    """No Origin header (older browsers), or the server's own: its Host, or the public base URL's host
    (behind a reverse proxy the Host header may name the backend instead)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc.lower()
    return bool(netloc) and netloc in ((request.headers.get("host") or "").lower(),
                                       urlsplit(services(request).settings.base_url).netloc.lower())


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's (403 otherwise)."""
    form = await request.form()
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or \
            not hmac.compare_digest(sent.encode(), expected.encode()) or not _same_origin(request):
        raise Forbidden("The form has expired or did not come from this console: reload the page and try again")
    return form


# --- roles -------------------------------------------------------------------------------------


def current_user(request: Request) -> ConsoleUser | None:
    cached = getattr(request.state, "console_user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    return None


def need(*roles: str) -> Callable[[Request], Awaitable[ConsoleUser]]:
    """A page dependency: a logged-in console user whose role is one of `roles`.

    Anonymous visitors get LoginRequired (303 to the login page); others get 403."""

    async def dependency(request: Request) -> ConsoleUser:
        user = await session_user(request)
        if user is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method == "GET" else "")
        request.state.console_user = user
        if user.role not in roles:
            raise Forbidden(f"This page is for {', '.join(roles)} logins")
        return user

    dependency.__name__ = "need_" + "_".join(roles)
    return dependency


def flash(request: Request, message: str, kind: str = "ok") -> None:
    request.session["flash"] = {"message": message[:500], "kind": kind}


def pop_flash(request: Request) -> dict[str, Any] | None:
    value = request.session.pop("flash", None)
    return value if isinstance(value, dict) else None
