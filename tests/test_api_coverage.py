"""Every Mastodon operation Warden declares is routed and never fails (issue 33's coverage bar).

bench/api_coverage.py counts the Mastodon client API operations (tests/data/mastodon_operations.json)
that Warden's /openapi.json declares. This module checks a weaker property than "behaves as Mastodon's
documentation says", but a real one, for every operation it counts: called with no token and with a
working user token, it never answers 5xx and never answers the unknown-route 404.

Warden's unknown-route answer is `404 {"error": "Record not found"}`, the same words as a handler's own
record-not-found, so the body cannot tell them apart. The router can: a path it routes answers a method
it does not route with 405, a path it does not route answers every method with 404. So every 404 is
followed by one request with a method the operation's path does not declare, which must get 405.
`test_unknown_route_probe` checks that this tells the two apart on this server. And since a route with a
parameter declared earlier can take a literal path (`/api/v1/notifications/{id}` answering
`/api/v1/notifications/unread_count`), each request's path is also run through the app's route table:
the first route that takes it must be the operation's own (same literal segments), not a shadow.

Path parameters are ids of real objects where that is easy (another user's account, the caller's own
post, a hashtag), else "1". Requests carry an empty JSON body where the method takes one; the
operations that delete something run last. The server is this module's own, rate limits off: the run
sends a few hundred requests from one address.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Match

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer, User
from warden.config import RateLimits, Settings

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
from api_coverage import OPERATIONS, Operation, load_operations, measure, shape  # noqa: E402

NO_RATE_LIMITS = RateLimits(**{f.name: "off" for f in dataclasses.fields(RateLimits)
                               if f.name not in ("storage", "key_prefix")})
PROBE_METHODS = ("PATCH", "PUT", "DELETE", "POST", "GET", "TRACE")
STREAM_TYPES = ("text/event-stream",)


# --- the list and the matching (no server) -----------------------------------------------------------

def test_operations_file_is_the_documented_list() -> None:
    source, ops = load_operations()
    assert source["repo"] == "abraham/mastodon-openapi" and re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert len(ops) >= 150
    keys = [(op.method, op.path) for op in ops]
    assert len(keys) == len(set(keys)), "an operation is listed twice"
    assert len({op.operation_id for op in ops}) == len(ops)
    for op in ops:
        assert op.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}, op
        assert op.path.startswith("/"), op
        assert op.docs.startswith("https://docs.joinmastodon.org/methods/"), op


def test_matching_normalises_parameter_names_and_ignores_generic_routes() -> None:
    assert shape("/api/v1/accounts/{id}/follow") == shape("/api/v1/accounts/{account_id}/follow")
    document = {"paths": {
        "/api/v1/accounts/{account_id}": {"get": {}},
        "/api/v1/accounts/{account_id}/follow": {"post": {}},
        "/api/v1/streaming/{channel}": {"get": {}},
        "/api/v1/statuses/{status_id}": {"put": {}, "parameters": []},
    }}
    coverage = measure(document)
    covered = {(op.method, op.path) for op, _ in coverage.covered}
    assert ("GET", "/api/v1/accounts/{id}") in covered
    assert ("POST", "/api/v1/accounts/{id}/follow") in covered
    assert ("PUT", "/api/v1/statuses/{id}") in covered
    assert ("GET", "/api/v1/statuses/{id}") not in covered  # same path, other method
    # a parameter where Mastodon has a literal is not the operation
    assert ("GET", "/api/v1/accounts/lookup") not in covered
    assert ("GET", "/api/v1/streaming/user") not in covered
    generic = {(op.method, op.path) for op, _ in coverage.generic}
    assert {("GET", "/api/v1/accounts/lookup"), ("GET", "/api/v1/streaming/user")} <= generic
    assert len(coverage.covered) + len(coverage.missing) == coverage.total


def test_route_table_walk_finds_the_shadowing_route() -> None:
    """A parameter route declared first takes a literal path: the walk reports it, not the literal one."""
    from fastapi import APIRouter, FastAPI

    router = APIRouter()
    router.add_api_route("/api/v1/notifications/{notification_id}", lambda notification_id: {}, methods=["GET"])
    router.add_api_route("/api/v1/notifications/unread_count", lambda: {}, methods=["GET"])
    app = FastAPI()
    app.include_router(router)
    assert _route_of(app, "GET", "/api/v1/notifications/unread_count") == "/api/v1/notifications/{notification_id}"
    assert _route_of(app, "GET", "/api/v1/notifications/7") == "/api/v1/notifications/{notification_id}"
    assert _route_of(app, "POST", "/api/v1/notifications/7") is None
    assert _route_of(app, "GET", "/api/v1/nothing") is None


# --- the live check -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def coverage_server(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    """A live server on a fresh database of this backend, without rate limits."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                        rate_limits=NO_RATE_LIMITS)
    srv, thread, db = start_server(settings)
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend,
                     extras={"app": srv.config.app})
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@dataclasses.dataclass
class Fixtures:
    caller: User
    other: User
    status_id: str

    def value(self, op: Operation, name: str) -> str:
        """A value for path parameter `name` of `op`: a real object where that is easy, else "1"."""
        if name in ("hashtag", "name") and op.tag == "tags":
            return "warden"
        if name == "date":
            return "2025-01-01"
        if name == "account_id" or (name == "id" and op.tag == "accounts"):
            return str(self.other.id)
        if name in ("id", "quoting_status_id") and op.tag == "statuses":
            return self.status_id
        return "1"


