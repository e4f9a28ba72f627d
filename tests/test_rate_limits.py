"""Rate limits (issue 29 item 3): password guessing, sign-ups, posts, reports and notices are
throttled with Mastodon's 429 and `X-RateLimit-*` headers, and nobody can lock out another address.

Each test installs a fresh limiter with the limits it needs (`limits`), so counts never leak between
tests; "another address" is a client bound to 127.0.0.2 (the server sees the peer address).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.conftest import _free_port, start_server
from tests.helpers import PASSWORD, LiveServer, unique_name
from warden.cases.notices import create_partner
from warden.config import RateLimits, Settings
from warden.platform.ratelimit import Limiter

REDIS = "redis://127.0.0.1:6379/0"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def limits(server: LiveServer) -> Iterator[Callable[..., Limiter]]:
    """`limits(login="3/minute", ...)`: a fresh limiter with these rules installed in the live server."""
    services = _services(server)
    before = services.extras["ratelimit"]

    def install(**rules: str) -> Limiter:
        limiter = Limiter(RateLimits(**rules))
        services.extras["ratelimit"] = limiter
        return limiter

    yield install
    services.extras["ratelimit"] = before


def _services(server: LiveServer):  # type: ignore[no-untyped-def]
    """The live app's services: the session's server runs in this process, and holds its database."""
    import gc

    from warden.api.deps import Services

    for obj in gc.get_referrers(server.db):
        if isinstance(obj, Services) and obj.settings == server.settings:
            return obj
    raise AssertionError("the live server's services were not found")


def client_from(server: LiveServer, address: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, transport=httpx.HTTPTransport(local_address=address))


def oauth_app(http: httpx.Client, scopes: str = "read write") -> dict[str, str]:
    app = http.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                          "scopes": scopes})
    assert app.status_code == 200, app.text
    return app.json()  # type: ignore[no-any-return]


def password_grant(http: httpx.Client, app: dict[str, str], username: str, password: str) -> httpx.Response:
    return http.post("/oauth/token", data={"grant_type": "password", "client_id": app["client_id"],
                                           "client_secret": app["client_secret"], "username": username,
                                           "password": password, "scope": "read"})


def assert_throttled(response: httpx.Response, limit: int, remaining: int = 0) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    reset = datetime.fromisoformat(response.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert datetime.now(UTC) < reset
    assert int(response.headers["Retry-After"]) >= 1


def test_the_21st_wrong_password_is_refused_but_the_owner_logs_in_from_elsewhere(
        server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(login="20/minute", login_address="1000/minute")
    victim = server.user("victim")
    with client_from(server) as attacker, client_from(server, "127.0.0.2") as owner:
        app = oauth_app(attacker)
        codes = [password_grant(attacker, app, victim.username, f"guess-{n}").status_code for n in range(20)]
        assert codes == [400] * 20
        refused = password_grant(attacker, app, victim.username, "guess-21")
        assert_throttled(refused, 20)
        assert refused.json() == {"error": "Too many requests"}
        # The right password from this address waits too (the address is guessing)...
        assert password_grant(attacker, app, victim.username, PASSWORD).status_code == 429
        # ...by e-mail as well: one count per account, however it is named.
        assert password_grant(attacker, app, victim.email, PASSWORD).status_code == 429
        # The owner, from another address, is never locked out.
        mine = password_grant(owner, app, victim.username, PASSWORD)
        assert mine.status_code == 200, mine.text
        assert mine.json()["access_token"]


def test_unknown_accounts_are_throttled_alike_and_addresses_have_their_own_limit(
        server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(login="3/minute", login_address="5/minute")
    known = server.user("sprayed")
    with client_from(server) as http, client_from(server, "127.0.0.2") as other:
        app = oauth_app(http)
        ghost = unique_name("ghost")
        assert [password_grant(http, app, ghost, "x").status_code for _ in range(3)] == [400] * 3
        assert password_grant(http, app, ghost, "x").status_code == 429
        # Two more wrong passwords on other names reach this address's limit (5 wrong in all)...
        assert password_grant(http, app, unique_name("ghost"), "x").status_code == 400
        assert password_grant(http, app, known.username, "x").status_code == 400
        assert_throttled(password_grant(http, app, unique_name("ghost"), "x"), 5)
        # ...which holds for every account from here, and for none from elsewhere.
        assert password_grant(http, app, known.username, PASSWORD).status_code == 429
        assert password_grant(other, app, known.username, PASSWORD).status_code == 200


def test_a_right_password_clears_the_count(server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(login="3/minute")
    user = server.user("typo")
    with client_from(server) as http:
        app = oauth_app(http)
        for _ in range(2):
            assert password_grant(http, app, user.username, "typo").status_code == 400
            assert password_grant(http, app, user.username, PASSWORD).status_code == 200
        assert password_grant(http, app, user.username, "typo").status_code == 400


def test_the_authorize_form_is_throttled(server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(login="2/minute")
    user = server.user("form")
    with client_from(server) as http:
        app = oauth_app(http)
        form = {"client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "response_type": "code",
                "scope": "read", "username": user.username, "password": "wrong"}
        assert [http.post("/oauth/authorize", data=form).status_code for _ in range(2)] == [401, 401]
        refused = http.post("/oauth/authorize", data=form)
        assert_throttled(refused, 2)
        assert "text/html" in refused.headers["content-type"]


def test_registration_is_limited_per_address(server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(registration="2/5 minutes")
    with client_from(server) as http, client_from(server, "127.0.0.2") as other:
        app = oauth_app(http, "read write")
        token = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                "client_secret": app["client_secret"], "scope": "read write"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        def register(client: httpx.Client) -> httpx.Response:
            name = unique_name("signup")
            return client.post("/api/v1/accounts", headers=headers, data={
                "username": name, "email": f"{name}@example.test", "password": "long-enough-1", "agreement": "true"})

        first = register(http)
        assert first.status_code == 200, first.text
        assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
        assert register(http).status_code == 200
        assert_throttled(register(http), 2)
        assert register(other).status_code == 200


def test_posting_and_reports_are_limited_per_account(server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(statuses="3/hour", reports="1/day")
    author, other = server.user("poster"), server.user("poster")
    for n in range(3):
        response = author.post("/api/v1/statuses", data={"status": f"post {n}"})
        assert response.status_code == 200, response.text
        assert response.headers["X-RateLimit-Remaining"] == str(2 - n)
    assert_throttled(author.post("/api/v1/statuses", data={"status": "one too many"}), 3)
    assert other.post("/api/v1/statuses", data={"status": "mine still goes"}).status_code == 200

    assert author.post("/api/v1/reports", data={"account_id": str(other.id), "comment": "spam"}).status_code == 200
    assert_throttled(author.post("/api/v1/reports", data={"account_id": str(other.id), "comment": "spam"}), 1)


def test_notices_are_limited_per_partner(server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(notices="4/hour")
    with server.db.write() as session:
        _, first = create_partner(session, unique_name("hostco"))
        _, second = create_partner(session, unique_name("hostco"))
    author = server.user("noticed")
    status = author.post("/api/v1/statuses", data={"status": "noticed"}).json()

    def batch(token: str, size: int) -> httpx.Response:
        notices = [{"url": status["url"], "category": "violence", "explanation": f"item {n}"} for n in range(size)]
        with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
            return http.post("/api/warden/v1/notices", json={"notices": notices})

    accepted = batch(first, 3)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["X-RateLimit-Remaining"] == "1"
    assert_throttled(batch(first, 2), 4, remaining=1)  # each notice counts: 3 + 2 > 4
    assert batch(first, 1).status_code == 202
    assert batch(second, 4).status_code == 202


def test_console_login_is_not_locked_out_from_another_address(
        server: LiveServer, limits: Callable[..., Limiter]) -> None:
    limits(login="5/minute")
    moderator = server.user("mod", role="moderator")

    def attempt(http: httpx.Client, password: str) -> httpx.Response:
        csrf = _CSRF.search(http.get("/console/login").text)
        assert csrf
        return http.post("/console/login", data={"username": moderator.username, "password": password,
                                                 "csrf_token": csrf.group(1)})

    with client_from(server) as attacker, client_from(server, "127.0.0.2") as owner:
        assert [attempt(attacker, "wrong").status_code for _ in range(5)] == [401] * 5
        refused = attempt(attacker, "wrong")
        assert_throttled(refused, 5)
        assert "Too many failed attempts" in refused.text
        assert attempt(attacker, PASSWORD).status_code == 429
        assert attempt(owner, PASSWORD).status_code == 303


@pytest.fixture
def redis_pair(server: LiveServer) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two more app instances on this database whose limits live in one Redis (a fresh key prefix)."""
    limits = RateLimits(storage=REDIS, key_prefix=f"warden-test-{secrets.token_hex(6)}", login="3/minute")
    started = []
    for _ in range(2):
        port = _free_port()
        settings = Settings(database_url=server.settings.database_url, base_url=f"http://127.0.0.1:{port}",
                            detection_enabled=False, rate_limits=limits)
        srv, thread, db = start_server(settings, worker=False)
        started.append((srv, thread, db, LiveServer(url=settings.base_url, settings=settings, db=db,
                                                   backend=server.backend)))
    yield started[0][3], started[1][3]
    for srv, thread, db, _ in started:
        srv.should_exit = True
        thread.join(timeout=10)
        db.dispose()


def test_redis_counts_are_shared_by_processes(server: LiveServer, redis_pair: tuple[LiveServer, LiveServer]) -> None:
    first, second = redis_pair
    user = server.user("shared")
    with client_from(first) as a, client_from(second) as b:
        app = oauth_app(a)
        assert password_grant(a, app, user.username, "x").status_code == 400
        assert password_grant(b, app, user.username, "x").status_code == 400
        assert password_grant(a, app, user.username, "x").status_code == 400
        assert_throttled(password_grant(b, app, user.username, "x"), 3)
        assert_throttled(password_grant(a, app, user.username, PASSWORD), 3)
