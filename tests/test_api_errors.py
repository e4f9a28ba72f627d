"""Every endpoint's failures: 401 without a token, 403 without the scope, 404, 422 on bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import LiveServer

#: (method, path, scope that the endpoint needs). `{sid}` / `{aid}` are filled with real ids.
PROTECTED = [
    ("GET", "/api/v1/accounts/verify_credentials", "read:accounts"),
    ("PATCH", "/api/v1/accounts/update_credentials", "write:accounts"),
    ("GET", "/api/v1/accounts/relationships?id[]={aid}", "read:follows"),
    ("POST", "/api/v1/accounts/{aid}/follow", "write:follows"),
    ("POST", "/api/v1/accounts/{aid}/unfollow", "write:follows"),
    ("POST", "/api/v1/accounts/{aid}/block", "write:blocks"),
    ("POST", "/api/v1/accounts/{aid}/unblock", "write:blocks"),
    ("POST", "/api/v1/accounts/{aid}/mute", "write:mutes"),
    ("POST", "/api/v1/accounts/{aid}/unmute", "write:mutes"),
    ("POST", "/api/v1/statuses", "write:statuses"),
    ("PUT", "/api/v1/statuses/{sid}", "write:statuses"),
    ("DELETE", "/api/v1/statuses/{sid}", "write:statuses"),
    ("POST", "/api/v1/statuses/{sid}/favourite", "write:favourites"),
    ("POST", "/api/v1/statuses/{sid}/unfavourite", "write:favourites"),
    ("POST", "/api/v1/statuses/{sid}/reblog", "write:statuses"),
    ("POST", "/api/v1/statuses/{sid}/unreblog", "write:statuses"),
    ("GET", "/api/v1/timelines/home", "read:statuses"),
    ("GET", "/api/v1/notifications", "read:notifications"),
    ("POST", "/api/v1/notifications/clear", "write:notifications"),
    ("POST", "/api/v1/reports", "write:reports"),
]


@pytest.fixture
def target(server: LiveServer) -> tuple[int, int]:
    """(account id, status id) of someone else's public post."""
    owner = server.user("owner")
    status = owner.post("/api/v1/statuses", data={"status": "a public post"}).json()
    return owner.id, int(status["id"])


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_protected_endpoints_need_a_token_and_the_scope(server: LiveServer, target: tuple[int, int], method: str,
                                                        path: str, scope: str) -> None:
    aid, sid = target
    url = path.format(aid=aid, sid=sid)
    anonymous = httpx.request(method, server.url + url)
    assert anonymous.status_code == 401
    assert "error" in anonymous.json()

    bad = httpx.request(method, server.url + url, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401

    user = server.user("scoped")
    # A token with the other family of scopes than the one this endpoint needs.
    others = "write" if scope.startswith("read") else "read"
    wrong = httpx.request(method, server.url + url, headers={"Authorization": f"Bearer {server.token(user, others)}"})
    assert wrong.status_code == 403, wrong.text
    assert wrong.json()["error"] == "This action is outside the authorized scopes"


def test_granular_scope_is_enough(server: LiveServer) -> None:
    user = server.user("granular")
    token = server.token(user, "write:statuses read:statuses")
    response = httpx.post(f"{server.url}/api/v1/statuses", data={"status": "granular"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def test_not_found(server: LiveServer, client: httpx.Client) -> None:
    user = server.user()
    for path in ("/api/v1/statuses/999999999", "/api/v1/statuses/not-a-number", "/api/v1/accounts/999999999",
                 "/api/v1/accounts/999999999/statuses", "/api/v1/statuses/999999999/context",
                 "/api/v1/accounts/lookup?acct=nobody_here", "/api/v1/notifications/999999999"):
        response = user.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Record not found"}
    assert user.post("/api/v1/statuses/999999999/favourite").status_code == 404
    assert user.post("/api/v1/accounts/999999999/follow").status_code == 404
    assert client.get("/api/v1/no/such/endpoint").status_code == 404


@pytest.mark.parametrize(("fields", "message"), [
    ({"status": "x" * 501}, "character limit of 500"),
    ({"status": "   "}, "can't be blank"),
    ({"status": "hi", "visibility": "everyone"}, "Visibility"),
    ({"status": "hi", "media_ids[]": "1"}, "Media 1 not found"),
])
def test_bad_posts_are_422(server: LiveServer, fields: dict[str, str], message: str) -> None:
    user = server.user()
    response = user.post("/api/v1/statuses", data=fields)
    assert response.status_code == 422
    assert message in response.json()["error"]
    assert user.get(f"/api/v1/accounts/{user.id}/statuses").json() == []


def test_exactly_500_characters_is_accepted(server: LiveServer) -> None:
    user = server.user()
    assert user.post("/api/v1/statuses", data={"status": "y" * 500}).status_code == 200


def test_bad_json_body_and_bad_pagination(server: LiveServer) -> None:
    user = server.user()
    response = user.request("POST", "/api/v1/statuses", content=b"{not json",
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and "JSON" in response.json()["error"]
    response = user.get("/api/v1/timelines/home?max_id=abc")
    assert response.status_code == 422 and "max_id" in response.json()["error"]
    response = user.get("/api/v1/timelines/home?limit=lots")
    assert response.status_code == 422 and "error" in response.json()


def test_registration_errors_are_detailed(server: LiveServer, client: httpx.Client) -> None:
    app = client.post("/api/v1/apps", data={"client_name": "reg", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                            "scopes": "read write"}).json()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                              "client_secret": app["client_secret"], "scope": "read write"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    taken = server.user()
    cases = [
        ({"username": taken.username, "email": "new@example.test", "password": "long-enough-1",
          "agreement": "true"}, "username", "ERR_TAKEN"),
        ({"username": "fresh_name_x", "email": "not-an-email", "password": "long-enough-1", "agreement": "true"},
         "email", "ERR_INVALID"),
        ({"username": "fresh_name_y", "email": "y@example.test", "password": "short", "agreement": "true"},
         "password", "ERR_TOO_SHORT"),
        ({"username": "fresh_name_z", "email": "z@example.test", "password": "long-enough-1"}, "agreement",
         "ERR_ACCEPTED"),
        ({"username": "bad name!", "email": "w@example.test", "password": "long-enough-1", "agreement": "true"},
         "username", "ERR_INVALID"),
    ]
    for form, field, code in cases:
        response = client.post("/api/v1/accounts", data=form, headers=headers)
        assert response.status_code == 422, form
        assert response.json()["details"][field][0]["error"] == code
    # A user token cannot register accounts on behalf of an app... but an app token can't read user data.
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401


def test_oauth_errors(server: LiveServer, client: httpx.Client) -> None:
    assert client.post("/api/v1/apps", data={"client_name": "", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
                       ).status_code == 422
    assert client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                             "scopes": "read rule:everything"}).status_code == 422
    app = client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                            "scopes": "read"}).json()
    bad_secret = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                   "client_id": app["client_id"], "client_secret": "wrong"})
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    too_wide = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                 "client_secret": app["client_secret"], "scope": "read write"})
    assert too_wide.status_code == 400
    user = server.user()
    wrong_password = client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": user.email, "password": "nope-nope-nope"})
    assert wrong_password.status_code == 400 and wrong_password.json()["error"] == "invalid_grant"
    bogus_code = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "code": "made-up", "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"})
    assert bogus_code.status_code == 400


def test_revoked_token_stops_working(server: LiveServer, client: httpx.Client) -> None:
    app = client.post("/api/v1/apps", data={"client_name": "rev", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                            "scopes": "read"}).json()
    user = server.user()
    token = client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": user.username, "password": "test-password-123", "scope": "read"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    assert client.post("/oauth/revoke", data={"client_id": app["client_id"], "client_secret": app["client_secret"],
                                              "token": token}).status_code == 200
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401
