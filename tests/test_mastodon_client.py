"""The Mastodon.py library, unmodified, driving a live Warden server end to end."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, MastodonNotFoundError

from tests.helpers import PASSWORD, LiveServer, unique_name


def register(server: LiveServer, name: str | None = None) -> Mastodon:
    """Sign up through the API exactly as a Mastodon app does (app, client token, POST /api/v1/accounts)."""
    client_id, client_secret = Mastodon.create_app("warden-tests", api_base_url=server.url,
                                                   scopes=["read", "write", "follow", "push"])
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.url)
    name = name or unique_name("mp")
    api.create_account(name, PASSWORD, f"{name}@example.test", agreement=True)
    return api


def test_version_is_parsed_as_mastodon(server: LiveServer) -> None:
    api = Mastodon(api_base_url=server.url)
    assert api.retrieve_mastodon_version() == "4.2.0"
    assert "Warden" in api.instance().version


def test_register_post_follow_timeline_notifications_report_delete(server: LiveServer) -> None:
    alice = register(server)
    bob = register(server)
    alice_me = alice.me()
    bob_me = bob.me()
    assert alice_me.username != bob_me.username

    # Bob follows Alice; Alice is notified.
    rel = bob.account_follow(alice_me.id)
    assert rel.following is True
    assert alice.account_relationships([bob_me.id])[0].followed_by is True
    follows = alice.notifications(types=["follow"])
    assert [n.account.id for n in follows] == [bob_me.id]

    # Alice posts; the post reaches Bob's home timeline, rendered as safe HTML.
    posted = [alice.status_post(f"Post number {i} #wardentest") for i in range(25)]
    assert posted[0].content.startswith("<p>Post number 0")
    assert posted[0].tags[0].name == "wardentest"
    home = bob.timeline_home(limit=10)
    assert [s.id for s in home] == [s.id for s in reversed(posted)][:10]

    # Pagination by the Link header: three pages cover all 25 posts exactly once.
    seen = [s.id for s in home]
    page = home
    while True:
        page = bob.fetch_next(page)
        if not page:
            break
        seen.extend(s.id for s in page)
    assert seen == [s.id for s in reversed(posted)]
    # ...and back again with min_id / fetch_previous.
    older = bob.timeline_home(max_id=posted[5].id, limit=3)
    assert [s.id for s in older] == [posted[4].id, posted[3].id, posted[2].id]
    newer = bob.timeline_home(min_id=posted[5].id, limit=3)
    assert [s.id for s in newer] == [posted[8].id, posted[7].id, posted[6].id]

    # Mentions, favourites and reblogs notify; the notifications carry the status.
    reply = bob.status_post(f"@{alice_me.username} nice one", in_reply_to_id=posted[-1].id)
    assert reply.in_reply_to_id == posted[-1].id
    bob.status_favourite(posted[-1].id)
    reblog = bob.status_reblog(posted[-1].id)
    assert reblog.reblog.id == posted[-1].id
    kinds = {n.type for n in alice.notifications()}
    assert {"follow", "mention", "favourite", "reblog"} <= kinds
    context = alice.status_context(posted[-1].id)
    assert [s.id for s in context.descendants] == [reply.id]
    assert alice.status(posted[-1].id).favourites_count == 1

    # A report reaches the server.
    report = alice.report(bob_me.id, status_ids=[reply.id], comment="testing reports", category="other")
    assert report.target_account.id == bob_me.id

    # Deleting returns the source text and the status is gone.
    deleted = alice.status_delete(posted[0].id)
    assert deleted.text == "Post number 0 #wardentest"
    with pytest.raises(MastodonNotFoundError):
        bob.status(posted[0].id)


def test_over_long_post_is_rejected_by_mastodon_py(server: LiveServer) -> None:
    api = register(server)
    with pytest.raises(MastodonAPIError) as info:
        api.status_post("x" * 501)
    assert "500" in str(info.value)


def test_password_and_code_flows_log_in(server: LiveServer) -> None:
    name = unique_name("flow")
    register(server, name)
    client_id, client_secret = Mastodon.create_app("flow-app", api_base_url=server.url,
                                                   scopes=["read", "write"])
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.url)
    api.log_in(f"{name}@example.test", PASSWORD, scopes=["read", "write"], allow_http=True)
    assert api.me().username == name

    # Authorization code flow with the out-of-band redirect: open the login page, submit, read the code.
    api2 = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server.url)
    url = api2.auth_request_url(scopes=["read", "write"], allow_http=True)
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    page = httpx.get(url)
    assert page.status_code == 200 and "<form" in page.text
    submitted = httpx.post(f"{server.url}/oauth/authorize", data={**query, "username": name, "password": PASSWORD})
    assert submitted.status_code == 200
    code = re.search(r'<code class="grant" id="code">([^<]+)</code>', submitted.text)
    assert code is not None
    api2.log_in(code=code.group(1), scopes=["read", "write"], allow_http=True)
    assert api2.me().username == name


def test_polls_follow_requests_edits_pins_scheduled_and_discovery(server: LiveServer) -> None:
    """Issue 33: the flows stock apps run for polls, locked accounts, edits, pins, scheduled posts and
    discovery, through Mastodon.py unmodified, with no endpoint answering 404."""
    from datetime import UTC, datetime, timedelta

    alice, bob = register(server), register(server)
    alice_me, bob_me = alice.me(), bob.me()

    # a locked account: Bob's follow is a request Alice authorizes
    alice.account_update_credentials(locked=True)
    assert bob.account_follow(alice_me.id).requested is True
    assert [a.id for a in alice.follow_requests()] == [bob_me.id]
    alice.follow_request_authorize(bob_me.id)
    assert bob.account_relationships([alice_me.id])[0].following is True

    # a poll: created, voted on, results read back
    poll_post = alice.status_post("Lunch?", poll=alice.make_poll(["pizza", "salad"], expires_in=600))
    voted = bob.poll_vote(poll_post.poll.id, [0])
    assert voted.voted is True and voted.options[0].votes_count == 1
    assert alice.poll(poll_post.poll.id).votes_count == 1

    # edits: the new text, the history and the source
    edited = alice.status_update(poll_post.id, "Lunch today?")
    assert edited.edited_at is not None
    assert len(bob.status_history(poll_post.id)) == 2
    assert alice.status_source(poll_post.id).text == "Lunch today?"

    # pins, muted conversation
    plain = alice.status_post("pinned post")
    assert alice.status_pin(plain.id).pinned is True
    assert [s.id for s in bob.account_statuses(alice_me.id, pinned=True)] == [plain.id]
    assert alice.status_mute(plain.id).muted is True

    # scheduled: kept, moved, cancelled
    scheduled = alice.status_post("later", scheduled_at=datetime.now(UTC) + timedelta(hours=1))
    assert [s.id for s in alice.scheduled_statuses()] == [scheduled.id]
    alice.scheduled_status_update(scheduled.id, datetime.now(UTC) + timedelta(hours=2))
    alice.scheduled_status_delete(scheduled.id)
    assert alice.scheduled_statuses() == []

    # discovery screens
    assert isinstance(bob.trending_tags(), list) and isinstance(bob.trending_statuses(), list)
    assert isinstance(bob.suggestions(), list) and isinstance(bob.announcements(), list)
    bob.tag_follow("wardenflow")
    assert [t.name for t in bob.followed_tags()] == ["wardenflow"]
    bob.featured_tag_create("wardenflow")
    assert [t.name for t in bob.featured_tags()] == ["wardenflow"]
    bob.account_pin(alice_me.id)
    assert [a.id for a in bob.endorsements()] == [alice_me.id]
    bob.domain_block("spam.example")
    assert bob.domain_blocks() == ["spam.example"]
    assert isinstance(bob.directory(), list) and len(bob.instance_activity()) == 12
    assert bob.account_familiar_followers([alice_me.id])[0].accounts == []
