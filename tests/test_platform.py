"""Platform behaviour over HTTP: visibility, relations, idempotency, escaping, search, instance, OpenAPI."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from tests.helpers import LiveServer
from warden.platform import statuses
from warden.policy.gate import Draft, Verdict
from warden.store.models import Account, OutboxEvent, Status


def post(user, text: str, **fields: str) -> dict:  # type: ignore[no-untyped-def]
    response = user.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_visibility_rules(server: LiveServer) -> None:
    author, follower, stranger, mentioned = (server.user(p) for p in ("author", "fan", "stranger", "named"))
    follower.post(f"/api/v1/accounts/{author.id}/follow")
    public = post(author, "public words")
    unlisted = post(author, "unlisted words", visibility="unlisted")
    private = post(author, "followers only", visibility="private")
    direct = post(author, f"@{mentioned.username} just for you", visibility="direct")

    everything = (public, unlisted, private, direct)
    for viewer, expected in ((follower, (public, unlisted, private)), (stranger, (public, unlisted)),
                             (mentioned, (public, unlisted, direct))):
        for status in everything:
            code = viewer.get(f"/api/v1/statuses/{status['id']}").status_code
            visible = any(status is e for e in expected)
            assert code == (200 if visible else 404), (viewer.username, status["visibility"])
    assert httpx.get(f"{server.url}/api/v1/statuses/{private['id']}").status_code == 404

    home = ids(follower.get("/api/v1/timelines/home"))
    assert public["id"] in home and private["id"] in home and direct["id"] not in home
    local = ids(httpx.get(f"{server.url}/api/v1/timelines/public?limit=40"))
    assert public["id"] in local and unlisted["id"] not in local and private["id"] not in local
    profile = ids(stranger.get(f"/api/v1/accounts/{author.id}/statuses"))
    assert set(profile) == {public["id"], unlisted["id"]}


def test_blocks_and_mutes(server: LiveServer) -> None:
    alice, bob, carol = server.user("alice"), server.user("bob"), server.user("carol")
    bob.post(f"/api/v1/accounts/{alice.id}/follow")
    bob.post(f"/api/v1/accounts/{carol.id}/follow")
    alice_post = post(alice, "from alice")
    carol_post = post(carol, "from carol")

    rel = alice.post(f"/api/v1/accounts/{bob.id}/block").json()
    assert rel["blocking"] is True
    assert bob.get(f"/api/v1/statuses/{alice_post['id']}").status_code == 404
    assert alice_post["id"] not in ids(bob.get("/api/v1/timelines/home"))
    assert bob.post(f"/api/v1/accounts/{alice.id}/follow").status_code == 403
    assert bob.get(f"/api/v1/accounts/relationships?id[]={alice.id}").json()[0]["blocked_by"] is True
    # Blocking removed the follow; unblocking does not bring it back.
    alice.post(f"/api/v1/accounts/{bob.id}/unblock")
    assert bob.get(f"/api/v1/accounts/relationships?id[]={alice.id}").json()[0]["following"] is False

    bob.post(f"/api/v1/accounts/{carol.id}/mute")
    assert carol_post["id"] not in ids(bob.get("/api/v1/timelines/home"))
    post(carol, f"@{bob.username} hello?")
    assert [n for n in bob.get("/api/v1/notifications").json() if n["account"]["id"] == str(carol.id)] == []
    bob.post(f"/api/v1/accounts/{carol.id}/unmute")
    assert carol_post["id"] in ids(bob.get("/api/v1/timelines/home"))


def test_idempotency_key_returns_the_first_post(server: LiveServer) -> None:
    user = server.user()
    headers = {"Idempotency-Key": "retry-123"}
    first = user.post("/api/v1/statuses", data={"status": "only once"}, headers=headers).json()
    second = user.post("/api/v1/statuses", data={"status": "only once"}, headers=headers).json()
    assert first["id"] == second["id"]
    assert len(user.get(f"/api/v1/accounts/{user.id}/statuses").json()) == 1


HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '"><svg onload=alert(1)>',
    'javascript:alert(1)',
    'https://example.org/"onmouseover="alert(1)',
    '<a href="javascript:alert(1)">click</a>',
    '\u202egnp.exe <b>bold</b>',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_text_is_escaped_not_executed(server: LiveServer, payload: str) -> None:
    user = server.user()
    status = post(user, payload)
    html = status["content"]
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<b>" not in html
    assert "onerror=" not in html.replace("onerror=alert", "") or "&lt;" in html
    assert 'href="javascript:' not in html
    # The text comes back exactly as written when the author deletes it (delete-and-redraft).
    assert user.request("DELETE", f"/api/v1/statuses/{status['id']}").json()["text"] == payload


def test_links_mentions_and_hashtags_render(server: LiveServer) -> None:
    user, friend = server.user(), server.user("friend")
    html = post(user, f"see https://example.org/a?b=1&c=2, @{friend.username} and #Tagged!")["content"]
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html
    assert f'href="{server.url}/@{friend.username}"' in html and "u-url mention" in html
    assert f'href="{server.url}/tags/tagged"' in html
    tag_timeline = ids(httpx.get(f"{server.url}/api/v1/timelines/tag/tagged"))
    assert len(tag_timeline) >= 1


def test_edit_passes_the_gate_and_updates(server: LiveServer) -> None:
    user = server.user()
    status = post(user, "first version #old")
    edited = user.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": "second version #new"})
    assert edited.status_code == 200
    body = edited.json()
    assert "second version" in body["content"] and body["edited_at"] is not None
    assert [t["name"] for t in body["tags"]] == ["new"]
    other = server.user()
    assert other.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": "hijack"}).status_code == 403


def test_profile_update_and_lookup(server: LiveServer) -> None:
    user = server.user()
    response = user.request("PATCH", "/api/v1/accounts/update_credentials",
                            data={"display_name": "<b>Bold</b> Name", "note": "line one\n\n<i>two</i>"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "<b>Bold</b> Name"  # plain text field, clients escape it
    assert "&lt;i&gt;two&lt;/i&gt;" in response.json()["note"]
    found = httpx.get(f"{server.url}/api/v1/accounts/lookup", params={"acct": user.username}).json()
    assert found["id"] == str(user.id)
    too_long = user.request("PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "x" * 31})
    assert too_long.status_code == 422


def test_followers_following_pagination(server: LiveServer) -> None:
    star = server.user("star")
    fans = [server.user("fan") for _ in range(5)]
    for fan in fans:
        fan.post(f"/api/v1/accounts/{star.id}/follow")
    first = star.get(f"/api/v1/accounts/{star.id}/followers?limit=2")
    assert [a["id"] for a in first.json()] == [str(fans[4].id), str(fans[3].id)]
    next_url = first.links["next"]["url"]
    second = star.get(next_url.replace(server.url, ""))
    assert [a["id"] for a in second.json()] == [str(fans[2].id), str(fans[1].id)]
    assert star.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 5


def test_search(server: LiveServer) -> None:
    user = server.user("searcher")
    post(user, "zebra crossing #zebrawatch")
    result = user.get("/api/v2/search", params={"q": "zebra"}).json()
    assert any("zebra crossing" in s["content"] for s in result["statuses"])
    assert [t["name"] for t in result["hashtags"]] == ["zebrawatch"]
    accounts = user.get("/api/v2/search", params={"q": user.username, "type": "accounts"}).json()["accounts"]
    assert [a["id"] for a in accounts] == [str(user.id)]
    assert user.get("/api/v2/search", params={"q": "x", "type": "nonsense"}).status_code == 422


def test_instance_and_openapi(server: LiveServer, client: httpx.Client) -> None:
    v1 = client.get("/api/v1/instance").json()
    assert v1["version"].startswith("4.2.0 (compatible; Warden")
    assert v1["configuration"]["statuses"]["max_characters"] == 500
    v2 = client.get("/api/v2/instance").json()
    assert v2["registrations"]["enabled"] is True
    assert isinstance(client.get("/api/v1/instance/rules").json(), list)
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/statuses", "/api/v1/timelines/home", "/api/v1/accounts/{account_id}/follow",
                 "/oauth/token", "/api/v2/search", "/api/v1/reports", "/api/v1/notifications"):
        assert path in spec["paths"], path


class ExplodingGate:
    """A gate that fails, as a crashing detector would."""

    def moderate(self, session, draft: Draft) -> Verdict:  # type: ignore[no-untyped-def]
        raise RuntimeError("detector crashed")


def test_failed_write_transaction_leaves_neither_post_nor_event(server: LiveServer) -> None:
    user = server.user()
    db = server.db

    def counts() -> tuple[int, int]:
        with db.read() as s:
            return (s.scalar(select(func.count()).select_from(Status).where(Status.account_id == user.id)),
                    s.scalar(select(func.count()).select_from(OutboxEvent)))

    before = counts()
    # 1. The transaction fails after the post and its event were written (e.g. the commit is interrupted).
    with pytest.raises(RuntimeError):
        with db.write() as s:
            author = s.get(Account, user.id)
            result = statuses.create(s, server.settings, author, text="never committed")
            assert result.status is not None and result.status.id is not None
            raise RuntimeError("crash before commit")
    assert counts() == before
    # 2. The gate itself fails: nothing is written either.
    with pytest.raises(RuntimeError):
        with db.write() as s:
            statuses.create(s, server.settings, s.get(Account, user.id), text="gate explodes", gate=ExplodingGate())
    assert counts() == before
    # 3. A successful post writes exactly one post and one event, together.
    with db.write() as s:
        statuses.create(s, server.settings, s.get(Account, user.id), text="committed")
    assert counts() == (before[0] + 1, before[1] + 1)


def test_concurrent_posts_creating_the_same_new_hashtag(server: LiveServer) -> None:
    """Several posts introducing one new tag at the same moment all succeed (no unique-key race)."""
    from concurrent.futures import ThreadPoolExecutor

    users = [server.user("tagger") for _ in range(6)]
    tag = f"fresh{users[0].id}"
    with ThreadPoolExecutor(len(users)) as pool:
        responses = list(pool.map(lambda u: u.post("/api/v1/statuses", data={"status": f"first! #{tag}"}), users))
    assert [r.status_code for r in responses] == [200] * len(users)
    assert len(ids(httpx.get(f"{server.url}/api/v1/timelines/tag/{tag}"))) == len(users)


def test_concurrent_follows_and_favourites_count_once(server: LiveServer) -> None:
    """The same follow or favourite sent several times at once is recorded once, without errors."""
    from concurrent.futures import ThreadPoolExecutor

    fan, star = server.user("fan"), server.user("star")
    status = post(star, "favourite me")
    with ThreadPoolExecutor(6) as pool:
        follows = list(pool.map(lambda _: fan.post(f"/api/v1/accounts/{star.id}/follow"), range(6)))
        favourites = list(pool.map(lambda _: fan.post(f"/api/v1/statuses/{status['id']}/favourite"), range(6)))
    assert [r.status_code for r in follows + favourites] == [200] * 12
    assert star.get("/api/v1/accounts/verify_credentials").json()["followers_count"] == 1
    assert star.get(f"/api/v1/statuses/{status['id']}").json()["favourites_count"] == 1
    kinds = [n["type"] for n in star.get("/api/v1/notifications").json()]
    assert kinds.count("follow") == 1 and kinds.count("favourite") == 1


def test_concurrent_retries_with_one_idempotency_key_publish_once(server: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = server.user()
    headers = {"Idempotency-Key": "k" * 300}  # longer than the stored 200 characters: still one key
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(
            lambda _: user.post("/api/v1/statuses", data={"status": "sent once"}, headers=headers), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(user.get(f"/api/v1/accounts/{user.id}/statuses").json()) == 1
