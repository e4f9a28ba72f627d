"""Mastodon.py (the dev extra's pinned release), unmodified: the media, lists, filters, bookmarks, polls
and conversations flows a stock app runs, each asserting its results and that no request answered 404."""

from __future__ import annotations

import io

import httpx
from mastodon import Mastodon

from tests.clients.conftest import Window, png_bytes
from tests.helpers import LiveServer, User


def client(server: LiveServer, user: User) -> Mastodon:
    """A Mastodon.py client as an app builds it (checking the server's version as it logs in)."""
    return Mastodon(access_token=user.token, api_base_url=server.url, version_check_mode="created")


def test_media_upload_and_post(watched: LiveServer, window: Window) -> None:
    alice, bob = watched.user("mpmedia"), watched.user("mpmedia")
    api, bob_api = client(watched, alice), client(watched, bob)
    bob_api.account_follow(alice.id)

    picture = png_bytes(320, 200)
    media = api.media_post(io.BytesIO(picture), mime_type="image/png", description="A pink square",
                           file_name="square.png", synchronous=True)
    assert media.type == "image" and media.description == "A pink square"
    assert media.meta.original.width == 320 and media.meta.original.height == 200
    media = api.media_update(media, description="A pink rectangle", focus=(0.5, -0.25))
    assert media.description == "A pink rectangle"

    post = api.status_post("A picture #wardenclients", media_ids=[media])
    assert [m.id for m in post.media_attachments] == [media.id]
    home = bob_api.timeline_home()
    assert home[0].id == post.id and home[0].media_attachments[0].description == "A pink rectangle"
    assert [s.id for s in bob_api.account_statuses(alice.id, only_media=True)] == [post.id]
    # the file itself is served, as an image, to whoever may see the post
    file = httpx.get(home[0].media_attachments[0].url, timeout=30)
    assert file.status_code == 200 and file.headers["content-type"].startswith("image/")
    preview = httpx.get(home[0].media_attachments[0].preview_url, timeout=30)
    assert preview.status_code == 200
    # the v1 upload endpoint older apps use
    old = api.media_post(io.BytesIO(png_bytes(16, 16)), mime_type="image/png", synchronous=True)
    assert old.type == "image"
    window.assert_clean()


def test_lists(watched: LiveServer, window: Window) -> None:
    alice, bob, carol = watched.user("mplist"), watched.user("mplist"), watched.user("mplist")
    api, bob_api, carol_api = client(watched, alice), client(watched, bob), client(watched, carol)
    api.account_follow(bob.id)
    api.account_follow(carol.id)

    family = api.list_create("Family")
    assert family.title == "Family"
    api.list_accounts_add(family, [bob.id])
    assert [a.id for a in api.list_accounts(family)] == [str(bob.id)]
    assert [entry.id for entry in api.lists()] == [family.id]
    assert [entry.id for entry in api.account_lists(bob.id)] == [family.id]

    from_bob = bob_api.status_post("Dinner at seven")
    carol_api.status_post("Not family")
    assert [s.id for s in api.timeline_list(family)] == [from_bob.id]
    assert api.list(family.id).title == "Family"
    api.list_update(family, "Kin")
    assert api.list(family.id).title == "Kin"
    api.list_accounts_delete(family, [bob.id])
    assert api.list_accounts(family) == [] and api.timeline_list(family) == []
    api.list_delete(family)
    assert api.lists() == []
    window.assert_clean()


def test_filters_v2(watched: LiveServer, window: Window) -> None:
    alice, bob = watched.user("mpfilter"), watched.user("mpfilter")
    api, bob_api = client(watched, alice), client(watched, bob)
    api.account_follow(bob.id)

    warned = api.create_filter_v2("Spoilers", context=["home", "public"], filter_action="warn",
                                  keywords_attributes=[{"keyword": "finale", "whole_word": True}])
    hidden = api.create_filter_v2("Weather", context=["home"], filter_action="hide",
                                  keywords_attributes=[{"keyword": "drizzle", "whole_word": False}])
    assert sorted(f.title for f in api.filters_v2()) == ["Spoilers", "Weather"]
    assert [k.keyword for k in api.filter_keywords_v2(warned)] == ["finale"]

    spoiler = bob_api.status_post("What a finale that was")
    rain = bob_api.status_post("Drizzle all day again")
    plain = bob_api.status_post("Lovely morning")
    home = {s.id: s for s in api.timeline_home()}
    assert home[spoiler.id].filtered[0].filter.id == warned.id
    assert home[spoiler.id].filtered[0].keyword_matches == ["finale"]
    assert rain.id not in home  # a "hide" filter keeps the post out of the timeline
    assert not home[plain.id].get("filtered")
    # Bob's own view is not filtered
    assert rain.id in [s.id for s in bob_api.timeline_home()]

    api.delete_filter_v2(hidden)
    assert rain.id in [s.id for s in api.timeline_home()]
    api.delete_filter_v2(warned)
    assert api.filters_v2() == []
    window.assert_clean()


def test_bookmarks(watched: LiveServer, window: Window) -> None:
    alice, bob = watched.user("mpbook"), watched.user("mpbook")
    api, bob_api = client(watched, alice), client(watched, bob)
    first, second = bob_api.status_post("Read later"), bob_api.status_post("Also this")

    assert api.status_bookmark(first).bookmarked is True
    api.status_bookmark(second)
    assert [s.id for s in api.bookmarks()] == [second.id, first.id]  # newest bookmark first
    assert api.status(first.id).bookmarked is True
    assert bob_api.status(first.id).bookmarked is False  # bookmarks are private to their owner
    assert api.status_unbookmark(first).bookmarked is False
    assert [s.id for s in api.bookmarks()] == [second.id]
    window.assert_clean()


def test_polls(watched: LiveServer, window: Window) -> None:
    alice, bob, carol = watched.user("mppoll"), watched.user("mppoll"), watched.user("mppoll")
    api, bob_api, carol_api = client(watched, alice), client(watched, bob), client(watched, carol)

    post = api.status_post("Tea or coffee?", poll=api.make_poll(["tea", "coffee", "water"], expires_in=3600,
                                                                 multiple=True))
    poll = post.poll
    assert [o.title for o in poll.options] == ["tea", "coffee", "water"] and poll.multiple is True
    voted = bob_api.poll_vote(poll.id, [0, 2])
    assert voted.voted is True and voted.own_votes == [0, 2]
    carol_api.poll_vote(poll.id, [0])
    results = api.poll(poll.id)
    assert [o.votes_count for o in results.options] == [2, 0, 1]
    assert results.votes_count == 3 and results.voters_count == 2
    assert bob_api.status(post.id).poll.own_votes == [0, 2]
    window.assert_clean()


def test_conversations(watched: LiveServer, window: Window) -> None:
    alice, bob = watched.user("mpdm"), watched.user("mpdm")
    api, bob_api = client(watched, alice), client(watched, bob)

    dm = bob_api.status_post(f"@{alice.username} are you coming tonight?", visibility="direct")
    [conversation] = api.conversations()
    assert conversation.unread is True and conversation.last_status.id == dm.id
    assert [str(a.id) for a in conversation.accounts] == [str(bob.id)]
    reply = api.status_post(f"@{bob.username} yes!", visibility="direct", in_reply_to_id=dm.id)
    assert api.conversations_read(conversation).unread is False
    [theirs] = bob_api.conversations()
    assert theirs.last_status.id == reply.id and [str(a.id) for a in theirs.accounts] == [str(alice.id)]
    assert dm.id not in [s.id for s in api.timeline_public()]
    window.assert_clean()
