"""Mastodon's streaming API: live timelines, notifications and deletes, with the timelines' visibility rules.

What must not arrive is checked without waiting: a marker that must arrive is posted after it, and the
marker has to be the next frame (streams deliver in outbox order).
"""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.helpers import LiveServer, User
from tests.streaming_client import Stream, payload, post
from warden.streaming import connection_count
from warden.streaming.hub import Frame


def follow(follower: User, target: User) -> None:
    assert follower.post(f"/api/v1/accounts/{target.id}/follow").status_code == 200


def test_health_answers_ok_as_plain_text(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/api/v1/streaming/health")
    assert response.status_code == 200
    assert response.text == "OK" and response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_missing_or_bad_token_is_refused_with_401_before_the_upgrade(server: LiveServer, token: str | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        Stream(server, None, query="stream=public", token=token)
    assert refused.value.response.status_code == 401
    assert b"error" in refused.value.response.body


def test_a_token_without_read_scope_is_refused(server: LiveServer) -> None:
    writer = server.user("writeonly", scopes="write")
    with pytest.raises(InvalidStatus) as refused:
        Stream(server, writer, query="stream=user")
    assert refused.value.response.status_code == 401


def test_user_stream_gets_a_followed_accounts_post_and_a_mention_notification(server: LiveServer) -> None:
    reader, author, stranger = server.user("reader"), server.user("author"), server.user("stranger")
    follow(reader, author)
    with Stream(server, reader, query="stream=user") as stream:
        assert connection_count() >= 1
        post(stranger, "not followed, not on the home stream")
        posted = post(author, "Hello <b>followers</b> #streams")
        frame = stream.next_event("update")
        assert frame["stream"] == ["user"]
        status = payload(frame)
        assert status["id"] == posted["id"] and status["account"]["id"] == str(author.id)
        assert status["content"] == posted["content"] and "<b>" not in status["content"]  # escaped as on REST

        mention = post(stranger, f"@{reader.username} hi there")
        frame = stream.next_event("notification")
        notification = payload(frame)
        assert notification["type"] == "mention" and notification["status"]["id"] == mention["id"]


def test_user_notification_stream_only_carries_notifications(server: LiveServer) -> None:
    reader, author = server.user("reader"), server.user("author")
    follow(reader, author)
    with Stream(server, reader, query="stream=user:notification") as stream:
        post(author, "a home post the notification stream does not carry")
        author.post(f"/api/v1/accounts/{reader.id}/follow")
        frame = stream.next_event("notification")
        assert frame["stream"] == ["user:notification"] and payload(frame)["type"] == "follow"


def test_public_and_hashtag_streams_subscribed_by_message(server: LiveServer) -> None:
    viewer, author = server.user("viewer"), server.user("author")
    with Stream(server, viewer) as stream:
        stream.subscribe("hashtag", tag="Kittens")
        stream.subscribe("public:local")
        stream.sync()
        post(author, "unlisted posts stay off public streams #kittens", visibility="unlisted")
        tagged = post(author, "look #kittens")
        frames = [stream.next_event("update"), stream.next_event("update")]
        assert sorted(f["stream"] for f in frames) == [["hashtag", "kittens"], ["public:local"]]
        assert {payload(f)["id"] for f in frames} == {tagged["id"]}

        stream.unsubscribe("hashtag", tag="kittens")
        stream.sync()
        plain = post(author, "more #kittens")
        frame = stream.next_event("update")
        assert frame["stream"] == ["public:local"] and payload(frame)["id"] == plain["id"]


def test_stream_errors_are_answered_on_the_socket(server: LiveServer) -> None:
    viewer = server.user("viewer")
    with Stream(server, viewer) as stream:
        stream.subscribe("hashtag")
        assert stream.next() == {"error": "No tag for stream provided", "status": 400}
        stream.subscribe("list", list="12")
        assert stream.next() == {"error": "List not found", "status": 404}
        stream.ws.send("{not json")
        assert stream.next()["status"] == 400


def test_blocked_and_muted_authors_never_arrive(server: LiveServer) -> None:
    viewer, blocked, blocker, muted, other = (server.user(p) for p in ("viewer", "blocked", "blocker", "muted", "other"))
    assert viewer.post(f"/api/v1/accounts/{blocked.id}/block").status_code == 200
    assert blocker.post(f"/api/v1/accounts/{viewer.id}/block").status_code == 200
    assert viewer.post(f"/api/v1/accounts/{muted.id}/mute").status_code == 200
    with Stream(server, viewer, query="stream=public") as stream:
        post(blocked, "from someone the viewer blocked")
        post(blocker, "from someone who blocked the viewer")
        post(muted, "from someone the viewer muted")
        marker = post(other, "marker")
        assert payload(stream.next_event("update"))["id"] == marker["id"]


def test_private_posts_reach_followers_only_and_direct_posts_only_the_direct_stream(server: LiveServer) -> None:
    author, follower, outsider, friend = (server.user(p) for p in ("author", "follower", "outsider", "friend"))
    follow(follower, author)
    with Stream(server, follower, query="stream=user") as home, \
            Stream(server, outsider, query="stream=public") as public, \
            Stream(server, friend, query="stream=direct") as direct:
        private = post(author, "followers only", visibility="private")
        assert payload(home.next_event("update"))["id"] == private["id"]
        dm = post(author, f"@{friend.username} just between us", visibility="direct")
        frame = direct.next_event("conversation")
        conversation = payload(frame)
        assert conversation["last_status"]["id"] == dm["id"]
        assert [a["id"] for a in conversation["accounts"]] == [str(author.id)]
        marker = post(author, "public marker")
        assert payload(home.next_event("update"))["id"] == marker["id"]  # neither the direct post
        assert payload(public.next_event("update"))["id"] == marker["id"]  # nor the private one


def test_deleting_a_post_sends_delete_to_the_streams_that_showed_it(server: LiveServer) -> None:
    author, reader = server.user("author"), server.user("reader")
    follow(reader, author)
    with Stream(server, reader, query="stream=user") as stream:
        posted = post(author, "soon gone")
        stream.next_event("update")
        assert author.request("DELETE", f"/api/v1/statuses/{posted['id']}").status_code == 200
        frame = stream.next_event("delete")
        assert frame == {"stream": ["user"], "event": "delete", "payload": posted["id"]}


def test_reblog_arrives_wrapped_and_an_edit_arrives_as_status_update(server: LiveServer) -> None:
    author, booster, reader = server.user("author"), server.user("booster"), server.user("reader")
    follow(reader, booster)
    with Stream(server, reader, query="stream=user") as stream, Stream(server, author, query="stream=user") as own:
        original = post(author, "worth sharing")
        assert payload(own.next_event("update"))["id"] == original["id"]  # your own posts are on your home
        assert booster.post(f"/api/v1/statuses/{original['id']}/reblog").status_code == 200
        wrapper = payload(stream.next_event("update"))
        assert wrapper["reblog"]["id"] == original["id"] and wrapper["account"]["id"] == str(booster.id)
        assert payload(own.next_event("notification"))["type"] == "reblog"
        edited = author.request("PUT", f"/api/v1/statuses/{original['id']}", data={"status": "worth sharing, edited"})
        assert edited.status_code == 200, edited.text
        frame = own.next_event("status.update")
        assert "edited" in payload(frame)["content"]


def test_server_sent_events_carry_the_same_stream(server: LiveServer) -> None:
    viewer, author = server.user("viewer"), server.user("author")
    with httpx.Client(base_url=server.url, headers=viewer.headers, timeout=30) as http:
        assert http.get("/api/v1/streaming/nowhere").status_code == 400
        with http.stream("GET", "/api/v1/streaming/public/local") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.iter_lines()
            assert next(lines).startswith(":")
            posted = post(author, "over server-sent events")
            event = next(line for line in lines if line.startswith("event:"))
            data = next(lines)
            assert event == "event: update" and f'"id":"{posted["id"]}"' in data


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_the_batched_visibility_check_agrees_with_can_see_and_the_mute_rule(server: LiveServer,
                                                                            visibility: str) -> None:
    """`filter.may_see` answers for many viewers at once; it must say what `statuses.can_see` says for
    each, less the viewers who muted the author (as timelines do)."""
    from warden.platform import accounts, statuses
    from warden.store.models import Account, Status
    from warden.streaming.filter import may_see

    names = ("author", "follower", "stranger", "mentioned", "blocked", "blocker", "muter")
    users = {name: server.user(name) for name in names}
    with server.db.write() as session:
        me = {name: session.get(Account, u.id) for name, u in users.items()}
        accounts.follow(session, me["follower"], users["author"].id)
        accounts.follow(session, me["muter"], users["author"].id)
        accounts.block(session, me["author"], users["blocked"].id)
        accounts.block(session, me["blocker"], users["author"].id)
        accounts.mute(session, me["muter"], users["author"].id)
        status_id = statuses.create(session, server.settings, me["author"], visibility=visibility,
                                    text=f"hello @{users['mentioned'].username}").status.id  # type: ignore[union-attr]
    with server.db.read() as session:
        status = session.get(Status, status_id)
        author = session.get(Account, users["author"].id)
        viewers = {u.id for u in users.values()}
        expected = {v for v in viewers if statuses.can_see(session, v, status, author)} - {users["muter"].id}
        assert may_see(session, status, author, viewers) == expected
        assert users["author"].id in expected and users["blocked"].id not in expected


def test_each_connection_retracts_a_post_on_the_streams_it_showed_it_on() -> None:
    from warden.streaming.hub import Connection, Shown

    home, public = Connection(1, frozenset({"read"})), Connection(2, frozenset({"read"}))
    shown = Shown(account_ids=frozenset({7}), reblog_of_id=None)  # one description, shared by every delivery
    home.remember(40, shown, ["user"])
    public.remember(40, shown, ["public:local"])
    public.remember(41, Shown(account_ids=frozenset({7, 8}), reblog_of_id=40), ["public:local"])
    home.retract(40)
    public.retract_account(7)
    assert [home.queue.get_nowait()] == [Frame(["user"], "delete", "40")]
    assert [public.queue.get_nowait(), public.queue.get_nowait()] == [Frame(["public:local"], "delete", "40"),
                                                                       Frame(["public:local"], "delete", "41")]
    assert home.queue.empty() and public.queue.empty() and not home.shown and not public.shown
