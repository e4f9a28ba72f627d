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
