"""Console sessions live on the server (issue 29 item 4): a cookie copied before logout, or before a
password change, role change or suspension, is refused afterwards."""

from __future__ import annotations

import hashlib

import httpx
from sqlalchemy import func, select

from tests.console.conftest import console_client, csrf_of
from tests.helpers import PASSWORD, LiveServer
from warden.console.auth import SESSION_COOKIE
from warden.platform import accounts
from warden.store.models import Account
from warden.store.moderation_models import ConsoleSession


def _replay(server: LiveServer, cookie: str) -> httpx.Response:
    """A request from another client that copied the cookie."""
    with httpx.Client(base_url=server.url, timeout=30, cookies={SESSION_COOKIE: cookie}) as thief:
        return thief.get("/console/queue", follow_redirects=False)


def _sessions_of(server: LiveServer, account_id: int) -> int:
    with server.db.read() as session:
        return session.scalar(select(func.count()).select_from(ConsoleSession)
                              .where(ConsoleSession.account_id == account_id)) or 0


def test_a_cookie_copied_before_logout_is_refused_after_it(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    with console_client(server, moderator.username) as http:
        page = http.get("/console/queue")
        copied = http.cookies[SESSION_COOKIE]
        assert _replay(server, copied).status_code == 200  # the copy works while the session lasts
        # The cookie is only a random id: the server keeps its SHA-256, and who is logged in.
        with server.db.read() as session:
            row = session.get(ConsoleSession, hashlib.sha256(copied.encode()).hexdigest())
            assert row is not None and row.account_id == moderator.id and row.role == "moderator"
        assert moderator.username not in copied and "." not in copied
        out = http.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
    refused = _replay(server, copied)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/console/login")
    assert _sessions_of(server, moderator.id) == 0


def test_a_new_login_gets_a_new_session_id(server: LiveServer, client: httpx.Client) -> None:
    moderator = server.user("mod", role="moderator")
    page = client.get("/console/login")
    before = client.cookies[SESSION_COOKIE]  # the anonymous visit holding the login form's CSRF token
    assert _replay(server, before).status_code == 303
    done = client.post("/console/login", data={"username": moderator.username, "password": PASSWORD,
                                               "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert done.status_code == 303
    after = client.cookies[SESSION_COOKIE]
    assert after != before and _replay(server, after).status_code == 200
    assert _replay(server, before).status_code == 303  # the pre-login id never becomes a login


def test_a_role_change_ends_every_session_of_the_account(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    with console_client(server, moderator.username) as first, console_client(server, moderator.username) as second:
        cookies = [first.cookies[SESSION_COOKIE], second.cookies[SESSION_COOKIE]]
        assert _sessions_of(server, moderator.id) == 2
        with server.db.write() as session:  # a promotion too: the new role means a new login
            accounts.set_role(session, session.get(Account, moderator.id), "senior")  # type: ignore[arg-type]
        assert _sessions_of(server, moderator.id) == 0
        assert [_replay(server, c).status_code for c in cookies] == [303, 303]
        assert first.get("/console/queue", follow_redirects=False).status_code == 303
    with console_client(server, moderator.username) as again:  # logging in again works, with the new role
        assert again.get("/console/queue").status_code == 200


def test_a_role_changed_behind_the_services_back_still_ends_the_session(server: LiveServer) -> None:
    moderator = server.user("mod", role="senior")
    with console_client(server, moderator.username) as http:
        with server.db.write() as session:
            session.get(Account, moderator.id).role = "moderator"  # type: ignore[union-attr]
        assert http.get("/console/queue", follow_redirects=False).status_code == 303


def test_a_password_change_ends_every_session_of_the_account(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    with console_client(server, moderator.username) as http:
        copied = http.cookies[SESSION_COOKIE]
        with server.db.write() as session:
            account = session.get(Account, moderator.id)
            assert account is not None
            accounts.set_password(session, account, "a new pass phrase")
        assert _replay(server, copied).status_code == 303
    with console_client(server, moderator.username, "a new pass phrase") as again:
        assert again.get("/console/queue").status_code == 200


def test_suspension_through_the_admin_api_ends_the_console_session(server: LiveServer) -> None:
    moderator, admin = server.user("mod", role="moderator"), server.user("admin", role="admin",
                                                                          scopes="read write admin:read admin:write")
    with console_client(server, moderator.username) as http:
        copied = http.cookies[SESSION_COOKIE]
        assert _replay(server, copied).status_code == 200
        done = admin.post(f"/api/v1/admin/accounts/{moderator.id}/action", data={"type": "suspend", "text": "abuse"})
        assert done.status_code == 200, done.text
        assert _sessions_of(server, moderator.id) == 0
        assert _replay(server, copied).status_code == 303
        # Lifting the suspension does not bring the old session back.
        assert admin.post(f"/api/v1/admin/accounts/{moderator.id}/unsuspend").status_code == 200
        assert _replay(server, copied).status_code == 303
