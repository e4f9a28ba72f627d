"""Test helpers: make users, tokens and clients against a live server without repeating setup."""

from __future__ import annotations

import itertools
import signal
import subprocess
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from warden.config import Settings
from warden.platform import accounts, auth
from warden.platform.auth import hash_password
from warden.store.db import Database

T = TypeVar("T")
PASSWORD = "test-password-123"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose
_counter = itertools.count(1)


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}_{secrets.token_hex(3)}"


@dataclass
class User:
    id: int
    username: str
    email: str
    token: str
    server: "LiveServer"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=self.headers, timeout=30)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        with self.http() as c:
            return c.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        with self.http() as c:
            return c.post(path, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self.http() as c:
            return c.request(method, path, **kwargs)


@dataclass
class LiveServer:
    url: str
    settings: Settings
    db: Database
    backend: str
    extras: dict[str, Any] = field(default_factory=dict)

    def user(self, prefix: str = "user", *, role: str = "user", scopes: str = "read write follow push",
             username: str | None = None) -> User:
        """A new account with a token of `scopes` (created directly in the database)."""
        name = username or unique_name(prefix)
        email = f"{name}@example.test"
        with self.db.write() as session:
            account = accounts.register(session, username=name, email=email, password=PASSWORD, role=role,
                                        allow_reserved=True, password_hash=_PASSWORD_HASH)
            issued = auth.issue_token(session, app_id=None, account_id=account.id, scopes=scopes)
            return User(id=account.id, username=name, email=email, token=issued.access_token, server=self)

    def token(self, user: User, scopes: str) -> str:
        """Another token for `user` with different scopes."""
        with self.db.write() as session:
            return auth.issue_token(session, app_id=None, account_id=user.id, scopes=scopes).access_token

    def mastodon(self, user: User | None = None) -> Any:
        """An unmodified Mastodon.py client for this server (logged in as `user` when given)."""
        from mastodon import Mastodon

        return Mastodon(access_token=user.token if user else None, api_base_url=self.url,
                        version_check_mode="none" if user is None else "created")


def eventually(check: Callable[[], T | None], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy (the moderation worker is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a `warden` subprocess as Ctrl-C would (SIGINT, so it shuts down cleanly), killing it after 30 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