@pytest.fixture(scope="module")
def fixtures(coverage_server: LiveServer) -> Fixtures:
    caller = coverage_server.user("cov", scopes="read write follow push")
    other = coverage_server.user("covother")
    posted = caller.post("/api/v1/statuses", json={"status": "hello #warden"})
    assert posted.status_code == 200, posted.text
    return Fixtures(caller=caller, other=other, status_id=str(posted.json()["id"]))


def _concrete(op: Operation, fixtures: Fixtures) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: fixtures.value(op, m.group(1)), op.path)


def _send(http: httpx.Client, method: str, url: str, headers: dict[str, str]) -> tuple[int, str, object]:
    """Status, content type and (unless it is an event stream) the JSON body or the text."""
    kwargs: dict[str, object] = {"headers": headers}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    with http.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]
        ctype = response.headers.get("content-type", "")
        if ctype.startswith(STREAM_TYPES):
            return response.status_code, ctype, None
        response.read()
        try:
            body: object = response.json()
        except ValueError:
            body = response.text[:200]
        return response.status_code, ctype, body


def _probe_method(op: Operation, declared: dict[str, set[str]]) -> str:
    taken = declared.get("/".join(shape(op.path)), set())
    return next(m for m in PROBE_METHODS if m not in taken)


def _first_route(routes: list[object], scope: dict[str, object]) -> str | None:
    """The path template of the first route, in dispatch order, that takes the request (None: none does)."""
    for route in routes:
        inner = getattr(route, "_match", None)
        if inner is not None:  # FastAPI's included router: it finds its own effective route
            match, _, found, context = inner(scope)
            if match != Match.FULL:
                continue
            if getattr(found, "_match", None) is not None:
                return _first_route([found], scope)
            return str(getattr(context, "path", None) or getattr(found, "path", ""))
        match, _ = route.matches(scope)  # type: ignore[attr-defined]
        if match == Match.FULL:
            return str(getattr(route, "path", ""))
    return None


def _route_of(app: object, method: str, url: str) -> str | None:
    scope = {"type": "http", "method": method, "path": url, "root_path": "", "query_string": b"", "headers": []}
    return _first_route(list(app.routes), scope)  # type: ignore[attr-defined]


def test_unknown_route_probe(coverage_server: LiveServer) -> None:
    """The discriminator: an unrouted path is 404 for every method, a routed one 405 for a foreign method."""
    with httpx.Client(base_url=coverage_server.url, timeout=30) as http:
        unknown = http.get("/api/v1/no_such_operation_here")
        assert unknown.status_code == 404 and set(unknown.json()) == {"error"}
        assert http.request("PATCH", "/api/v1/no_such_operation_here").status_code == 404
        assert http.request("PATCH", "/api/v1/instance").status_code == 405


def test_every_declared_operation_is_routed_and_never_fails(coverage_server: LiveServer, fixtures: Fixtures) -> None:
    document = httpx.get(f"{coverage_server.url}/openapi.json", timeout=30).raise_for_status().json()
    coverage = measure(document, OPERATIONS)
    assert coverage.covered, "Warden declares none of Mastodon's operations"
    declared: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        declared.setdefault("/".join(shape(path)), set()).update(m.upper() for m in item)
    # deletions last, so the objects the other operations name still exist when they run
    ops = sorted((op for op, _ in coverage.covered), key=lambda op: op.method == "DELETE")
    principals = {"no token": {}, "user token": fixtures.caller.headers}
    failures: list[str] = []
    app = coverage_server.extras["app"]
    for op in ops:
        url = _concrete(op, fixtures)
        template = _route_of(app, op.method, url)
        if template is None or shape(template.replace(":path}", "}")) != shape(op.path):
            failures.append(f"{op.method} {url} ({op.operation_id}): taken by route {template!r}, "
                            f"not by {op.path}'s own")
    with httpx.Client(base_url=coverage_server.url, timeout=httpx.Timeout(30, read=15)) as http:
        for op in ops:
            url = _concrete(op, fixtures)
            for who, headers in principals.items():
                status, ctype, body = _send(http, op.method, url, headers)
                where = f"{op.method} {url} ({op.operation_id}, {who})"
                if status >= 500:
                    failures.append(f"{where}: {status} {json.dumps(body)[:200]}")
                elif status == 404:
                    if not (isinstance(body, dict) and isinstance(body.get("error"), str)):
                        failures.append(f"{where}: 404 without a Mastodon-style error body: {body!r}")
                    probe = _probe_method(op, declared)
                    probed = http.request(probe, url, headers=headers).status_code
                    if probed != 405:
                        failures.append(f"{where}: 404 and {probe} answers {probed}, not 405: "
                                        f"the path is not routed")
    assert not failures, f"{len(failures)} failures over {len(ops)} operations:\n" + "\n".join(failures)
