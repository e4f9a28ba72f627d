"""The moderation gate over the client API's second group (issue 33): poll options are scored with
the post, an edit is re-scored like a new post, and a scheduled post passes the gate when it is
published, not when it is scheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from tests.helpers import LiveServer, eventually
from warden.store.client2_models import ScheduledStatus
from warden.store.moderation_models import ModerationDecision

VIOLENT = "We should kill every one of them tonight. Bring weapons."


def test_a_threat_split_into_poll_options_is_refused(mod_server: LiveServer) -> None:
    author = mod_server.user("poller")
    response = author.post("/api/v1/statuses", json={"status": "What shall we do tonight?", "poll": {
        "options": ["kill every one of them", "stay home"], "expires_in": 3600}})
    assert response.status_code == 422, response.text
    assert response.json()["decision_id"].startswith("dec_")
    assert author.get(f"/api/v1/accounts/{author.id}/statuses").json() == []
    harmless = author.post("/api/v1/statuses", json={"status": "What shall we do tonight?", "poll": {
        "options": ["cinema", "stay home"], "expires_in": 3600}})
    assert harmless.status_code == 200 and harmless.json()["poll"]["options"][0]["title"] == "cinema"


def test_edit_history_keeps_versions_the_gate_let_through(mod_server: LiveServer) -> None:
    author = mod_server.user("editor")
    status = author.post("/api/v1/statuses", data={"status": "A calm post"}).json()
    refused = author.request("PUT", f"/api/v1/statuses/{status['id']}", data={"status": VIOLENT})
    assert refused.status_code == 422
    history = author.get(f"/api/v1/statuses/{status['id']}/history").json()
    assert [h["content"] for h in history] == ["<p>A calm post</p>"]  # the refused edit left no version


def test_scheduled_post_is_judged_when_published(mod_server: LiveServer) -> None:
    author = mod_server.user("scheduler")
    when = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = author.post("/api/v1/statuses", data={"status": VIOLENT, "scheduled_at": when})
    assert scheduled.status_code == 200, scheduled.text  # scheduling scores nothing yet
    with mod_server.db.write() as session:
        session.execute(update(ScheduledStatus).where(ScheduledStatus.id == int(scheduled.json()["id"]))
                        .values(scheduled_at=datetime.now(UTC) - timedelta(seconds=1)))

    def decided() -> bool:
        with mod_server.db.read() as session:
            gone = session.get(ScheduledStatus, int(scheduled.json()["id"])) is None
            blocked = session.scalar(select(ModerationDecision.id).where(
                ModerationDecision.account_id == author.id, ModerationDecision.action == "block"))
            return gone and blocked is not None

    eventually(decided, what="the scheduled post to reach the gate")
    assert author.get(f"/api/v1/accounts/{author.id}/statuses").json() == []
