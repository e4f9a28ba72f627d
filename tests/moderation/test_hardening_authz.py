"""Issue 29 items 1, 2 and 5, through HTTP: a moderator's decision outlives the author's edits, a
suspended account's tokens are refused everywhere but its decisions and appeals, and roles are ordered
(nobody acts on their own content or on an account of an equal or higher role)."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from tests.helpers import LiveServer, User, eventually
from tests.moderation.conftest import STAFF_SCOPES, Team, cases_for
from tests.moderation.test_write_path import UNCERTAIN
from warden.store.moderation_models import ModerationDecision

DISABLED = {"error": "Your login is currently disabled"}


def _public_ids(server: LiveServer) -> set[str]:
    return {s["id"] for s in httpx.get(f"{server.url}/api/v1/timelines/public", params={"limit": 40}).json()}


def _tag_ids(server: LiveServer, tag: str) -> set[str]:
    return {s["id"] for s in httpx.get(f"{server.url}/api/v1/timelines/tag/{tag}", params={"limit": 40}).json()}


def _reported_case(server: LiveServer, author: User, text: str, staff: User) -> tuple[str, str]:
    """Post `text` as `author`, report it: (status id, id of the case the worker opens)."""
    posted = author.post("/api/v1/statuses", data={"status": text})
    assert posted.status_code == 200, posted.text
    status_id = posted.json()["id"]
    reporter = server.user("reporter")
    reported = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": status_id,
                                                      "comment": "please look", "category": "other"})
    assert reported.status_code == 200, reported.text
    case = eventually(lambda: cases_for(staff, {status_id}), what="the report's case")[0]
    return status_id, case["id"]


def _edit(author: User, status_id: str, text: str) -> dict:
    edited = author.request("PUT", f"/api/v1/statuses/{status_id}", data={"status": text})
    assert edited.status_code == 200, edited.text
    return edited.json()


# --- item 1: a moderator's decision outlives edits ---------------------------------------------------


def test_an_edit_cannot_undo_a_moderators_limit_until_an_appeal_lifts_it(mod_server: LiveServer, team: Team) -> None:
    tag = f"floor{secrets.token_hex(4)}"
    author = mod_server.user("limited")
    status_id, case_id = _reported_case(mod_server, author, f"Buy cheap followers now #{tag}", team.moderator)
    assert status_id in _public_ids(mod_server) and status_id in _tag_ids(mod_server, tag)
    decided = team.moderator.post(f"/api/warden/v1/cases/{case_id}/decision",
                                  json={"action": "limit", "policy": "other", "explanation": "Spam."})
    assert decided.status_code == 200, decided.text
    assert status_id not in _public_ids(mod_server) and status_id not in _tag_ids(mod_server, tag)

    # The author edits the post into something harmless: it passes the gate, and stays limited.
    _edit(author, status_id, f"Lovely weather today #{tag}")
    assert status_id not in _public_ids(mod_server)
    assert status_id not in _tag_ids(mod_server, tag)
    _edit(author, status_id, f"Still lovely weather #{tag}")
    assert status_id not in _public_ids(mod_server)

    # The latest human decision wins: an appeal overturned by a senior moderator lifts the limit, and
    # later edits are judged by the gate alone again.
    decision_id = decided.json()["decision"]["id"]
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "Not spam."})
    assert appeal.status_code == 201, appeal.text
    overturned = team.senior.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision",
                                  json={"outcome": "overturned", "explanation": "Fine after the edit."})
    assert overturned.status_code == 200, overturned.text
    assert status_id in _public_ids(mod_server)
    _edit(author, status_id, f"Lovely weather again #{tag}")
    assert status_id in _public_ids(mod_server) and status_id in _tag_ids(mod_server, tag)


def test_an_edit_keeps_a_moderators_label(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("labelled")
    status_id, case_id = _reported_case(mod_server, author, "Graphic description of the accident scene.",
                                        team.moderator)
    decided = team.moderator.post(f"/api/warden/v1/cases/{case_id}/decision",
                                  json={"action": "label", "policy": "violence", "explanation": "Graphic."})
    assert decided.status_code == 200, decided.text
    before = author.get(f"/api/v1/statuses/{status_id}").json()
    assert before["sensitive"] is True and before["spoiler_text"]
    after = _edit(author, status_id, "An account of the accident scene, edited.")
    assert after["sensitive"] is True and after["spoiler_text"] == before["spoiler_text"]


# --- item 2: suspension refuses every token ----------------------------------------------------------


def test_a_suspended_accounts_tokens_are_refused_except_for_its_decisions_and_appeals(
        mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("suspended")
    other = mod_server.user("bystander")
    theirs = other.post("/api/v1/statuses", data={"status": "A post to favourite."}).json()["id"]
    # Every path is cached as a working token first: the suspension must reach the cache at once.
    assert author.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert author.get("/api/v1/timelines/home").status_code == 200
    assert author.get("/api/v1/timelines/public").status_code == 200

    acted = team.moderator.post(f"/api/v1/admin/accounts/{author.id}/action",
                                data={"type": "suspend", "text": "Repeated threats."})
    assert acted.status_code == 200, acted.text

    refused = [
        author.get("/api/v1/accounts/verify_credentials"),
        author.get("/api/v1/timelines/home"),  # the home timeline's fast path
        author.get("/api/v1/timelines/public"),  # an endpoint open to anonymous readers
        author.get(f"/api/v1/statuses/{theirs}"),
        author.post(f"/api/v1/statuses/{theirs}/favourite"),
        author.post(f"/api/v1/statuses/{theirs}/reblog"),
        author.post(f"/api/v1/accounts/{other.id}/follow"),
        author.request("PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "still here"}),
        author.post("/api/v1/reports", data={"account_id": str(other.id), "comment": "spite"}),
        author.post("/api/v1/statuses", data={"status": "Can I still post?"}),
    ]
    for response in refused:
        assert (response.status_code, response.json()) == (403, DISABLED), (response.request.url, response.text)
    stream = httpx.get(f"{mod_server.url}/api/v1/streaming/user", headers=author.headers, timeout=10)
    assert stream.status_code == 403
    # Its notifications list only its moderation warnings (issue 30: the author is told, in the app).
    listed = author.get("/api/v1/notifications")
    assert listed.status_code == 200 and {n["type"] for n in listed.json()} == {"moderation_warning"}
    assert author.get("/api/v1/notifications", params={"types[]": "mention"}).json() == []

    # The suspended author still finds and reads the statement of reasons, and appeals it.
    own = author.get("/api/warden/v1/decisions")
    assert own.status_code == 200, own.text
    assert [d["action"] for d in own.json()] == ["suspend"]
    decision_id = own.json()[0]["id"]
    with mod_server.db.read() as session:
        assert session.scalar(select(ModerationDecision.account_id).where(
            ModerationDecision.id == decision_id)) == author.id
    decision = author.get(f"/api/warden/v1/decisions/{decision_id}")
    assert decision.status_code == 200 and decision.json()["statement_of_reasons"]
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "I was hacked."})
    assert appeal.status_code == 201, appeal.text
    assert author.get(f"/api/warden/v1/appeals/{appeal.json()['id']}").status_code == 200
    # ... and nobody else's: a 404 as before.
    assert author.get(f"/api/warden/v1/decisions/{decision_id}x").status_code == 404

    # Lifting the suspension gives the same tokens back at once.
    assert team.moderator.post(f"/api/v1/admin/accounts/{author.id}/unsuspend").status_code == 200
    assert author.get("/api/v1/accounts/verify_credentials").status_code == 200
    assert author.post(f"/api/v1/statuses/{theirs}/favourite").status_code == 200


# --- item 5: roles are ordered -------------------------------------------------------------------------


def test_nobody_acts_on_an_account_of_an_equal_or_higher_role(mod_server: LiveServer, team: Team) -> None:
    admin = mod_server.user("admin", role="admin", scopes=STAFF_SCOPES)
    moderator2 = mod_server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    for actor, target, kind in ((team.moderator, team.senior, "suspend"), (team.moderator, admin, "silence"),
                                (team.moderator, moderator2, "suspend"), (team.senior, team.senior2, "suspend"),
                                (team.senior, admin, "disable"), (team.moderator, team.moderator, "silence")):
        refused = actor.post(f"/api/v1/admin/accounts/{target.id}/action", data={"type": kind})
        assert refused.status_code == 403, (actor.username, target.username, refused.text)
        assert "role" in refused.json()["error"] or "your own" in refused.json()["error"]
        assert team.senior.get(f"/api/v1/admin/accounts/{target.id}").json()["suspended"] is False
        assert team.senior.get(f"/api/v1/admin/accounts/{target.id}").json()["silenced"] is False
    # Down the order it works.
    assert admin.post(f"/api/v1/admin/accounts/{moderator2.id}/action", data={"type": "silence"}).status_code == 200
    assert moderator2.post(f"/api/v1/admin/accounts/{admin.id}/unsuspend").status_code == 403


def test_nobody_decides_a_case_about_their_own_post_or_a_peers(mod_server: LiveServer, team: Team) -> None:
    moderator = mod_server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    held = moderator.post("/api/v1/statuses", data={"status": UNCERTAIN})
    assert held.status_code == 200 and held.json()["warden"]["state"] == "held"
    status_id = held.json()["id"]
    case = eventually(lambda: cases_for(team.senior, {status_id}), what="the held post's case")[0]

    own = moderator.post(f"/api/warden/v1/cases/{case['id']}/decision", json={"action": "no_violation"})
    assert own.status_code == 403 and "your own" in own.json()["error"]
    peer = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision", json={"action": "no_violation"})
    assert peer.status_code == 403 and "role" in peer.json()["error"]
    assert team.senior.get(f"/api/warden/v1/cases/{case['id']}").json()["state"] != "decided"
    assert httpx.get(f"{mod_server.url}/api/v1/statuses/{status_id}").status_code == 404  # still held

    decided = team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "remove", "policy": "violence", "explanation": "A threat."})
    assert decided.status_code == 200, decided.text

    # An appeal about a senior moderator's decision on a moderator is for another senior; an appeal by
    # a senior moderator is for an admin only (an equal may not decide it).
    appeal = moderator.post("/api/warden/v1/appeals", json={"decision_id": decided.json()["decision"]["id"],
                                                             "text": "Hyperbole."})
    assert appeal.status_code == 201, appeal.text
    upheld = team.senior2.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision", json={"outcome": "upheld"})
    assert upheld.status_code == 200, upheld.text
    senior_post = team.senior2.post("/api/v1/statuses", data={"status": UNCERTAIN}).json()["id"]
    senior_case = eventually(lambda: cases_for(team.senior, {senior_post}), what="the senior's case")[0]
    assert team.senior.post(f"/api/warden/v1/cases/{senior_case['id']}/decision",
                            json={"action": "no_violation"}).status_code == 403
    admin = mod_server.user("admin", role="admin", scopes=STAFF_SCOPES)
    assert admin.post(f"/api/warden/v1/cases/{senior_case['id']}/decision",
                      json={"action": "no_violation"}).status_code == 200
