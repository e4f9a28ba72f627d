"""Generated requests over `/openapi.json` never get a 5xx (issue 29).

Schemathesis reads the live server's OpenAPI document and sends a bounded, deterministic set of
generated requests to every operation (valid ones, deliberately invalid ones, and valid ones naming
records that exist), as a real user with a token of every scope ("read write follow push") and, on
the staff routes, as an admin, so the authenticated routes run their handlers rather than stopping
at 401 or 403. The write routes read their bodies by hand (warden/api/params.py), so the document
FastAPI serves does not declare them; REQUEST_BODIES adds their fields to it before the run. The only check is "not a
server error": Warden's API is a Mastodon subset and its OpenAPI document describes FastAPI's
view of it, so response-schema conformance is not the bar; a 5xx on any input is.

The run gets its own server and database per backend, with rate limits off: the fuzzer registers
accounts and guesses passwords, which would otherwise spend the shared server's per-address quotas
(and fill its public timeline) for the tests that run after it.

Operations left out, and why:
- `POST /oauth/revoke`: may revoke the token the run authenticates with.
- `GET /api/v1/streaming/...` (all but `/health`): server-sent event streams that stay open.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.schemas import APIOperation

from tests.conftest import _free_port, make_database, start_server
from tests.helpers import LiveServer
from tests.media.images import encode, photo
from warden.config import RateLimits, Settings

#: Examples per operation: enough to reach the 4xx paths of every parameter, few enough that
#: ~80 operations on two backends stay within a couple of minutes on a loaded 2-core machine.
MAX_EXAMPLES = 25

#: Routes only staff may use: the run calls them with an admin's token so their handlers run.
STAFF_PREFIXES = ("/api/v1/admin/", "/api/warden/v1/cases", "/api/warden/v1/appeals", "/api/warden/v1/decisions",
                  "/api/warden/v1/policy", "/api/warden/v1/announcements")

#: Every limit the settings know, off (a limit added later is off here too).
NO_RATE_LIMITS = RateLimits(**{field.name: "off" for field in dataclasses.fields(RateLimits)
                               if field.name not in ("storage", "key_prefix")})


@pytest.fixture(scope="module")
def fuzz_server(backend: str, tmp_data_dir: Path) -> Iterator[LiveServer]:
    """A live server on a fresh database of this backend, without rate limits."""
    url, drop = make_database(backend, tmp_data_dir)
    port = _free_port()
    settings_ = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=False,
                         rate_limits=NO_RATE_LIMITS, media_dir=str(tmp_data_dir / f"fuzz-media-{backend}"))
    srv, thread, db = start_server(settings_)
    yield LiveServer(url=settings_.base_url, settings=settings_, db=db, backend=backend)
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


@dataclass(frozen=True)
class Principals:
    """Who the run acts as, and records that exist for the id parameters to find."""

    user: dict[str, str]
    admin: dict[str, str]
    known_ids: dict[str, str]


@pytest.fixture(scope="module")
def principals(fuzz_server: LiveServer) -> Principals:
    """A real user's bearer token with every scope a Mastodon client asks for, an admin's for the
    staff routes (a user only ever gets their 403), and a post and an account of someone else."""
    user = fuzz_server.user("fuzz", scopes="read write follow push")
    admin = fuzz_server.user("fuzzadmin", role="admin", scopes="read write follow push admin:read admin:write")
    other = fuzz_server.user("other")
    posted = other.post("/api/v1/statuses", json={"status": "hello #fuzz", "poll": {"options": ["a", "b"],
                                                                                    "expires_in": 3600}})
    assert posted.status_code == 200, posted.text
    media = user.post("/api/v2/media", files={"file": ("a.png", encode(photo(16, 16), "PNG"), "image/png")})
    assert media.status_code == 200, media.text
    return Principals(user=user.headers, admin=admin.headers,
                      known_ids={"account_id": str(other.id), "status_id": str(posted.json()["id"]),
                                 "media_id": str(media.json()["id"])})
    later = user.post("/api/v1/statuses", json={"status": "later", "scheduled_at": "2999-01-01T00:00:00Z"})
    assert later.status_code == 200, later.text
    announced = fuzz_server.user("fuzzannouncer", role="admin", scopes="admin:write").post(
        "/api/warden/v1/announcements", data={"text": "hello"})
    assert announced.status_code == 200, announced.text
    return Principals(user=user.headers, admin=admin.headers,
                      known_ids={"account_id": str(other.id), "status_id": str(posted.json()["id"]),
                                 "poll_id": str(posted.json()["poll"]["id"]), "scheduled_id": str(later.json()["id"]),
                                 "name": "fuzz", "tag_name": "fuzz", "announcement_id": str(announced.json()["id"]),
                                 "target_id": str(posted.json()["id"])})


def _string(**extra: object) -> dict[str, object]:
    return {"type": "string", **extra}


_BOOL = {"type": "boolean"}
_POST = {"status": _string(), "spoiler_text": _string(), "sensitive": _BOOL, "language": _string(),
         "visibility": _string(enum=["public", "unlisted", "private", "direct"]), "in_reply_to_id": _string(),
         "scheduled_at": _string(), "poll": {"type": "object", "properties": {
             "options": {"type": "array", "items": _string()}, "expires_in": {"type": "integer"},
             "multiple": _BOOL, "hide_totals": _BOOL}}}

_CONTEXTS = {"type": "array", "items": _string(enum=["home", "notifications", "public", "thread", "account"])}
_FILTER = {"title": _string(), "context": _CONTEXTS, "filter_action": _string(enum=["warn", "hide", "blur"]),
           "expires_in": {"type": "integer"},
           "keywords_attributes": {"type": "array", "items": {"type": "object", "properties": {
               "keyword": _string(), "whole_word": _BOOL, "id": _string(), "_destroy": _BOOL}}}}
_FILTER_V1 = {"phrase": _string(), "context": _CONTEXTS, "irreversible": _BOOL, "whole_word": _BOOL,
              "expires_in": {"type": "integer"}}

_PUSH_SUBSCRIPTION = {"type": "object", "properties": {
    "endpoint": _string(), "standard": _BOOL,
    "keys": {"type": "object", "properties": {"p256dh": _string(), "auth": _string()}}}}
_PUSH_DATA = {"type": "object", "properties": {"policy": _string(enum=["all", "followed", "follower", "none"]),
                                               "alerts": {"type": "object", "additionalProperties": _BOOL}}}

#: The bodies the write routes read (warden/api/params.py reads them by hand, so FastAPI's document
#: does not declare them): without these the fuzzer would send each of those routes one empty body.
REQUEST_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("post", "/api/v1/statuses"): _POST,
    ("put", "/api/v1/statuses/{status_id}"): _POST,
    ("post", "/api/v1/accounts"): {"username": _string(), "email": _string(), "password": _string(),
                                   "agreement": _BOOL, "locale": _string()},
    ("post", "/api/v1/apps"): {"client_name": _string(), "redirect_uris": _string(), "scopes": _string(),
                               "website": _string()},
    ("patch", "/api/v1/accounts/update_credentials"): {"display_name": _string(), "note": _string(),
                                                        "locked": _BOOL, "bot": _BOOL, "discoverable": _BOOL},
    ("post", "/api/v1/reports"): {"account_id": _string(), "status_ids": {"type": "array", "items": _string()},
                                  "comment": _string(), "forward": _BOOL, "category": _string(),
                                  "rule_ids": {"type": "array", "items": _string()}},
    ("post", "/oauth/token"): {"grant_type": _string(enum=["password", "authorization_code", "client_credentials"]),
                               "username": _string(), "password": _string(), "client_id": _string(),
                               "client_secret": _string(), "scope": _string(), "code": _string(),
                               "redirect_uri": _string()},
    ("put", "/api/v1/media/{media_id}"): {"description": _string(), "focus": _string()},
    ("post", "/api/v1/lists"): {"title": _string(), "replies_policy": _string(enum=["followed", "list", "none"]),
                                "exclusive": _BOOL},
    ("put", "/api/v1/lists/{list_id}"): {"title": _string(), "replies_policy": _string(), "exclusive": _BOOL},
    ("post", "/api/v1/lists/{list_id}/accounts"): {"account_ids": {"type": "array", "items": _string()}},
    ("post", "/api/v2/filters"): _FILTER,
    ("put", "/api/v2/filters/{filter_id}"): _FILTER,
    ("post", "/api/v2/filters/{filter_id}/keywords"): {"keyword": _string(), "whole_word": _BOOL},
    ("put", "/api/v2/filters/keywords/{keyword_id}"): {"keyword": _string(), "whole_word": _BOOL},
    ("post", "/api/v2/filters/{filter_id}/statuses"): {"status_id": _string()},
    ("post", "/api/v1/filters"): _FILTER_V1,
    ("put", "/api/v1/filters/{keyword_id}"): _FILTER_V1,
    ("post", "/api/v1/markers"): {"home": {"type": "object", "properties": {"last_read_id": _string()}},
                                  "notifications": {"type": "object", "properties": {"last_read_id": _string()}}},
    ("post", "/api/v1/polls/{poll_id}/votes"): {"choices": {"type": "array", "items": _string()}},
    ("put", "/api/v1/scheduled_statuses/{scheduled_id}"): {"scheduled_at": _string()},
    ("post", "/api/v1/featured_tags"): {"name": _string()},
    ("post", "/api/v1/domain_blocks"): {"domain": _string()},
    ("delete", "/api/v1/domain_blocks"): {"domain": _string()},
    ("post", "/api/warden/v1/announcements"): {"text": _string(), "starts_at": _string(), "ends_at": _string(),
                                               "all_day": _BOOL},
    ("post", "/api/v1/push/subscription"): {"subscription": _PUSH_SUBSCRIPTION, "data": _PUSH_DATA},
    ("put", "/api/v1/push/subscription"): {"data": _PUSH_DATA},
    ("patch", "/api/v2/notifications/policy"): {
        name: _string(enum=["accept", "filter", "drop"])
        for name in ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
                     "for_limited_accounts")},
    ("patch", "/api/v1/notifications/policy"): {
        f"filter_{name}": _BOOL for name in ("not_following", "not_followers", "new_accounts", "private_mentions")},
    ("post", "/api/v1/notifications/requests/accept"): {"id": {"type": "array", "items": _string()}},
    ("post", "/api/v1/notifications/requests/dismiss"): {"id": {"type": "array", "items": _string()}},
    ("post", "/api/v1/admin/accounts/{account_id}/action"): {
        "type": _string(enum=["none", "sensitive", "disable", "silence", "suspend"]), "text": _string(),
        "report_id": _string()},
}


def _with_request_bodies(document: dict[str, Any]) -> dict[str, Any]:
    for (method, path), properties in REQUEST_BODIES.items():
        operation = document["paths"][path][method]
        operation.setdefault("requestBody", {"content": {"application/json": {"schema": {
            "type": "object", "properties": properties}}}})
    return document


def _operations(server: LiveServer) -> list[APIOperation]:
    document = httpx.get(f"{server.url}/openapi.json", timeout=30).raise_for_status().json()
    schema = (schemathesis.openapi.from_dict(_with_request_bodies(document))
              .exclude(method="POST", path="/oauth/revoke")
              .exclude(method="GET", path_regex=r"^/api/v1/streaming/(?!health$)"))
    return [result.ok() for result in schema.get_all_operations()]


def _is_staff_route(operation: APIOperation) -> bool:
    return operation.path.startswith(STAFF_PREFIXES)


def _server_errors(operation: APIOperation, who: Principals, base_url: str) -> str | None:
    """Generated requests (valid ones, deliberately invalid ones, and valid ones naming records that
    exist) to `operation`; the first 5xx's reproduction, shrunk by Hypothesis, or None when every
    answer was below 500."""
    headers = who.admin if _is_staff_route(operation) else who.user
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    known = {name: value for name, value in who.known_ids.items()
             if f"{{{name}}}" in operation.path and operation.method.upper() != "DELETE"}
    if known:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known))
    cases = st.one_of(strategies)

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error], timeout=30)

    try:
        call()
    except (FailureGroup, Exception) as error:  # noqa: BLE001 - every failure is reported, the run goes on
        return f"{operation.method.upper()} {operation.path}: {str(error).strip()[:2000]}"
    return None


def test_no_server_error(fuzz_server: LiveServer, principals: Principals) -> None:
    operations = _operations(fuzz_server)
    assert len(operations) > 50, "the OpenAPI document lost its operations"
    failures = [failure for operation in operations
                if (failure := _server_errors(operation, principals, fuzz_server.url))]
    assert not failures, f"{len(failures)} operations answered 5xx:\n\n" + "\n\n".join(failures)

