"""Erasing a suspended account's data through Mastodon's admin API (`DELETE /api/v1/admin/accounts/:id`)."""
from __future__ import annotations

from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import STAFF_SCOPES, Team, cases_for
from warden.store.moderation_models import ModerationDecision


def test_admin_erases_a_suspended_accounts_posts_and_their_snapshots(mod_server: LiveServer, team: Team) -> None:
    admin = mod_server.user("admin", role="admin", scopes=STAFF_SCOPES)
    author = mod_server.user("author")
    posted = author.post("/api/v1/statuses", json={"status": "you will get what they deserve, all of you"})
    assert posted.status_code == 200, posted.text
    status_id = posted.json()["id"]
    (case,) = eventually(lambda: cases_for(team.moderator, {status_id}), what="the post's case")
    decided = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision",
                                  json={"action": "remove", "label": "violence"})
    assert decided.status_code == 200, decided.text

    refused = admin.request("DELETE", f"/api/v1/admin/accounts/{author.id}")
    assert refused.status_code == 409 and "Suspend the account" in refused.json()["error"]
    assert team.moderator.post(f"/api/v1/admin/accounts/{author.id}/action", data={"type": "suspend"}).status_code == 200
    assert team.senior.request("DELETE", f"/api/v1/admin/accounts/{author.id}").status_code == 403

    erased = admin.request("DELETE", f"/api/v1/admin/accounts/{author.id}")
    assert erased.status_code == 200, erased.text
    assert erased.json()["id"] == str(author.id) and erased.json()["suspended"] is True
    assert admin.get(f"/api/v1/statuses/{status_id}").status_code == 404
    with mod_server.db.read() as session:
        rows = session.query(ModerationDecision).filter(ModerationDecision.status_id == int(status_id)).all()
        assert rows and all(d.evidence is None or d.evidence.get("text") is None for d in rows)
        assert all(d.statement["decision_ground"] for d in rows)  # the statements of reasons stay
    shown = team.moderator.get(f"/api/warden/v1/cases/{case['id']}")
    assert shown.status_code == 200 and "get what they deserve" not in shown.text


def test_erasure_takes_the_accounts_media_profile_and_what_it_wrote_to_moderators(
        mod_server: LiveServer, team: Team) -> None:
    """Beyond its posts: its images (files, alt text, what was read from them), its profile, its polls and
    scheduled posts, its lists and filters, its appeals' text and its reports' comments, also where a
    report's comment was copied into the case it opened."""
    import httpx
    from PIL import Image
    from sqlalchemy import select

    from tests.images import png_bytes
    from warden.store.client2_models import Poll, ScheduledStatus
    from warden.store.client_models import CustomFilter, UserList
    from warden.store.hash_models import ImageSignal
    from warden.store.media_models import MediaAttachment
    from warden.store.models import Account, Report
    from warden.store.moderation_models import Appeal, ModerationCase

    admin = mod_server.user("admin", role="admin", scopes=STAFF_SCOPES)
    author = mod_server.user("author")
    other = mod_server.user("other")
    target = other.post("/api/v1/statuses", json={"status": "a post someone will report"}).json()
    assert author.request("PATCH", "/api/v1/accounts/update_credentials",
                          data={"display_name": "Private Name", "note": "my private bio"}).status_code == 200
    media = author.post("/api/v2/media", files={"file": ("a.png", png_bytes(Image.new("RGB", (40, 30), "red")),
                                                         "image/png")}, data={"description": "alt text of mine"})
    assert media.status_code in (200, 202), media.text
    file_url = media.json()["url"]
    assert httpx.get(file_url).status_code == 200
    with_media = author.post("/api/v1/statuses", json={"status": "a picture", "media_ids": [media.json()["id"]]})
    assert with_media.status_code == 200, with_media.text
    assert author.post("/api/v1/statuses", json={"status": "a poll", "poll": {"options": ["mine one", "mine two"],
                                                                             "expires_in": 3600}}).status_code == 200
    assert author.post("/api/v1/statuses", json={"status": "later", "scheduled_at": "2099-01-01T00:00:00Z"}
                       ).status_code == 200
    assert author.post("/api/v1/lists", json={"title": "my list"}).status_code == 200
    assert author.post("/api/v2/filters", json={"title": "my filter", "context": ["home"],
                                                "keywords_attributes": [{"keyword": "word"}]}).status_code == 200
    report = author.post("/api/v1/reports", json={"account_id": str(other.id), "status_ids": [target["id"]],
                                                  "comment": "my words about this report"})
    assert report.status_code == 200, report.text
    eventually(lambda: cases_for(team.moderator, {target["id"]}), what="the report's case")
    removed = author.post("/api/v1/statuses", json={"status": "you will get what they deserve, all of you"}).json()
    (case,) = eventually(lambda: cases_for(team.moderator, {removed["id"]}), what="the post's case")
    decided = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision",
                                  json={"action": "remove", "label": "violence"})
    assert decided.status_code == 200, decided.text
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": decided.json()["decision"]["id"],
                                                         "text": "my appeal in my words"})
    assert appeal.status_code == 201, appeal.text
    assert team.moderator.post(f"/api/v1/admin/accounts/{author.id}/action", data={"type": "suspend"}).status_code == 200

    erased = admin.request("DELETE", f"/api/v1/admin/accounts/{author.id}")
    assert erased.status_code == 200, erased.text
    assert httpx.get(file_url).status_code == 404  # the files are gone
    with mod_server.db.read() as session:
        account = session.get(Account, author.id)
        assert account is not None and (account.display_name, account.note) == ("", "")
        assert not session.scalars(select(MediaAttachment).where(MediaAttachment.account_id == author.id)).all()
        assert session.get(ImageSignal, int(media.json()["id"])) is None
        assert all(o == "" for p in session.scalars(select(Poll).where(Poll.account_id == author.id)) for o in p.options)
        for model in (ScheduledStatus, UserList, CustomFilter):
            assert not session.scalars(select(model).where(model.account_id == author.id)).all(), model
        assert [a.text for a in session.scalars(select(Appeal).where(Appeal.account_id == author.id))] == [""]
        assert [r.comment for r in session.scalars(select(Report).where(Report.account_id == author.id))] == [""]
        for kept in session.scalars(select(ModerationCase)):
            assert "my words about this report" not in str(kept.evidence)
            assert "my appeal in my words" not in str(kept.evidence)
