"""The client API's second group (issue 33) over HTTP, on both backends: follow requests, edit
history, pins, muted conversations, polls, scheduled statuses, trends and their review, suggestions,
announcements, followed and featured tags, endorsements, domain blocks and the instance extras."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from tests.helpers import LiveServer, User, eventually
from warden.store.client2_models import Poll, ScheduledStatus
from warden.store.models import Account, Status

STAFF_SCOPES = "read write follow push admin:read admin:write"


def post(user: User, text: str, **fields: object) -> dict:
    response = user.post("/api/v1/statuses", data={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def relationship(user: User, other: User) -> dict:
    return user.get("/api/v1/accounts/relationships", params={"id[]": str(other.id)}).json()[0]


# --- locked accounts and follow requests -----------------------------------------------------------


def test_locked_account_turns_a_follow_into_a_request_it_can_authorize(server: LiveServer) -> None:
    owner, fan, other = server.user("locked"), server.user("fan"), server.user("other")
    assert owner.request("PATCH", "/api/v1/accounts/update_credentials", data={"locked": "true"}).json()["locked"]
    secret = post(owner, "followers only", visibility="private")

    rel = fan.post(f"/api/v1/accounts/{owner.id}/follow").json()
    assert rel["requested"] is True and rel["following"] is False
    assert relationship(owner, fan)["requested_by"] is True
    kinds = [n["type"] for n in owner.get("/api/v1/notifications").json()]
    assert kinds == ["follow_request"]
    assert [a["id"] for a in owner.get("/api/v1/follow_requests").json()] == [str(fan.id)]
    me = owner.get("/api/v1/accounts/verify_credentials").json()
    assert me["source"]["follow_requests_count"] == 1
    # before approval the private post stays hidden, and nothing reaches the requester's home
    assert fan.get(f"/api/v1/statuses/{secret['id']}").status_code == 404
    assert owner.get(f"/api/v1/accounts/{owner.id}").json()["followers_count"] == 0

    rel = owner.post(f"/api/v1/follow_requests/{fan.id}/authorize").json()
    assert rel["followed_by"] is True and rel["requested_by"] is False
    assert relationship(fan, owner)["following"] is True
    assert fan.get(f"/api/v1/statuses/{secret['id']}").status_code == 200
    assert owner.get("/api/v1/follow_requests").json() == []

    # a rejected request leaves no follow and no pending request
    other.post(f"/api/v1/accounts/{owner.id}/follow")
    assert owner.post(f"/api/v1/follow_requests/{other.id}/reject").status_code == 200
    assert relationship(other, owner) | {} and relationship(other, owner)["requested"] is False
    assert relationship(other, owner)["following"] is False
    assert other.get(f"/api/v1/statuses/{secret['id']}").status_code == 404
    assert owner.post(f"/api/v1/follow_requests/{other.id}/authorize").status_code == 404


def test_withdrawn_request_and_unlocking_accepts_pending(server: LiveServer) -> None:
    owner, a, b = server.user("locked"), server.user("a"), server.user("b")
    owner.request("PATCH", "/api/v1/accounts/update_credentials", json={"locked": True})
    a.post(f"/api/v1/accounts/{owner.id}/follow")
    b.post(f"/api/v1/accounts/{owner.id}/follow")
    a.post(f"/api/v1/accounts/{owner.id}/unfollow")  # withdraws the request and its notification
    assert [x["id"] for x in owner.get("/api/v1/follow_requests").json()] == [str(b.id)]
    assert [n["account"]["id"] for n in owner.get("/api/v1/notifications").json()] == [str(b.id)]
    owner.request("PATCH", "/api/v1/accounts/update_credentials", json={"locked": False})
    assert relationship(b, owner)["following"] is True
    assert relationship(a, owner)["following"] is False


# --- edits ----------------------------------------------------------------------------------------


def test_edit_history_and_source(server: LiveServer) -> None:
    author, reader = server.user("editor"), server.user("reader")
    status = post(author, "first <version>", spoiler_text="cw")
    assert len(reader.get(f"/api/v1/statuses/{status['id']}/history").json()) == 1  # never edited: one version
    edited = author.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": "second version"}).json()
    assert edited["edited_at"] is not None
    author.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": "third version"})
    history = reader.get(f"/api/v1/statuses/{status['id']}/history").json()
    assert [h["content"] for h in history] == ["<p>first &lt;version&gt;</p>", "<p>second version</p>",
                                               "<p>third version</p>"]
    assert history[0]["spoiler_text"] == "cw" and history[0]["account"]["id"] == str(author.id)
    source = author.get(f"/api/v1/statuses/{status['id']}/source").json()
    assert source == {"id": status["id"], "text": "third version", "spoiler_text": ""}
    assert reader.get(f"/api/v1/statuses/{status['id']}/source").status_code == 404  # only the author's


# --- pins and muted conversations -----------------------------------------------------------------


def test_pins(server: LiveServer) -> None:
    author, other = server.user("pinner"), server.user("other")
    posts = [post(author, f"pin me {i}") for i in range(6)]
    pinned = author.post(f"/api/v1/statuses/{posts[0]['id']}/pin").json()
    assert pinned["pinned"] is True
    for p in posts[1:5]:
        assert author.post(f"/api/v1/statuses/{p['id']}/pin").status_code == 200
    too_many = author.post(f"/api/v1/statuses/{posts[5]['id']}/pin")
    assert too_many.status_code == 422 and "error" in too_many.json()
    private = post(author, "private", visibility="private")
    assert author.post(f"/api/v1/statuses/{private['id']}/pin").status_code == 422
    assert other.post(f"/api/v1/statuses/{posts[5]['id']}/pin").status_code == 422  # not theirs
    listed = other.get(f"/api/v1/accounts/{author.id}/statuses", params={"pinned": "true"}).json()
    assert [s["id"] for s in listed] == [p["id"] for p in reversed(posts[:5])]
    assert author.get(f"/api/v1/statuses/{posts[0]['id']}").json()["pinned"] is True
    assert author.post(f"/api/v1/statuses/{posts[0]['id']}/unpin").json()["pinned"] is False
    assert len(other.get(f"/api/v1/accounts/{author.id}/statuses", params={"pinned": "true"}).json()) == 4


def test_muted_conversation_silences_its_notifications(server: LiveServer) -> None:
    alice, bob = server.user("alice"), server.user("bob")
    root = post(alice, "a thread")
    reply = post(bob, f"@{alice.username} first reply", in_reply_to_id=root["id"])
    assert alice.post(f"/api/v1/statuses/{root['id']}/mute").json()["muted"] is True
    assert bob.post(f"/api/v1/statuses/{root['id']}/mute").status_code == 422  # not in it... yet? not mentioned
    post(bob, f"@{alice.username} second reply", in_reply_to_id=reply["id"])
    bob.post(f"/api/v1/statuses/{root['id']}/favourite")
    mentions = [n for n in alice.get("/api/v1/notifications").json() if n["type"] in ("mention", "favourite")]
    assert [n["status"]["id"] for n in mentions] == [reply["id"]]  # only the one before the mute
    assert alice.get(f"/api/v1/statuses/{reply['id']}").json()["muted"] is True
    alice.post(f"/api/v1/statuses/{root['id']}/unmute")
    post(bob, f"@{alice.username} third reply", in_reply_to_id=root["id"])
    assert len([n for n in alice.get("/api/v1/notifications").json() if n["type"] == "mention"]) == 2


# --- polls ----------------------------------------------------------------------------------------


def test_poll_create_vote_results_and_errors(server: LiveServer) -> None:
    author, voter, late = server.user("pollster"), server.user("voter"), server.user("late")
    status = author.post("/api/v1/statuses", data={"status": "Tea or coffee?", "poll[options][]": ["tea", "coffee"],
                                                   "poll[expires_in]": "3600", "poll[hide_totals]": "true"}).json()
    assert "poll" in status, status
    poll = status["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"]
    assert poll["multiple"] is False and poll["expired"] is False and poll["voted"] is True  # the author's own
    assert poll["options"][0]["votes_count"] is None  # totals hidden until it ends
    voted = voter.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": ["1"]})
    assert voted.status_code == 200, voted.text
    assert voted.json()["voted"] is True and voted.json()["own_votes"] == [1] and voted.json()["votes_count"] == 1
    for who, choices, why in ((voter, ["0"], "already voted"), (author, ["0"], "own poll"),
                              (late, ["7"], "no such option"), (late, ["0", "1"], "single choice"),
                              (late, [], "no choice")):
        refused = who.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": choices})
        assert refused.status_code == 422, (why, refused.text)
        assert refused.json()["error"]
    seen = late.get(f"/api/v1/statuses/{status['id']}").json()["poll"]
    assert seen["voted"] is False and seen["own_votes"] == []

    # JSON body, multiple choice
    multi = author.post("/api/v1/statuses", json={"status": "Pick any", "poll": {
        "options": ["a", "b", "c"], "expires_in": 300, "multiple": True}}).json()["poll"]
    votes = voter.post(f"/api/v1/polls/{multi['id']}/votes", json={"choices": [0, 2]}).json()
    assert [o["votes_count"] for o in votes["options"]] == [1, 0, 1] and votes["voters_count"] == 1

    # the poll ends: votes are refused, totals shown, voters and author are told once
    with server.db.write() as session:
        session.execute(update(Poll).where(Poll.id == int(poll["id"]))
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    ended = late.get(f"/api/v1/polls/{poll['id']}").json()
    assert ended["expired"] is True and [o["votes_count"] for o in ended["options"]] == [0, 1]
    assert late.post(f"/api/v1/polls/{poll['id']}/votes", data={"choices[]": ["0"]}).status_code == 422
    for who in (voter, author):
        told = [n for n in who.get("/api/v1/notifications", params={"types[]": "poll"}).json()]
        assert [n["status"]["id"] for n in told] == [status["id"]]
    assert late.get("/api/v1/notifications", params={"types[]": "poll"}).json() == []


def test_poll_validation(server: LiveServer) -> None:
    author = server.user("pollster")
    for poll, why in (({"options": ["only one"], "expires_in": 300}, "too few"),
                      ({"options": list("abcde"), "expires_in": 300}, "too many"),
                      ({"options": ["x" * 51, "y"], "expires_in": 300}, "too long"),
                      ({"options": ["same", "same"], "expires_in": 300}, "duplicate"),
                      ({"options": ["a", "b"], "expires_in": 10}, "too short"),
                      ({"options": ["a", "b"], "expires_in": 99_999_999}, "too long a poll"),
                      ({"options": ["a", "b"]}, "no duration")):
        response = author.post("/api/v1/statuses", json={"status": "poll", "poll": poll})
        assert response.status_code == 422, (why, response.text)
    assert author.get(f"/api/v1/accounts/{author.id}").json()["statuses_count"] == 0


# --- scheduled statuses ---------------------------------------------------------------------------


def test_scheduled_status_lifecycle_and_publication(server: LiveServer) -> None:
    author = server.user("planner")
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert author.post("/api/v1/statuses", data={"status": "too soon", "scheduled_at": soon}).status_code == 422
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    made = author.post("/api/v1/statuses", data={"status": "later #planned", "scheduled_at": later,
                                                  "visibility": "unlisted", "poll[options][]": ["y", "n"],
                                                  "poll[expires_in]": "600"})
    assert made.status_code == 200, made.text
    scheduled = made.json()
    assert scheduled["params"]["text"] == "later #planned" and scheduled["params"]["visibility"] == "unlisted"
    assert "scheduled_at" in scheduled and "content" not in scheduled
    assert [s["id"] for s in author.get("/api/v1/scheduled_statuses").json()] == [scheduled["id"]]
    assert author.get(f"/api/v1/accounts/{author.id}/statuses").json() == []
    other = server.user("snoop")
    assert other.get(f"/api/v1/scheduled_statuses/{scheduled['id']}").status_code == 404

    moved = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    put = author.request("PUT", f"/api/v1/scheduled_statuses/{scheduled['id']}",
                         data={"scheduled_at": moved.isoformat()})
    assert put.status_code == 200 and put.json()["scheduled_at"].startswith(moved.strftime("%Y-%m-%dT%H:%M:%S"))
    cancel = post_and_cancel(author)
    assert author.get(f"/api/v1/scheduled_statuses/{cancel}").status_code == 404

    # the time comes: the server's scheduler publishes it (through the gate), once
    with server.db.write() as session:
        session.execute(update(ScheduledStatus).where(ScheduledStatus.id == int(scheduled["id"]))
                        .values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1)))
    published = eventually(lambda: author.get(f"/api/v1/accounts/{author.id}/statuses").json(),
                           what="the scheduled post to be published")
    assert len(published) == 1 and published[0]["content"].startswith("<p>later")
    assert published[0]["visibility"] == "unlisted" and published[0]["poll"]["options"][0]["title"] == "y"
    assert author.get("/api/v1/scheduled_statuses").json() == []


def post_and_cancel(author: User) -> str:
    when = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    made = author.post("/api/v1/statuses", json={"status": "never mind", "scheduled_at": when}).json()
    assert author.request("DELETE", f"/api/v1/scheduled_statuses/{made['id']}").status_code == 200
    return made["id"]


# --- trends and their review ----------------------------------------------------------------------


def test_trends_surface_only_allowed_content_and_obey_review(server: LiveServer) -> None:
    tag = f"trend{datetime.now(UTC).strftime('%H%M%S%f')}"
    people = [server.user("trender") for _ in range(3)]
    posts = [post(p, f"talking about #{tag}") for p in people]
    cw = post(people[0], f"hidden #{tag}x", spoiler_text="cw")
    for p in people[1:]:
        p.post(f"/api/v1/statuses/{posts[0]['id']}/favourite")
        p.post(f"/api/v1/statuses/{cw['id']}/favourite")
    anyone = people[0]
    names = [t["name"] for t in anyone.get("/api/v1/trends/tags", params={"limit": 20}).json()]
    assert tag in names and f"{tag}x" not in names  # a post behind a content warning never trends
    trending = anyone.get("/api/v1/trends/tags", params={"limit": 20}).json()
    entry = next(t for t in trending if t["name"] == tag)
    assert entry["history"][0]["accounts"] == "3" and len(entry["history"]) == 7
    status_ids = [s["id"] for s in anyone.get("/api/v1/trends/statuses").json()]
    assert posts[0]["id"] in status_ids and cw["id"] not in status_ids
    assert anyone.get("/api/v1/trends/links").json() == []

    # a limited post and a suspended author drop out at once
    with server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(posts[0]["id"])).values(limited=True, local_public=False))
    assert posts[0]["id"] not in [s["id"] for s in anyone.get("/api/v1/trends/statuses").json()]
    with server.db.write() as session:
        session.execute(update(Status).where(Status.id == int(posts[0]["id"])).values(limited=False, local_public=True))

    # moderators review: a rejected tag or post stops trending; users cannot review
    mod = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    admin_tags = mod.get("/api/v1/admin/trends/tags", params={"limit": 40}).json()
    tag_id = next(t["id"] for t in admin_tags if t["name"] == tag)
    assert anyone.post(f"/api/v1/admin/trends/tags/{tag_id}/reject").status_code == 403
    rejected = mod.post(f"/api/v1/admin/trends/tags/{tag_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["requires_review"] is False
    assert tag not in [t["name"] for t in anyone.get("/api/v1/trends/tags", params={"limit": 20}).json()]
    assert mod.post(f"/api/v1/admin/trends/statuses/{posts[0]['id']}/reject").status_code == 200
    assert posts[0]["id"] not in [s["id"] for s in anyone.get("/api/v1/trends/statuses").json()]
    assert mod.post(f"/api/v1/admin/trends/tags/{tag_id}/approve").status_code == 200
    assert tag in [t["name"] for t in anyone.get("/api/v1/trends/tags", params={"limit": 20}).json()]
    with server.db.write() as session:
        session.execute(update(Account).where(Account.id.in_([p.id for p in people]))
                        .values(suspended_at=datetime.now(UTC)))
    assert tag not in [t["name"] for t in mod.get("/api/v1/trends/tags", params={"limit": 20}).json()]


# --- discovery ------------------------------------------------------------------------------------


def test_followed_tags_reach_home_and_featured_tags(server: LiveServer) -> None:
    reader, writer = server.user("reader"), server.user("writer")
    tag = f"follow{datetime.now(UTC).strftime('%H%M%S%f')}"
    followed = reader.post(f"/api/v1/tags/{tag}/follow").json()
    assert followed["name"] == tag and followed["following"] is True
    assert [t["name"] for t in reader.get("/api/v1/followed_tags").json()] == [tag]
    tagged = post(writer, f"news #{tag}")
    post(writer, "not tagged")
    post(writer, f"quiet #{tag}", visibility="unlisted")
    home = reader.get("/api/v1/timelines/home").json()
    assert [s["id"] for s in home] == [tagged["id"]]
    assert reader.get(f"/api/v1/tags/{tag}").json()["following"] is True
    assert reader.post(f"/api/v1/tags/{tag}/unfollow").json()["following"] is False
    assert reader.get("/api/v1/timelines/home").json() == []
    assert reader.get("/api/v1/tags/nosuchtag404x").status_code == 404

    featured = writer.post("/api/v1/featured_tags", data={"name": tag})
    assert featured.status_code == 200, featured.text
    assert featured.json()["name"] == tag and featured.json()["statuses_count"] == "2"
    assert [t["name"] for t in reader.get(f"/api/v1/accounts/{writer.id}/featured_tags").json()] == [tag]
    assert writer.post("/api/v1/featured_tags", data={"name": "not a tag!"}).status_code == 422
    assert writer.request("DELETE", f"/api/v1/featured_tags/{featured.json()['id']}").status_code == 200
    assert reader.request("DELETE", f"/api/v1/featured_tags/{featured.json()['id']}").status_code == 404
    assert tag in [t["name"] for t in writer.get("/api/v1/featured_tags/suggestions").json()]


def test_endorsements_suggestions_directory_familiar_followers(server: LiveServer) -> None:
    me, friend, popular, stranger = (server.user(n) for n in ("me", "friend", "popular", "stranger"))
    post(popular, "I post things")
    me.post(f"/api/v1/accounts/{friend.id}/follow")
    friend.post(f"/api/v1/accounts/{popular.id}/follow")
    assert me.post(f"/api/v1/accounts/{popular.id}/pin").status_code == 422  # only accounts one follows
    assert me.post(f"/api/v1/accounts/{friend.id}/pin").json()["endorsed"] is True
    assert [a["id"] for a in me.get("/api/v1/endorsements").json()] == [str(friend.id)]
    assert [a["id"] for a in stranger.get(f"/api/v1/accounts/{me.id}/endorsements").json()] == [str(friend.id)]
    assert me.post(f"/api/v1/accounts/{friend.id}/unpin").json()["endorsed"] is False

    suggested = me.get("/api/v2/suggestions").json()
    assert suggested[0]["account"]["id"] == str(popular.id) and suggested[0]["sources"] == ["friends_of_friends"]
    assert str(friend.id) not in [s["account"]["id"] for s in suggested]  # already followed
    assert me.request("DELETE", f"/api/v1/suggestions/{popular.id}").status_code == 200
    assert str(popular.id) not in [s["account"]["id"] for s in me.get("/api/v2/suggestions").json()]

    familiar = me.get("/api/v1/accounts/familiar_followers", params={"id[]": [str(popular.id), str(stranger.id)]})
    assert familiar.json() == [{"id": str(popular.id), "accounts": [friend.get(f"/api/v1/accounts/{friend.id}").json()]},
                               {"id": str(stranger.id), "accounts": []}]
    directory = stranger.get("/api/v1/directory", params={"limit": 80}).json()
    assert str(popular.id) in [a["id"] for a in directory] and str(me.id) not in [a["id"] for a in directory]
    assert stranger.get("/api/v1/directory", params={"order": "bogus"}).status_code == 422


def test_domain_blocks_announcements_and_instance(server: LiveServer, client) -> None:  # type: ignore[no-untyped-def]
    user = server.user("user")
    assert user.post("/api/v1/domain_blocks", data={"domain": "spam.example"}).status_code == 200
    assert user.post("/api/v1/domain_blocks", data={"domain": "not a domain"}).status_code == 422
    assert user.get("/api/v1/domain_blocks").json() == ["spam.example"]
    assert user.request("DELETE", "/api/v1/domain_blocks", data={"domain": "spam.example"}).status_code == 200
    assert user.get("/api/v1/domain_blocks").json() == []

    admin = server.user("admin", role="admin", scopes=STAFF_SCOPES)
    assert user.post("/api/warden/v1/announcements", data={"text": "hi"}).status_code == 403
    made = admin.post("/api/warden/v1/announcements", data={"text": "Maintenance <tonight>"})
    assert made.status_code == 200, made.text
    announcement = next(a for a in user.get("/api/v1/announcements").json() if a["id"] == made.json()["id"])
    assert announcement["content"] == "<p>Maintenance &lt;tonight&gt;</p>" and announcement["read"] is False
    assert user.request("PUT", f"/api/v1/announcements/{announcement['id']}/reactions/\U0001F44D").status_code == 200
    assert user.request("PUT", f"/api/v1/announcements/{announcement['id']}/reactions/blobcat").status_code == 422
    assert user.post(f"/api/v1/announcements/{announcement['id']}/dismiss").status_code == 200
    again = next(a for a in user.get("/api/v1/announcements").json() if a["id"] == announcement["id"])
    assert again["read"] is True and again["reactions"] == [{"name": "\U0001F44D", "count": 1, "me": True,
                                                             "url": None, "static_url": None}]
    assert admin.request("DELETE", f"/api/warden/v1/announcements/{announcement['id']}").status_code == 200
    assert announcement["id"] not in [a["id"] for a in user.get("/api/v1/announcements").json()]

    activity = client.get("/api/v1/instance/activity").json()
    assert len(activity) == 12 and set(activity[0]) == {"week", "statuses", "logins", "registrations"}
    config = client.get("/api/v2/instance").json()["configuration"]
    assert config["polls"]["max_options"] == 4 and config["accounts"]["max_pinned_statuses"] == 5
    assert client.get("/api/v1/instance/domain_blocks").json() == []


def test_scheduled_reply_whose_parent_is_gone_is_kept_with_the_reason(server: LiveServer) -> None:
    author = server.user("planner")
    parent = post(author, "parent")
    when = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    made = author.post("/api/v1/statuses", data={"status": "a reply, later", "scheduled_at": when,
                                                  "in_reply_to_id": parent["id"]}).json()
    assert author.request("DELETE", f"/api/v1/statuses/{parent['id']}").status_code == 200
    with server.db.write() as session:
        session.execute(update(ScheduledStatus).where(ScheduledStatus.id == int(made["id"]))
                        .values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1)))
    kept = eventually(lambda: author.get(f"/api/v1/scheduled_statuses/{made['id']}").json().get("warden"),
                      what="the failed publication to be recorded")
    assert "replying to" in kept["failure"]
    assert author.get(f"/api/v1/accounts/{author.id}/statuses").json() == []
    # moved to a new time, it is tried again (and fails again, still kept)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    moved = author.request("PUT", f"/api/v1/scheduled_statuses/{made['id']}", data={"scheduled_at": later}).json()
    assert "warden" not in moved


def test_notes_remove_from_followers_and_lookups_by_ids(server: LiveServer) -> None:
    me, fan = server.user("me"), server.user("fan")
    fan.post(f"/api/v1/accounts/{me.id}/follow")
    noted = me.post(f"/api/v1/accounts/{fan.id}/note", data={"comment": "met at <the> meetup"}).json()
    assert noted["note"] == "met at <the> meetup"
    assert relationship(me, fan)["note"] == "met at <the> meetup"
    assert relationship(fan, me)["note"] == ""  # private to its writer
    assert me.post(f"/api/v1/accounts/{fan.id}/note", data={"comment": "x" * 2001}).status_code == 422
    assert me.post(f"/api/v1/accounts/{fan.id}/note", data={"comment": ""}).json()["note"] == ""
    removed = me.post(f"/api/v1/accounts/{fan.id}/remove_from_followers").json()
    assert removed["followed_by"] is False and relationship(fan, me)["following"] is False

    a = post(me, "one")
    b = post(me, "two", visibility="private")
    got = fan.get("/api/v1/statuses", params={"id[]": [a["id"], b["id"], "999999999"]}).json()
    assert [s["id"] for s in got] == [a["id"]]  # the private one is not the fan's to see any more
    people = fan.get("/api/v1/accounts", params={"id[]": [str(fan.id), str(me.id)]}).json()
    assert [p["id"] for p in people] == [str(fan.id), str(me.id)]
