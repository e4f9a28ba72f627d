"""Mastodon.py, unmodified, through the lists, filters, bookmarks, markers and conversations flows
(issue 33): every call it makes must answer as Mastodon does, with no 404."""

from __future__ import annotations

from tests.helpers import LiveServer
from tests.test_mastodon_client import register


def test_lists_filters_bookmarks_markers_and_conversations_with_mastodon_py(server: LiveServer) -> None:
    alice, bob, carol = register(server), register(server), register(server)
    alice_me, bob_me, carol_me = alice.me(), bob.me(), carol.me()
    alice.account_follow(bob_me.id)
    alice.account_follow(carol_me.id)

    # lists: create, add a member, read its timeline, change it, the account's lists, delete
    friends = alice.list_create("Friends", replies_policy="list", exclusive=False)
    alice.list_accounts_add(friends, [bob_me.id])
    assert [a.id for a in alice.list_accounts(friends)] == [bob_me.id]
    assert [entry.id for entry in alice.lists()] == [friends.id]
    bob_post = bob.status_post("Hello from Bob")
    carol.status_post("Hello from Carol")
    assert [s.id for s in alice.timeline_list(friends)] == [bob_post.id]
    renamed = alice.list_update(friends, "Best friends", replies_policy="followed", exclusive=True)
    assert (renamed.title, renamed.replies_policy, renamed.exclusive) == ("Best friends", "followed", True)
    assert [entry.id for entry in alice.account_lists(bob_me.id)] == [friends.id]
    assert bob_post.id not in [s.id for s in alice.timeline_home()]  # an exclusive list's member
    alice.list_accounts_delete(friends, [bob_me.id])
    assert alice.list_accounts(friends) == []
    alice.list_delete(friends)
    assert alice.lists() == []

    # filters v2 (JSON bodies) and v1 (form bodies)
    spoilers = alice.create_filter_v2("Spoilers", context=["home", "public"], filter_action="warn",
                                      keywords_attributes=[{"keyword": "finale", "whole_word": True}])
    assert [k.keyword for k in spoilers.keywords] == ["finale"]
    alice.add_filter_keyword_v2(spoilers, "ending", whole_word=False)
    assert sorted(k.keyword for k in alice.filter_keywords_v2(spoilers)) == ["ending", "finale"]
    flagged = carol.status_post("The finale was wild")
    alice.add_filter_status_v2(spoilers, bob_post.id)
    home = {s.id: s for s in alice.timeline_home()}
    assert home[flagged.id].filtered[0].keyword_matches == ["finale"]
    assert home[flagged.id].filtered[0].filter.title == "Spoilers"
    assert [f.id for f in alice.filters_v2()] == [spoilers.id]
    legacy = alice.filter_create("eurovision", ["home"], irreversible=True, whole_word=True)
    assert [f.phrase for f in alice.filters()] == ["finale", "ending", "eurovision"]
    alice.filter_delete(legacy)
    alice.delete_filter_v2(spoilers)
    assert [f.title for f in alice.filters_v2()] == ["eurovision"]  # a v1 delete removes only the keyword
    assert alice.filters() == []

    # bookmarks and the favourites list
    alice.status_bookmark(flagged)
    alice.status_favourite(bob_post)
    assert [s.id for s in alice.bookmarks()] == [flagged.id]
    assert alice.status(flagged.id).bookmarked is True
    assert [s.id for s in alice.favourites()] == [bob_post.id]
    alice.status_unbookmark(flagged)
    assert alice.bookmarks() == []

    # markers and preferences
    alice.markers_set(["home", "notifications"], [flagged.id, "1"])
    markers = alice.markers_get(["home", "notifications"])
    assert markers.home.last_read_id == flagged.id and markers.notifications.version == 1
    assert alice.preferences()["posting:default:visibility"] == "public"

    # blocks and mutes lists
    alice.account_mute(carol_me.id)
    assert [a.id for a in alice.mutes()] == [carol_me.id]
    alice.account_block(carol_me.id)
    assert [a.id for a in alice.blocks()] == [carol_me.id]

    # conversations
    dm = bob.status_post(f"@{alice_me.username} psst", visibility="direct")
    [conversation] = alice.conversations()
    assert conversation.unread is True and conversation.last_status.id == dm.id
    assert [a.id for a in conversation.accounts] == [bob_me.id]
    assert alice.conversations_read(conversation).unread is False
    assert alice.conversations()[0].unread is False
