"""Passwords, OAuth applications, authorization codes and access tokens.

Secrets (tokens, codes, client secrets) are random; tokens and codes are stored only as SHA-256
digests, so a database dump does not hand out sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from warden.errors import Forbidden, Unauthorized, ValidationFailed
from warden.platform.scopes import parse_scopes, validate_scopes
from warden.store.direct import compile_direct
from warden.store.models import Account, OAuthApp, OAuthCode, OAuthToken, utcnow

if TYPE_CHECKING:
    from warden.platform.ratelimit import PasswordThrottle

OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
CODE_LIFETIME = timedelta(minutes=10)

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, made with the same parameters as real ones."""
    return _hasher.hash(secrets.token_urlsafe(32))


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. Without a hash (an unknown account) a dummy hash is verified
    instead, so a wrong name costs the same Argon2 work as a wrong password and login times do not
    tell which accounts exist."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- applications -----------------------------------------------------------------------------


def create_app(session: Session, *, name: str, redirect_uris: str, scopes: str = "read",
               website: str | None = None) -> OAuthApp:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Validation failed: Application name can't be blank")
    if len(name) > 200:
        raise ValidationFailed("Validation failed: Application name is too long")
    uris = [u.strip() for u in (redirect_uris or "").split() if u.strip()]
    if not uris:
        raise ValidationFailed("Validation failed: Redirect URI can't be blank")
    for uri in uris:
        if uri != OOB_REDIRECT and "://" not in uri:
            raise ValidationFailed(f"Validation failed: Redirect URI must be an absolute URI: {uri}")
    app = OAuthApp(
        name=name,
        website=website or None,
        redirect_uris="\n".join(uris),
        scopes=" ".join(validate_scopes(scopes or "read")),
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
    )
    session.add(app)
    session.flush()
    return app


def find_app(session: Session, client_id: str | None, client_secret: str | None = None) -> OAuthApp:
    """The app with these credentials (the secret is checked when given)."""
    app = session.scalar(select(OAuthApp).where(OAuthApp.client_id == (client_id or "")))
    if app is None:
        raise Unauthorized("Client authentication failed due to unknown client")
    if client_secret is not None and not hmac.compare_digest(app.client_secret, client_secret):
        raise Unauthorized("Client authentication failed due to unknown client")
    return app


def _requested_scopes(app: OAuthApp, scope: str | None) -> str:
    """The scopes asked for, which must be a subset of the app's."""
    wanted = validate_scopes(scope or app.scopes)
    if not parse_scopes(" ".join(wanted)) <= parse_scopes(app.scopes):
        raise Forbidden("The requested scope is invalid, unknown, or malformed.")
    return " ".join(wanted)


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scope: str
    created_at: int


def issue_token(session: Session, *, app_id: int | None, account_id: int | None, scopes: str) -> IssuedToken:
    raw = secrets.token_urlsafe(32)
    row = OAuthToken(token_hash=digest(raw), app_id=app_id, account_id=account_id, scopes=scopes)
    session.add(row)
    session.flush()
    return IssuedToken(access_token=raw, scope=scopes, created_at=int(row.created_at.timestamp()))


