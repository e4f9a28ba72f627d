"""Client API group 3 (issue 33) over HTTP, on both backends: notification policy and requests, grouped
notifications and unread counts, Web Push (subscriptions, and a delivery to a real local receiver that
the test decrypts), the declared streaming paths, instance texts, oEmbed, userinfo and the small rest."""

from __future__ import annotations

import base64
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.helpers import LiveServer, User, eventually


def post(user: User, text: str, **fields: str) -> dict[str, Any]:
    response = user.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.status_code, response.text)
    return response.json()


def notification_types(user: User) -> list[tuple[str, str]]:
    return [(n["type"], n["account"]["id"]) for n in ok(user.get("/api/v1/notifications"))]


# --- notification policy and requests ----------------------------------------------------------


def test_policy_defaults_shapes_and_validation(server: LiveServer) -> None:
    reader = server.user("policy")
    policy = ok(reader.get("/api/v2/notifications/policy"))
    assert policy == {"for_not_following": "accept", "for_not_followers": "accept", "for_new_accounts": "accept",
                      "for_private_mentions": "filter", "for_limited_accounts": "filter",
                      "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}
    v1 = ok(reader.get("/api/v1/notifications/policy"))
    assert v1["filter_private_mentions"] is True and v1["filter_not_following"] is False
    changed = ok(reader.request("PATCH", "/api/v2/notifications/policy", json={"for_not_following": "drop"}))
    assert changed["for_not_following"] == "drop" and changed["for_private_mentions"] == "filter"
    bad = reader.request("PATCH", "/api/v2/notifications/policy", json={"for_new_accounts": "ignore"})
    assert bad.status_code == 422 and "error" in bad.json()
    assert ok(reader.get("/api/v2/notifications/policy"))["for_new_accounts"] == "accept"  # nothing saved
    v1 = ok(reader.request("PATCH", "/api/v1/notifications/policy", data={"filter_not_following": "false"}))
    assert v1["filter_not_following"] is False
    assert ok(reader.get("/api/v2/notifications/policy"))["for_not_following"] == "accept"
    read_only = server.token(reader, "read")
    refused = httpx.patch(f"{server.url}/api/v2/notifications/policy", json={"for_new_accounts": "drop"},
                          headers={"Authorization": f"Bearer {read_only}"})
    assert refused.status_code == 403


def test_filtered_notifications_become_requests_to_accept_or_dismiss(server: LiveServer) -> None:
    reader, friend, stranger, other = (server.user(p) for p in ("reader", "friend", "stranger", "other"))
    reader.post(f"/api/v1/accounts/{friend.id}/follow")
    ok(reader.request("PATCH", "/api/v2/notifications/policy", json={"for_not_following": "filter"}))
    mine = post(reader, "a post to react to")
    for user in (friend, stranger, other):
        ok(user.post(f"/api/v1/statuses/{mine['id']}/favourite"))
    post(stranger, f"@{reader.username} hello there")

    listed = notification_types(reader)
    assert ("favourite", str(friend.id)) in listed
    assert all(sender == str(friend.id) for _, sender in listed)  # the strangers' are held back
    requests = ok(reader.get("/api/v1/notifications/requests"))
    by_sender = {r["account"]["id"]: r for r in requests}
    assert set(by_sender) == {str(stranger.id), str(other.id)}
    assert by_sender[str(stranger.id)]["notifications_count"] == "2"  # a string, as Mastodon documents it
    assert by_sender[str(stranger.id)]["last_status"]["content"].count("hello there") == 1
    summary = ok(reader.get("/api/v2/notifications/policy"))["summary"]
    assert summary == {"pending_requests_count": 2, "pending_notifications_count": 3}
    included = ok(reader.get("/api/v2/notifications", params={"include_filtered": "true"}))
    assert {a["id"] for a in included["accounts"]} >= {str(stranger.id), str(other.id)}

    request_id = by_sender[str(stranger.id)]["id"]
    assert ok(reader.get(f"/api/v1/notifications/requests/{request_id}"))["account"]["id"] == str(stranger.id)
    assert friend.get(f"/api/v1/notifications/requests/{request_id}").status_code == 404  # not theirs
    assert friend.post(f"/api/v1/notifications/requests/{request_id}/accept").status_code == 404
    ok(reader.post(f"/api/v1/notifications/requests/{request_id}/accept"))
    listed = notification_types(reader)
    assert ("mention", str(stranger.id)) in listed and ("favourite", str(stranger.id)) in listed
    post(stranger, f"@{reader.username} and again")  # an accepted sender is never filtered again
    assert sum(1 for t, s in notification_types(reader) if (t, s) == ("mention", str(stranger.id))) == 2

    other_request = by_sender[str(other.id)]["id"]
    ok(reader.post("/api/v1/notifications/requests/dismiss", data={"id[]": [other_request]}))
    assert ok(reader.get("/api/v1/notifications/requests")) == []
    assert ("favourite", str(other.id)) not in notification_types(reader)
    assert ok(reader.get("/api/v2/notifications/policy"))["summary"]["pending_notifications_count"] == 0
    assert ok(reader.get("/api/v1/notifications/requests/merged")) == {"merged": True}


def test_private_mentions_are_filtered_and_drop_drops(server: LiveServer) -> None:
    reader, stranger, known = (server.user(p) for p in ("dmreader", "dmstranger", "dmknown"))
    reader.post(f"/api/v1/accounts/{known.id}/follow")
    post(stranger, f"@{reader.username} a private word", visibility="direct")
    post(known, f"@{reader.username} from someone I follow", visibility="direct")
    assert notification_types(reader) == [("mention", str(known.id))]
    assert [r["account"]["id"] for r in ok(reader.get("/api/v1/notifications/requests"))] == [str(stranger.id)]

    ok(reader.request("PATCH", "/api/v2/notifications/policy", json={"for_new_accounts": "drop"}))
    mine = post(reader, "every test account is new")
    ok(stranger.post(f"/api/v1/statuses/{mine['id']}/favourite"))
    ok(known.post(f"/api/v1/statuses/{mine['id']}/favourite"))  # new too: dropped, followed or not
    assert [t for t, _ in notification_types(reader)] == ["mention"]
    requests = ok(reader.get("/api/v1/notifications/requests"))
    assert [r["notifications_count"] for r in requests] == ["1"]  # the favourite was never stored


# --- grouped notifications and unread counts -----------------------------------------------------


def test_grouped_notifications(server: LiveServer) -> None:
    reader = server.user("grouped")
    fans = [server.user("fan") for _ in range(3)]
    mine = post(reader, "a post many like")
    for fan in fans:
        ok(fan.post(f"/api/v1/statuses/{mine['id']}/favourite"))
        ok(fan.post(f"/api/v1/accounts/{reader.id}/follow"))
    post(fans[0], f"@{reader.username} a mention is never grouped")
    assert ok(reader.get("/api/v1/notifications/unread_count")) == {"count": 7}
    assert ok(reader.get("/api/v2/notifications/unread_count")) == {"count": 3}  # favourites, follows, mention
    assert ok(reader.get("/api/v1/notifications/unread_count", params={"limit": 2})) == {"count": 2}

    page = reader.get("/api/v2/notifications")
    data = ok(page)
    groups = {g["type"]: g for g in data["notification_groups"]}
    assert set(groups) == {"favourite", "follow", "mention"}
    favourites = groups["favourite"]
    assert favourites["notifications_count"] == 3 and favourites["status_id"] == mine["id"]
    assert sorted(favourites["sample_account_ids"]) == sorted(str(f.id) for f in fans)
    assert favourites["sample_account_ids"][0] == str(fans[-1].id)  # newest first
    assert groups["mention"]["group_key"].startswith("ungrouped-")
    assert {a["id"] for a in data["accounts"]} == {str(f.id) for f in fans}
    assert mine["id"] in {s["id"] for s in data["statuses"]}
    assert 'rel="next"' in page.headers["link"]

    one_group = ok(reader.get("/api/v2/notifications", params={"limit": 1}))
    assert [g["type"] for g in one_group["notification_groups"]] == ["mention"]
    ungrouped = ok(reader.get("/api/v2/notifications", params={"grouped_types[]": "follow"}))
    assert sum(1 for g in ungrouped["notification_groups"] if g["type"] == "favourite") == 3
    only = ok(reader.get("/api/v2/notifications", params={"types[]": "follow"}))
    assert [g["type"] for g in only["notification_groups"]] == ["follow"]

    key = favourites["group_key"]
    assert ok(reader.get(f"/api/v2/notifications/{key}"))["notification_groups"][0]["notifications_count"] == 3
    assert ok(reader.get(f"/api/v2_alpha/notifications/{key}"))["notification_groups"][0]["group_key"] == key
    accounts = ok(reader.get(f"/api/v2/notifications/{key}/accounts"))
    assert [a["id"] for a in accounts] == [str(f.id) for f in reversed(fans)]
    assert fans[0].get(f"/api/v2/notifications/{key}").status_code == 404  # another reader's key
    assert fans[0].post(f"/api/v2/notifications/{key}/dismiss").status_code == 404
    ok(reader.post(f"/api/v2/notifications/{key}/dismiss"))
    assert reader.get(f"/api/v2/notifications/{key}").status_code == 404
    assert ok(reader.get("/api/v2_alpha/notifications/unread_count")) == {"count": 2}
    assert "favourite" not in {t for t, _ in notification_types(reader)}


# --- Web Push -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _browser_keys() -> tuple[ec.EllipticCurvePrivateKey, str, bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    auth = os.urandom(16)
    return key, _b64(public), auth, _b64(auth)


class Receiver:
    """A push service of our own: a tiny HTTP server that records what it is sent."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/push/abc"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def test_push_subscription_crud_and_validation(server: LiveServer) -> None:
    user = server.user("pusher")
    _, p256dh, _, auth = _browser_keys()
    assert user.get("/api/v1/push/subscription").status_code == 404
    assert user.request("PUT", "/api/v1/push/subscription", json={"data": {"policy": "all"}}).status_code == 404
    created = ok(user.post("/api/v1/push/subscription", data={
        "subscription[endpoint]": "https://push.example/sub/1", "subscription[keys][p256dh]": p256dh,
        "subscription[keys][auth]": auth, "data[alerts][mention]": "true", "data[alerts][favourite]": "true",
        "data[policy]": "followed"}))
    assert created["endpoint"] == "https://push.example/sub/1" and created["policy"] == "followed"
    assert created["alerts"]["mention"] is True and created["alerts"]["follow"] is False
    instance = ok(httpx.get(f"{server.url}/api/v2/instance"))
    assert created["server_key"] == instance["configuration"]["vapid"]["public_key"]
    point = base64.urlsafe_b64decode(created["server_key"] + "==")
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point
    app = ok(httpx.post(f"{server.url}/api/v1/apps", data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}))
    assert app["vapid_key"] == created["server_key"]

    changed = ok(user.request("PUT", "/api/v1/push/subscription",
                              json={"data": {"alerts": {"follow": True, "mention": False}, "policy": "all"}}))
    assert changed["alerts"]["follow"] is True and changed["alerts"]["mention"] is False
    assert changed["alerts"]["favourite"] is True and changed["id"] == created["id"]
    assert ok(user.get("/api/v1/push/subscription")) == changed

    other_token = server.token(user, "read write push")  # one subscription per token
    other = httpx.get(f"{server.url}/api/v1/push/subscription", headers={"Authorization": f"Bearer {other_token}"})
    assert other.status_code == 404
    no_push = server.token(user, "read write")
    assert httpx.get(f"{server.url}/api/v1/push/subscription",
                     headers={"Authorization": f"Bearer {no_push}"}).status_code == 403

    for subscription in ({"endpoint": "not a url", "keys": {"p256dh": p256dh, "auth": auth}},
                         {"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": auth}},
                         {"endpoint": "https://push.example/x", "keys": {"p256dh": p256dh, "auth": "AAAA"}}):
        bad = user.post("/api/v1/push/subscription", json={"subscription": subscription})
        assert bad.status_code == 422 and "error" in bad.json()
    bad_policy = user.request("PUT", "/api/v1/push/subscription", json={"data": {"policy": "friends"}})
    assert bad_policy.status_code == 422
    assert ok(user.get("/api/v1/push/subscription"))["endpoint"] == "https://push.example/sub/1"  # untouched

    ok(user.request("DELETE", "/api/v1/push/subscription"))
    assert user.get("/api/v1/push/subscription").status_code == 404


def test_push_delivery_is_encrypted_signed_and_decryptable(server: LiveServer) -> None:
    import http_ece

    receiver = Receiver()
    try:
        reader, fan = server.user("pushed"), server.user("pushfan")
        key, p256dh, auth_bytes, auth = _browser_keys()
        created = ok(reader.post("/api/v1/push/subscription", json={
            "subscription": {"endpoint": receiver.url, "keys": {"p256dh": p256dh, "auth": auth}, "standard": True},
            "data": {"alerts": {"favourite": True}, "policy": "all"}}))
        mine = post(reader, "push me")
        ok(fan.post(f"/api/v1/statuses/{mine['id']}/favourite"))
        ok(fan.post(f"/api/v1/accounts/{reader.id}/follow"))  # follow alerts are off: not pushed

        headers, body = eventually(lambda: receiver.received[0] if receiver.received else None, what="a push")
        assert headers["content-encoding"] == "aes128gcm"
        assert headers["ttl"] == str(48 * 3600)
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid"
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        assert fields["k"] == created["server_key"]
        claims = json.loads(base64.urlsafe_b64decode(fields["t"].split(".")[1] + "=="))
        assert claims["aud"] == receiver.url.split("/push")[0]
        payload = json.loads(http_ece.decrypt(body, private_key=key, auth_secret=auth_bytes, version="aes128gcm"))
        assert payload["notification_type"] == "favourite"
        assert payload["title"].endswith("favourited your post") and payload["body"] == "push me"
        notification = ok(reader.get(f"/api/v1/notifications/{payload['notification_id']}"))
        assert notification["account"]["id"] == str(fan.id)
        import time
        time.sleep(0.5)
        assert len(receiver.received) == 1
    finally:
        receiver.close()


# --- streaming paths -------------------------------------------------------------------------------


def test_streaming_paths_are_declared_and_stream(server: LiveServer) -> None:
    paths = ok(httpx.get(f"{server.url}/openapi.json"))["paths"]
    for channel in ("user", "user/notification", "public", "public/local", "public/remote", "hashtag",
                    "hashtag/local", "list", "direct"):
        assert f"/api/v1/streaming/{channel}" in paths, channel
    user = server.user("streamer")
    with httpx.Client(base_url=server.url, headers=user.headers, timeout=10) as http:
        with http.stream("GET", "/api/v1/streaming/public/local") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert next(response.iter_lines()) == ":)"
        assert http.get("/api/v1/streaming/hashtag").status_code == 400  # no tag
        assert http.get("/api/v1/streaming/nonsense").json() == {"error": "Unknown channel requested"}
    assert httpx.get(f"{server.url}/api/v1/streaming/user").status_code == 401


# --- instance texts, oEmbed, userinfo and the rest ------------------------------------------------------


def test_privacy_policy_and_terms(server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = ok(httpx.get(f"{server.url}/api/v1/instance/privacy_policy"))
    assert policy["content"].startswith("<p>") and policy["updated_at"].endswith("Z")
    assert httpx.get(f"{server.url}/api/v1/instance/terms_of_service").status_code == 404
    terms = tmp_path / "terms.txt"
    terms.write_text("Be kind.\n\n<script>alert(1)</script> is text here.")
    monkeypatch.setenv("WARDEN_TERMS_OF_SERVICE_FILE", str(terms))
    monkeypatch.setenv("WARDEN_TERMS_EFFECTIVE_DATE", "2026-01-15")
    shown = ok(httpx.get(f"{server.url}/api/v1/instance/terms_of_service"))
    assert shown == {"effective_date": "2026-01-15", "effective": True, "succeeded_by": None,
                     "content": "<p>Be kind.</p><p>&lt;script&gt;alert(1)&lt;/script&gt; is text here.</p>"}
    assert ok(httpx.get(f"{server.url}/api/v1/instance/terms_of_service/2026-01-15")) == shown
    assert httpx.get(f"{server.url}/api/v1/instance/terms_of_service/2026-01-16").status_code == 404
    assert httpx.get(f"{server.url}/api/v1/instance/terms_of_service/junk").status_code == 404


def test_oembed_only_for_what_anyone_may_see(server: LiveServer) -> None:
    author = server.user("embedded")
    public = post(author, "<b>bold</b> & public")
    private = post(author, "followers only", visibility="private")
    embed = ok(httpx.get(f"{server.url}/api/oembed", params={"url": public["url"]}))
    assert embed["type"] == "rich" and embed["version"] == "1.0" and embed["width"] == 400
    assert embed["author_name"] == author.username and embed["author_url"].endswith(f"/@{author.username}")
    assert "&lt;b&gt;bold&lt;/b&gt;" in embed["html"] and "<b>" not in embed["html"]
    assert public["url"] in embed["html"]
    for url in (private["url"], f"{server.url}/@nobody/{public['id']}", "https://elsewhere.example/@a/1", "", "junk"):
        assert httpx.get(f"{server.url}/api/oembed", params={"url": url}).status_code == 404, url


def test_userinfo_emails_identity_proofs_card_translate(server: LiveServer) -> None:
    user, other = server.user("whoami"), server.user("someone")
    profile = server.token(user, "profile")
    info = ok(httpx.get(f"{server.url}/oauth/userinfo", headers={"Authorization": f"Bearer {profile}"}))
    assert info["preferred_username"] == user.username and info["sub"].endswith(f"/users/{user.username}")
    assert info["iss"] == f"{server.url}/" and info["profile"] == f"{server.url}/@{user.username}"
    assert user.get("/oauth/userinfo").status_code == 403  # read/write tokens are not `profile`
    assert httpx.get(f"{server.url}/oauth/userinfo").status_code == 401

    confirm = user.post("/api/v1/emails/confirmations")
    assert confirm.status_code == 403
    assert confirm.json() == {"error": "This method is only available while the e-mail is awaiting confirmation"}

    assert ok(httpx.get(f"{server.url}/api/v1/accounts/{other.id}/identity_proofs")) == []
    assert httpx.get(f"{server.url}/api/v1/accounts/99999999999/identity_proofs").status_code == 404

    public = post(other, "a post")
    private = post(other, "a private post", visibility="private")
    assert ok(user.get(f"/api/v1/statuses/{public['id']}/card")) == {}
    assert user.get(f"/api/v1/statuses/{private['id']}/card").status_code == 404
    assert user.post(f"/api/v1/statuses/{public['id']}/translate").status_code == 404
    assert ok(httpx.get(f"{server.url}/api/v2/instance"))["configuration"]["translation"] == {"enabled": False}


def test_link_and_direct_timelines(server: LiveServer) -> None:
    alice, bob, carol = (server.user(p) for p in ("dalice", "dbob", "dcarol"))
    assert alice.get("/api/v1/timelines/link", params={"url": "https://example.com/a"}).status_code == 404
    assert alice.get("/api/v1/timelines/link").status_code == 422
    direct = post(alice, f"@{bob.username} between us", visibility="direct")
    post(alice, "in public")
    assert [s["id"] for s in ok(alice.get("/api/v1/timelines/direct"))] == [direct["id"]]
    assert [s["id"] for s in ok(bob.get("/api/v1/timelines/direct"))] == [direct["id"]]
    assert ok(carol.get("/api/v1/timelines/direct")) == []
