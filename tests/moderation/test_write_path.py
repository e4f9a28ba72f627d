"""The write path with the policy gate: violence is stopped or held before anyone sees it."""

from __future__ import annotations

import httpx
import pytest
from mastodon import MastodonAPIError

from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import Team, cases_for

VIOLENT = "We should kill every one of them tonight. Bring weapons."
POLITICS = "The senator's tax plan is a disgrace and a betrayal of every worker in this city. Vote him out!"
UNCERTAIN = "Those councillors will get what they deserve soon enough, mark my words."


def test_plain_call_to_violence_is_refused_with_a_decision_id(mod_server: LiveServer) -> None:
    author = mod_server.user("poster")
    response = author.post("/api/v1/statuses", data={"status": VIOLENT})
    assert response.status_code == 422
    body = response.json()
    assert body["decision_id"].startswith("dec_")
    assert "violence" in body["error"].lower()

    # Mastodon.py sees an ordinary API error.
    with pytest.raises(MastodonAPIError):
        mod_server.mastodon(author).status_post(VIOLENT)
    # Nothing was published, and the author has the statement of reasons.
    assert author.get(f"/api/v1/accounts/{author.id}/statuses").json() == []
    decision = author.get(f"/api/warden/v1/decisions/{body['decision_id']}").json()
    assert decision["action"] == "block" and decision["automated"] is True
    sor = decision["statement_of_reasons"]
    assert sor["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert sor["category"] == "STATEMENT_CATEGORY_VIOLENCE"
    assert sor["automated_detection"] == "Yes" and sor["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    warnings = [n for n in author.get("/api/v1/notifications").json() if n["type"] == "moderation_warning"]
    assert body["decision_id"] in {n["moderation_warning"]["id"] for n in warnings}


def test_heated_politics_is_published(mod_server: LiveServer) -> None:
    author = mod_server.user("politics")
    reader = mod_server.user("reader")
    posted = mod_server.mastodon(author).status_post(POLITICS)
    assert "warden" not in posted
    assert reader.get(f"/api/v1/statuses/{posted['id']}").status_code == 200
    public = httpx.get(f"{mod_server.url}/api/v1/timelines/public", params={"limit": 40}).json()
    assert str(posted["id"]) in {s["id"] for s in public}


def test_uncertain_post_is_held_for_review_and_becomes_a_case(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("uncertain")
    reader = mod_server.user("reader")
    response = author.post("/api/v1/statuses", data={"status": UNCERTAIN})
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["warden"]["state"] == "held"
    # Visible to its author only.
    assert author.get(f"/api/v1/statuses/{status['id']}").status_code == 200
    assert reader.get(f"/api/v1/statuses/{status['id']}").status_code == 404

    case = eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the detector case")[0]
    assert case["sources"] == ["detector"]
    assert case["account_id"] == str(author.id)

    # A moderator finds no violation: the post is released to everyone.
    decided = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision",
                                  json={"action": "no_violation", "explanation": "Rhetoric, not a threat."})
    assert decided.status_code == 200, decided.text
    assert reader.get(f"/api/v1/statuses/{status['id']}").status_code == 200


def test_labelled_post_still_opens_the_case_another_label_called_for(mod_server: LiveServer, team: Team) -> None:
    # harassment 0.95 puts a content warning on it (the strictest action), violence 0.15 calls for a
    # review: the warning must not swallow the violence case
    author = mod_server.user("labelled")
    reader = mod_server.user("reader")
    response = author.post("/api/v1/statuses", data={"status": "Watch your back, you worthless scum."})
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["spoiler_text"] == "Possible harassment" and status["sensitive"] is True
    assert reader.get(f"/api/v1/statuses/{status['id']}").status_code == 200

    case = eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the violence case")[0]
    assert case["sources"] == ["detector"] and case["label"] == "violence"


def test_edit_into_a_violent_post_is_refused(mod_server: LiveServer) -> None:
    author = mod_server.user("editor")
    posted = author.post("/api/v1/statuses", data={"status": "Nice weather today."}).json()
    edited = author.request("PUT", f"/api/v1/statuses/{posted['id']}", data={"status": VIOLENT})
    assert edited.status_code == 422 and edited.json()["decision_id"]
    assert author.get(f"/api/v1/statuses/{posted['id']}").json()["content"] == "<p>Nice weather today.</p>"
