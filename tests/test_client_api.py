"""The client API apps call (issue 33, group 1): lists, filters, markers, preferences, bookmarks,
favourites / blocks / mutes lists and conversations, over HTTP on both backends, as Mastodon documents them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from tests.helpers import LiveServer, User
from tests.streaming_client import Stream, payload, post
from warden.store.client_models import CustomFilter
from warden.store.models import utcnow


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, (response.request.method, response.request.url, response.text)
    return response.json()


def follow(who: User, target: User) -> None:
    ok(who.post(f"/api/v1/accounts/{target.id}/follow"))


def ids(statuses: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in statuses]


def next_link(response: httpx.Response) -> str:
    return response.links["next"]["url"]


# --- unknown routes ------------------------------------------------------------------------------


def test_unknown_route_is_not_found_and_a_missing_record_is_record_not_found(server: LiveServer) -> None:
    user = server.user()
    unknown = user.get("/api/v1/no/such/endpoint")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Not found"}
    assert user.get("/api/v9/lists").json() == {"error": "Not found"}
    missing = user.get("/api/v1/lists/999999999")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Record not found"}


# --- lists ---------------------------------------------------------------------------------------


def test_list_crud_members_and_timeline(server: LiveServer) -> None:
    owner, member, other, stranger = (server.user(p) for p in ("owner", "member", "other", "stranger"))
    follow(owner, member)
    follow(owner, other)

    created = ok(owner.post("/api/v1/lists", data={"title": "Friends"}))
    assert created == {"id": created["id"], "title": "Friends", "replies_policy": "list", "exclusive": False}
    list_id = created["id"]
    assert ok(owner.get("/api/v1/lists")) == [created]
    assert owner.post("/api/v1/lists", data={"title": "  "}).json() == {"error": "Validation failed: Title can't be blank"}
    assert owner.post("/api/v1/lists", data={"title": "x", "replies_policy": "all"}).status_code == 422
    updated = ok(owner.request("PUT", f"/api/v1/lists/{list_id}", data={"title": "Close friends",
                                                                        "replies_policy": "followed"}))
    assert (updated["title"], updated["replies_policy"]) == ("Close friends", "followed")

    # only followed accounts, each once; nobody else sees or changes the list
    assert owner.post(f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [str(stranger.id)]}).status_code == 404
    assert ok(owner.post(f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [str(member.id)]})) == {}
    again = owner.post(f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [str(member.id)]})
    assert again.status_code == 422 and again.json()["error"] == "Validation failed: Account has already been taken"
    assert [a["id"] for a in ok(owner.get(f"/api/v1/lists/{list_id}/accounts"))] == [str(member.id)]
    assert [a["id"] for a in ok(owner.get(f"/api/v1/lists/{list_id}/accounts", params={"limit": 0}))] == [str(member.id)]
    assert ok(owner.get(f"/api/v1/accounts/{member.id}/lists")) == [updated]
    assert ok(owner.get(f"/api/v1/accounts/{other.id}/lists")) == []
    for method in ("GET", "PUT", "DELETE"):
        assert stranger.request(method, f"/api/v1/lists/{list_id}", data={"title": "mine"}).status_code == 404
    assert stranger.get(f"/api/v1/timelines/list/{list_id}").status_code == 404

    # the list timeline: the members' posts, not the others'
    mine = post(member, "from a member")
    post(other, "from someone else")
    timeline = owner.get(f"/api/v1/timelines/list/{list_id}")
    assert ids(ok(timeline)) == [mine["id"]]

    # members leave when unfollowed, and with them their posts
    ok(owner.post(f"/api/v1/accounts/{member.id}/unfollow"))
    assert ok(owner.get(f"/api/v1/lists/{list_id}/accounts")) == []
    assert ok(owner.get(f"/api/v1/timelines/list/{list_id}")) == []

    assert ok(owner.request("DELETE", f"/api/v1/lists/{list_id}")) == {}
    assert owner.get(f"/api/v1/lists/{list_id}").status_code == 404


def test_list_replies_policy_and_exclusive_lists_leave_home(server: LiveServer) -> None:
    owner, member, outsider = server.user("owner"), server.user("member"), server.user("outsider")
    follow(owner, member)
    list_id = ok(owner.post("/api/v1/lists", json={"title": "Quiet", "replies_policy": "none",
                                                   "exclusive": True}))["id"]
    ok(owner.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(member.id)]}))
    theirs = post(outsider, "a post by someone the owner does not follow")
    reply = post(member, f"@{outsider.username} a reply", in_reply_to_id=theirs["id"])
    top = post(member, "a post of its own")
    assert ids(ok(owner.get(f"/api/v1/timelines/list/{list_id}"))) == [top["id"]]  # replies_policy none
    ok(owner.request("PUT", f"/api/v1/lists/{list_id}", json={"replies_policy": "followed"}))
    assert ids(ok(owner.get(f"/api/v1/timelines/list/{list_id}"))) == [top["id"]]  # outsider not followed
    ok(owner.request("PUT", f"/api/v1/lists/{list_id}", json={"replies_policy": "list"}))
    assert reply["id"] not in ids(ok(owner.get(f"/api/v1/timelines/list/{list_id}")))

    # exclusive: the member's posts are not at home (the owner's own still are)
    own = post(owner, "my own post")
    assert ids(ok(owner.get("/api/v1/timelines/home"))) == [own["id"]]
    ok(owner.request("PUT", f"/api/v1/lists/{list_id}", json={"exclusive": False}))
    assert top["id"] in ids(ok(owner.get("/api/v1/timelines/home")))


def test_list_stream_delivers_members_posts_only(server: LiveServer) -> None:
    owner, member, other = server.user("owner"), server.user("member"), server.user("other")
    follow(owner, member)
    follow(owner, other)
    list_id = ok(owner.post("/api/v1/lists", data={"title": "Stream"}))["id"]
    ok(owner.post(f"/api/v1/lists/{list_id}/accounts", data={"account_ids[]": [str(member.id)]}))
    stranger = server.user("stranger")
    with Stream(server, stranger, query=f"stream=list&list={list_id}") as refused:
        assert refused.next() == {"error": "List not found", "status": 404}
    with Stream(server, owner, query=f"stream=list&list={list_id}") as stream:
        post(other, "not on the list")
        wanted = post(member, "on the list")
        frame = stream.next_event("update")
        assert frame["stream"] == ["list", list_id]
        assert payload(frame)["id"] == wanted["id"]
        # replies_policy "list": a reply to someone not on the list stays off the stream
        theirs = post(other, "a post by someone off the list")
        post(member, f"@{other.username} a reply off the list", in_reply_to_id=theirs["id"])
        marker = post(member, "and a post of its own")
        assert payload(stream.next_event("update"))["id"] == marker["id"]


def test_an_exclusive_lists_members_reach_the_list_stream_not_the_user_stream(server: LiveServer) -> None:
    owner, member, other = server.user("owner"), server.user("member"), server.user("other")
    follow(owner, member)
    follow(owner, other)
    list_id = ok(owner.post("/api/v1/lists", json={"title": "Exclusive", "exclusive": True}))["id"]
    ok(owner.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(member.id)]}))
    with Stream(server, owner, query="stream=user") as home, \
            Stream(server, owner, query=f"stream=list&list={list_id}") as on_list:
        listed = post(member, "for the list only")
        marker = post(other, "for home")
        assert payload(on_list.next_event("update"))["id"] == listed["id"]
        assert payload(home.next_event("update"))["id"] == marker["id"]  # the member's post never came


# --- filters -------------------------------------------------------------------------------------


def test_filters_v2_crud_keywords_and_statuses(server: LiveServer) -> None:
    user, other = server.user("filterer"), server.user("other")
    created = ok(user.post("/api/v2/filters", data={
        "title": "No spoilers", "context[]": ["home", "public"], "filter_action": "warn",
        "keywords_attributes[][keyword]": "finale", "keywords_attributes[][whole_word]": "false"}))
    assert created["title"] == "No spoilers" and created["context"] == ["home", "public"]
    assert created["filter_action"] == "warn" and created["expires_at"] is None and created["statuses"] == []
    assert [(k["keyword"], k["whole_word"]) for k in created["keywords"]] == [("finale", False)]
    filter_id = created["id"]
    bad = user.post("/api/v2/filters", json={"title": "", "context": []})
    assert bad.status_code == 422 and bad.json()["error"].startswith("Validation failed")
    assert user.post("/api/v2/filters", json={"title": "x", "context": ["everywhere"]}).status_code == 422

    # keywords: add, read, change, remove; and through PUT keywords_attributes
    keyword = ok(user.post(f"/api/v2/filters/{filter_id}/keywords", data={"keyword": "ending", "whole_word": "true"}))
    assert ok(user.get(f"/api/v2/filters/keywords/{keyword['id']}")) == keyword
    changed = ok(user.request("PUT", f"/api/v2/filters/keywords/{keyword['id']}", data={"keyword": "epilogue"}))
    assert changed == {"id": keyword["id"], "keyword": "epilogue", "whole_word": True}
    assert user.post(f"/api/v2/filters/{filter_id}/keywords", data={"keyword": ""}).json() == {
        "error": "Validation failed: Keyword can't be blank"}
    first = created["keywords"][0]["id"]
    put = ok(user.request("PUT", f"/api/v2/filters/{filter_id}", json={
        "title": "Spoilers", "keywords_attributes": [{"id": first, "_destroy": True},
                                                     {"keyword": "season", "whole_word": True}]}))
    assert put["title"] == "Spoilers"
    assert sorted(k["keyword"] for k in put["keywords"]) == ["epilogue", "season"]
    assert ok(user.request("DELETE", f"/api/v2/filters/keywords/{keyword['id']}")) == {}
    assert [k["keyword"] for k in ok(user.get(f"/api/v2/filters/{filter_id}/keywords"))] == ["season"]

    # statuses
    theirs = post(other, "a post to filter by id")
    status_filter = ok(user.post(f"/api/v2/filters/{filter_id}/statuses", data={"status_id": theirs["id"]}))
    assert status_filter["status_id"] == theirs["id"]
    assert ok(user.get(f"/api/v2/filters/statuses/{status_filter['id']}")) == status_filter
    assert ok(user.get(f"/api/v2/filters/{filter_id}/statuses")) == [status_filter]
    assert ok(user.get(f"/api/v2/filters/{filter_id}"))["statuses"] == [status_filter]
    assert ok(user.request("DELETE", f"/api/v2/filters/statuses/{status_filter['id']}")) == {}

    # nobody else sees them
    for path in (f"/api/v2/filters/{filter_id}", f"/api/v2/filters/{filter_id}/keywords",
                 f"/api/v2/filters/keywords/{first}"):
        assert other.get(path).status_code == 404
    assert [f["id"] for f in ok(user.get("/api/v2/filters"))] == [filter_id]
    assert ok(user.request("DELETE", f"/api/v2/filters/{filter_id}")) == {}
    assert user.get(f"/api/v2/filters/{filter_id}").status_code == 404


def test_filters_warn_and_hide_on_timelines_with_whole_words_and_expiry(server: LiveServer) -> None:
    reader, writer, bystander = server.user("reader"), server.user("writer"), server.user("bystander")
    follow(reader, writer)
    follow(bystander, writer)
    cat = post(writer, "My Cat! sleeps all day")
    category = post(writer, "a category of its own")
    hidden = post(writer, "talking about the election again")
    plain = post(writer, "nothing to see")

    warn = ok(reader.post("/api/v2/filters", json={
        "title": "Cats", "context": ["home", "public", "thread", "account"], "filter_action": "warn",
        "keywords_attributes": [{"keyword": "cat", "whole_word": True}]}))
    ok(reader.post("/api/v2/filters", json={
        "title": "Politics", "context": ["home", "public"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": "ELECTION", "whole_word": False}]}))

    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public", f"/api/v1/accounts/{writer.id}/statuses"):
        page = {s["id"]: s for s in ok(reader.get(path))}
        if path != f"/api/v1/accounts/{writer.id}/statuses":
            assert hidden["id"] not in page, path  # hide: left out on the server
        result = page[cat["id"]]["filtered"]
        assert [(r["filter"]["id"], r["keyword_matches"], r["status_matches"]) for r in result] == [
            (warn["id"], ["cat"], None)], path
        assert result[0]["filter"]["title"] == "Cats" and result[0]["filter"]["filter_action"] == "warn"
        assert page[category["id"]]["filtered"] == [], path  # whole word: "category" is not "cat"
        assert page[plain["id"]]["filtered"] == []
    # the account context has no hide filter: the post is there
    assert hidden["id"] in ids(ok(reader.get(f"/api/v1/accounts/{writer.id}/statuses")))

    # other viewers' pages are untouched (and still come from the cache)
    bystanders = {s["id"]: s for s in ok(bystander.get("/api/v1/timelines/home"))}
    assert hidden["id"] in bystanders and bystanders[cat["id"]]["filtered"] == []

    # an expired filter no longer applies
    with server.db.write() as session:
        session.execute(update(CustomFilter).where(CustomFilter.account_id == reader.id)
                        .values(expires_at=utcnow() - timedelta(minutes=1)))
    home = {s["id"]: s for s in ok(reader.get("/api/v1/timelines/home"))}
    assert hidden["id"] in home and home[cat["id"]]["filtered"] == []
    expiring = ok(reader.post("/api/v2/filters", json={"title": "soon", "context": ["home"], "expires_in": 3600,
                                                       "keywords_attributes": [{"keyword": "day"}]}))
    assert expiring["expires_at"] is not None


def test_filters_apply_to_threads_notifications_and_status_filters(server: LiveServer) -> None:
    reader, writer = server.user("reader"), server.user("writer")
    root = post(writer, "a thread starts")
    reply = post(writer, "a reply with a spoiler inside", in_reply_to_id=root["id"])
    mention = post(writer, f"@{reader.username} psst, a spoiler")
    group = ok(reader.post("/api/v2/filters", json={"title": "Spoilers", "context": ["thread", "notifications"],
                                                    "filter_action": "hide",
                                                    "keywords_attributes": [{"keyword": "spoiler"}]}))
    assert ok(reader.get(f"/api/v1/statuses/{root['id']}/context"))["descendants"] == []
    notified = [n.get("status", {}) and n["status"]["id"] for n in ok(reader.get("/api/v1/notifications"))]
    assert mention["id"] not in notified
    # a status filter marks that one post, by id
    warn = ok(reader.post("/api/v2/filters", json={"title": "This one", "context": ["thread"]}))
    ok(reader.post(f"/api/v2/filters/{warn['id']}/statuses", data={"status_id": root["id"]}))
    ok(reader.request("DELETE", f"/api/v2/filters/{group['id']}"))
    context = ok(reader.get(f"/api/v1/statuses/{reply['id']}/context"))
    assert context["ancestors"][0]["filtered"][0]["status_matches"] == [root["id"]]
    assert context["ancestors"][0]["filtered"][0]["keyword_matches"] is None


def test_filters_v1_is_one_keyword_per_filter(server: LiveServer) -> None:
    user = server.user("v1")
    created = ok(user.post("/api/v1/filters", data={"phrase": "eurovision", "context[]": ["home", "public"],
                                                    "irreversible": "true", "whole_word": "true"}))
    assert created["phrase"] == "eurovision" and created["context"] == ["home", "public"]
    assert created["irreversible"] is True and created["whole_word"] is True and created["expires_at"] is None
    assert ok(user.get("/api/v1/filters")) == [created]
    assert ok(user.get(f"/api/v1/filters/{created['id']}")) == created
    group = ok(user.get("/api/v2/filters"))[0]
    assert group["title"] == "eurovision" and group["filter_action"] == "hide"
    assert [k["id"] for k in group["keywords"]] == [created["id"]]
    changed = ok(user.request("PUT", f"/api/v1/filters/{created['id']}", data={
        "phrase": "song contest", "context[]": ["home"], "irreversible": "false"}))
    assert (changed["phrase"], changed["context"], changed["irreversible"]) == ("song contest", ["home"], False)
    assert user.post("/api/v1/filters", data={"phrase": "", "context[]": ["home"]}).status_code == 422
    assert user.post("/api/v1/filters", data={"phrase": "x"}).status_code == 422
    assert ok(user.request("DELETE", f"/api/v1/filters/{created['id']}")) == {}
    assert ok(user.get("/api/v1/filters")) == []


def test_a_hide_filter_drops_posts_from_the_user_stream_and_a_warn_filter_marks_them(server: LiveServer) -> None:
    reader, writer = server.user("reader"), server.user("writer")
    follow(reader, writer)
    ok(reader.post("/api/v2/filters", json={"title": "Hide", "context": ["home"], "filter_action": "hide",
                                            "keywords_attributes": [{"keyword": "forbidden"}]}))
    warn = ok(reader.post("/api/v2/filters", json={"title": "Warn", "context": ["home"],
                                                   "keywords_attributes": [{"keyword": "careful"}]}))
    with Stream(server, reader, query="stream=user") as stream:
        post(writer, "a forbidden word")
        marked = post(writer, "be careful here")
        frame = payload(stream.next_event("update"))  # the hidden post never came
        assert frame["id"] == marked["id"]
        assert frame["filtered"][0]["filter"]["id"] == warn["id"]
        assert frame["filtered"][0]["keyword_matches"] == ["careful"]


# --- markers and preferences ---------------------------------------------------------------------


def test_markers_are_saved_and_versioned(server: LiveServer) -> None:
    user = server.user("marker")
    assert ok(user.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]})) == {}
    saved = ok(user.post("/api/v1/markers", data={"home[last_read_id]": "103", "notifications[last_read_id]": "7"}))
    assert saved["home"]["last_read_id"] == "103" and saved["home"]["version"] == 1
    assert saved["notifications"]["last_read_id"] == "7"
    again = ok(user.post("/api/v1/markers", json={"home": {"last_read_id": "110"}}))
    assert again["home"] == {**again["home"], "last_read_id": "110", "version": 2}
    read = ok(user.get("/api/v1/markers", params={"timeline[]": ["home", "notifications"]}))
    assert read["home"]["last_read_id"] == "110" and read["notifications"]["version"] == 1
    assert ok(user.get("/api/v1/markers", params={"timeline[]": "home"})).keys() == {"home"}
    assert user.post("/api/v1/markers", data={"home[last_read_id]": "abc"}).status_code == 422
    assert server.user("other").get("/api/v1/markers", params={"timeline[]": "home"}).json() == {}


def test_preferences(server: LiveServer) -> None:
    user = server.user("prefs")
    assert ok(user.get("/api/v1/preferences")) == {
        "posting:default:visibility": "public", "posting:default:sensitive": False,
        "posting:default:language": None, "reading:expand:media": "default", "reading:expand:spoilers": False}


# --- bookmarks, favourites, blocks, mutes --------------------------------------------------------


def test_bookmarks_favourites_and_their_pagination(server: LiveServer) -> None:
    reader, writer = server.user("reader"), server.user("writer")
    follow(reader, writer)
    posts = [post(writer, f"bookmark me {i}") for i in range(5)]
    for p in posts:
        assert ok(reader.post(f"/api/v1/statuses/{p['id']}/bookmark"))["bookmarked"] is True
        ok(reader.post(f"/api/v1/statuses/{p['id']}/favourite"))
    assert ok(reader.get(f"/api/v1/statuses/{posts[0]['id']}"))["bookmarked"] is True
    assert ok(writer.get(f"/api/v1/statuses/{posts[0]['id']}"))["bookmarked"] is False  # private to the reader
    home = {s["id"]: s for s in ok(reader.get("/api/v1/timelines/home"))}
    assert all(home[p["id"]]["bookmarked"] and home[p["id"]]["favourited"] for p in posts)

    for path in ("/api/v1/bookmarks", "/api/v1/favourites"):
        first = reader.get(path, params={"limit": 2})
        assert ids(ok(first)) == [posts[4]["id"], posts[3]["id"]], path
        second = reader.get(next_link(first))
        assert ids(ok(second)) == [posts[2]["id"], posts[1]["id"]], path
        assert ids(ok(reader.get(next_link(second)))) == [posts[0]["id"]], path
    assert ok(reader.post(f"/api/v1/statuses/{posts[0]['id']}/unbookmark"))["bookmarked"] is False
    assert posts[0]["id"] not in ids(ok(reader.get("/api/v1/bookmarks")))
    assert ok(writer.get("/api/v1/bookmarks")) == []
    assert reader.post("/api/v1/statuses/999999999/bookmark").status_code == 404
    # a deleted post leaves the bookmarks
    ok(writer.request("DELETE", f"/api/v1/statuses/{posts[4]['id']}"))
    assert posts[4]["id"] not in ids(ok(reader.get("/api/v1/bookmarks")))


def test_blocks_and_mutes_lists(server: LiveServer) -> None:
    user = server.user("lister")
    blocked = [server.user("blocked") for _ in range(3)]
    muted = server.user("muted")
    for target in blocked:
        ok(user.post(f"/api/v1/accounts/{target.id}/block"))
    ok(user.post(f"/api/v1/accounts/{muted.id}/mute"))
    first = user.get("/api/v1/blocks", params={"limit": 2})
    assert [a["id"] for a in ok(first)] == [str(blocked[2].id), str(blocked[1].id)]
    assert [a["id"] for a in ok(user.get(next_link(first)))] == [str(blocked[0].id)]
    assert [a["id"] for a in ok(user.get("/api/v1/mutes"))] == [str(muted.id)]
    ok(user.post(f"/api/v1/accounts/{muted.id}/unmute"))
    assert ok(user.get("/api/v1/mutes")) == []
    assert ok(blocked[0].get("/api/v1/blocks")) == []


# --- conversations -------------------------------------------------------------------------------


def test_conversations_unread_read_reply_and_delete(server: LiveServer) -> None:
    alice, bob, carol = server.user("alice"), server.user("bob"), server.user("carol")
    dm = post(alice, f"@{bob.username} hello in private", visibility="direct")
    [theirs] = ok(bob.get("/api/v1/conversations"))
    assert theirs["unread"] is True and theirs["last_status"]["id"] == dm["id"]
    assert [a["id"] for a in theirs["accounts"]] == [str(alice.id)]
    [mine] = ok(alice.get("/api/v1/conversations"))
    assert mine["unread"] is False and [a["id"] for a in mine["accounts"]] == [str(bob.id)]
    assert ok(carol.get("/api/v1/conversations")) == []

    read = ok(bob.post(f"/api/v1/conversations/{theirs['id']}/read"))
    assert read["unread"] is False and read["id"] == theirs["id"]
    assert alice.post(f"/api/v1/conversations/{theirs['id']}/read").status_code == 404

    # a reply in the thread is the same conversation, now unread for alice
    answer = post(bob, f"@{alice.username} hi back", visibility="direct", in_reply_to_id=dm["id"])
    [mine] = ok(alice.get("/api/v1/conversations"))
    assert mine["last_status"]["id"] == answer["id"] and mine["unread"] is True
    # a new thread is a new conversation, listed first; pages go by the newest post
    other = post(alice, f"@{bob.username} another topic", visibility="direct")
    listed = bob.get("/api/v1/conversations", params={"limit": 1})
    assert [c["last_status"]["id"] for c in ok(listed)] == [other["id"]]
    assert [c["last_status"]["id"] for c in ok(bob.get(next_link(listed)))] == [answer["id"]]
    # a deleted post leaves: the conversation falls back to the one before it
    ok(alice.request("DELETE", f"/api/v1/statuses/{other['id']}"))
    later = post(alice, f"@{bob.username} one more word", visibility="direct", in_reply_to_id=answer["id"])
    assert ok(bob.get("/api/v1/conversations"))[0]["last_status"]["id"] == later["id"]
    ok(alice.request("DELETE", f"/api/v1/statuses/{later['id']}"))
    assert [c["last_status"]["id"] for c in ok(bob.get("/api/v1/conversations"))] == [answer["id"]]
    other = post(alice, f"@{bob.username} another topic, once more", visibility="direct")
    # deleting removes it from the reader's list only
    assert ok(bob.request("DELETE", f"/api/v1/conversations/{theirs['id']}")) == {}
    assert [c["id"] for c in ok(bob.get("/api/v1/conversations"))] != [theirs["id"]]
    assert theirs["id"] not in [c["id"] for c in ok(bob.get("/api/v1/conversations"))]
    assert len(ok(alice.get("/api/v1/conversations"))) == 2


def test_direct_stream_conversation_event_names_the_conversation(server: LiveServer) -> None:
    alice, bob = server.user("alice"), server.user("bob")
    with Stream(server, bob, query="stream=direct") as stream:
        dm = post(alice, f"@{bob.username} streamed secret", visibility="direct")
        event = payload(stream.next_event("conversation"))
    [listed] = ok(bob.get("/api/v1/conversations"))
    assert event["id"] == listed["id"] and event["unread"] is True
    assert event["last_status"]["id"] == dm["id"]