def revoke_token(session: Session, raw_token: str) -> None:
    session.execute(
        update(OAuthToken)
        .where(OAuthToken.token_hash == digest(raw_token), OAuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


@dataclass(frozen=True)
class TokenInfo:
    token_id: int
    app_id: int | None
    account_id: int | None
    scopes: frozenset[str]
    #: The token's account is suspended: the API refuses the token everywhere except where a suspended
    #: user may still go (their decisions and appeals), as Mastodon does, with 403.
    suspended: bool = False


#: Built once: a token lookup runs on many requests, and building the statement cost more than running it.
_TOKEN_BY_HASH = (
    select(OAuthToken.id, OAuthToken.app_id, OAuthToken.account_id, OAuthToken.scopes,
           Account.suspended_at.is_not(None).label("suspended"))
    .outerjoin(Account, Account.id == OAuthToken.account_id)
    .where(OAuthToken.token_hash == bindparam("token_hash"), OAuthToken.revoked_at.is_(None))
)
_TOKEN_BY_HASH_DIRECT = compile_direct(_TOKEN_BY_HASH, frozenset({"suspended"}))


#: `session.info` key: ids of accounts whose login this transaction suspended or restored; once it
#: commits, the API's token caches drop those accounts' tokens (warden/api/deps.py).
LOGIN_CHANGED = "warden_login_changed_accounts"


def login_changed(session: Session, account_id: int) -> None:
    """Note that `account_id`'s tokens must be looked up afresh once this transaction commits."""
    session.info.setdefault(LOGIN_CHANGED, set()).add(account_id)


def lookup_token(session: Session, raw_token: str) -> TokenInfo | None:
    return _token_info(session.connection().execute(_TOKEN_BY_HASH, {"token_hash": digest(raw_token)}).first())


def lookup_token_direct(conn: sqlite3.Connection, raw_token: str) -> TokenInfo | None:
    """`lookup_token` on SQLite's own connection (`Database.direct_read`): a request's token, read
    without an ORM session when this process has not cached it."""
    rows = _TOKEN_BY_HASH_DIRECT.rows(conn, token_hash=digest(raw_token))
    return _token_info(rows[0] if rows else None)


def _token_info(row: Any) -> TokenInfo | None:
    if row is None:
        return None
    return TokenInfo(row.id, row.app_id, row.account_id, parse_scopes(row.scopes), suspended=bool(row.suspended))


# --- grants -----------------------------------------------------------------------------------


def authenticate(session: Session, login: str, password: str, *,
                 throttle: PasswordThrottle | None = None, allow_suspended: bool = False) -> Account:
    """The account for a username or e-mail address and password. With a `throttle` (one client
    address's), past its limits the password is not checked at all: RateLimited (429).
    `allow_suspended`: a suspended account signs in too (only to read its decisions and appeal)."""
    login = (login or "").strip().lower()
    account = session.scalar(
        select(Account).where((Account.email == login) | (Account.username_key == login))
    )
    # One count per account whether it is named by username or e-mail; an unknown name by itself.
    key = f"account:{account.id}" if account is not None else f"name:{login[:320]}"
    if throttle is not None:
        throttle.before(key)
    if not check_password(account.password_hash if account is not None else None, password or ""):
        if throttle is not None:
            throttle.failed(key)
        raise Unauthorized("Invalid username or password")
    assert account is not None
    if throttle is not None:
        throttle.succeeded(key)
    if account.suspended_at is not None and not allow_suspended:
        raise Forbidden("Your login is currently disabled")
    return account


def create_code(session: Session, *, app: OAuthApp, account_id: int, redirect_uri: str, scope: str | None,
                code_challenge: str | None, code_challenge_method: str | None) -> str:
    if redirect_uri not in app.redirect_uris.split("\n"):
        raise ValidationFailed("The redirect uri included is not valid.")
    if code_challenge and (code_challenge_method or "plain") not in ("S256", "plain"):
        raise ValidationFailed("Invalid code_challenge_method: use S256")
    raw = secrets.token_urlsafe(32)
    session.add(OAuthCode(
        code_hash=digest(raw), app_id=app.id, account_id=account_id, redirect_uri=redirect_uri,
        scopes=_requested_scopes(app, scope), code_challenge=code_challenge or None,
        code_challenge_method=(code_challenge_method or "plain") if code_challenge else None,
        expires_at=utcnow() + CODE_LIFETIME,
    ))
    return raw


def _pkce_matches(code: OAuthCode, verifier: str | None) -> bool:
    if code.code_challenge is None:
        return True
    if not verifier:
        return False
    if code.code_challenge_method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    else:
        computed = verifier
    return hmac.compare_digest(computed, code.code_challenge)


def exchange(session: Session, params: dict[str, str], *, throttle: PasswordThrottle | None = None) -> IssuedToken:
    """POST /oauth/token for the grants Warden supports (`throttle`: the client's, for the password grant)."""
    grant = params.get("grant_type")
    app = find_app(session, params.get("client_id"), params.get("client_secret"))
    if grant == "authorization_code":
        code = session.scalar(select(OAuthCode).where(OAuthCode.code_hash == digest(params.get("code") or "")))
        now = utcnow()
        if code is None or code.app_id != app.id or code.used_at is not None or code.expires_at < now:
            raise ValidationFailed("The provided authorization grant is invalid, expired, revoked, "
                                   "does not match the redirection URI used in the authorization request, "
                                   "or was issued to another client.")
        if params.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            raise ValidationFailed("The redirect uri included is not valid.")
        if not _pkce_matches(code, params.get("code_verifier")):
            raise ValidationFailed("The code_verifier does not match the code_challenge.")
        code.used_at = now
        return issue_token(session, app_id=app.id, account_id=code.account_id, scopes=code.scopes)
    if grant == "password":
        account = authenticate(session, params.get("username", ""), params.get("password", ""), throttle=throttle)
        return issue_token(session, app_id=app.id, account_id=account.id,
                           scopes=_requested_scopes(app, params.get("scope")))
    if grant == "client_credentials":
        return issue_token(session, app_id=app.id, account_id=None,
                           scopes=_requested_scopes(app, params.get("scope")))
    raise ValidationFailed("The authorization grant type is not supported by the authorization server.")
