"""Reports become cases; decisions are appealed to a different senior moderator; suspension stops posting."""

from __future__ import annotations

import threading

import httpx
import pytest
from mastodon import MastodonAPIError

from tests.helpers import LiveServer, eventually
from tests.moderation.conftest import STAFF_SCOPES, Team, cases_for
from warden.cases.cases import report_state
from warden.store.models import Report
from warden.store.moderation_models import ReportState


def test_report_case_removal_appeal_refused_to_decider_and_overturned(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("satire")
    reporter = mod_server.user("reporter")
    reader = mod_server.user("reader")
    status = mod_server.mastodon(author).status_post("A satirical piece about the mayor's parking habits.")
    report = mod_server.mastodon(reporter).report(author.id, status_ids=[status["id"]], comment="offensive",
                                                  category="other")
    case = eventually(lambda: cases_for(team.senior, {str(status["id"])}), what="the report's case")[0]
    assert case["sources"] == ["user"]

    # The Mastodon admin API shows the report; a senior moderator claims the case and removes the post.
    admin_report = team.senior.get(f"/api/v1/admin/reports/{report['id']}").json()
    assert admin_report["target_account"]["id"] == str(author.id)
    assert admin_report["statuses"][0]["id"] == str(status["id"])
    assert admin_report["warden"]["case_id"] == case["id"]
    assert team.senior.post(f"/api/warden/v1/cases/{case['id']}/claim").json()["state"] == "claimed"
    # While claimed, another moderator cannot decide it.
    blocked = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision", json={"action": "remove"})
    assert blocked.status_code == 409
    decided = team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "remove", "policy": "harassment", "explanation": "Targets a person."})
    assert decided.status_code == 200, decided.text
    decision_id = decided.json()["decision"]["id"]
    assert reader.get(f"/api/v1/statuses/{status['id']}").status_code == 404
    resolved = team.senior.get(f"/api/v1/admin/reports/{report['id']}").json()
    assert resolved["action_taken"] is True
    assert resolved["action_taken_by_account"]["id"] == str(team.senior.id)

    # The author appeals; the evidence (the removed text) is kept on the case.
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "It is satire."})
    assert appeal.status_code == 201, appeal.text
    appeal_id = appeal.json()["id"]
    assert author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "again"}).status_code == 409
    evidence = team.senior2.get(f"/api/warden/v1/cases/{case['id']}").json()["evidence"]
    assert evidence["content"]["text"].startswith("A satirical piece")

    # The decider may not decide the appeal, nor may a plain moderator; another senior overturns it.
    refused = team.senior.post(f"/api/warden/v1/appeals/{appeal_id}/decision", json={"outcome": "overturned"})
    assert refused.status_code == 403
    assert team.moderator.post(f"/api/warden/v1/appeals/{appeal_id}/decision",
                               json={"outcome": "overturned"}).status_code == 403
    overturned = team.senior2.post(f"/api/warden/v1/appeals/{appeal_id}/decision",
                                   json={"outcome": "overturned", "explanation": "Satire of a public figure."})
    assert overturned.status_code == 200, overturned.text
    assert overturned.json()["state"] == "overturned"
    assert overturned.json()["outcome_decision"]["action"] == "restore"
    assert reader.get(f"/api/v1/statuses/{status['id']}").status_code == 200
    # Decided once: a second decision on the appeal is a conflict.
    again = team.senior2.post(f"/api/warden/v1/appeals/{appeal_id}/decision", json={"outcome": "upheld"})
    assert again.status_code == 409


def test_suspended_account_cannot_post_and_disappears_from_timelines(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("suspendee")
    api = mod_server.mastodon(author)
    posted = api.status_post("Hello from an account about to be suspended.")
    public = lambda: {s["id"] for s in httpx.get(f"{mod_server.url}/api/v1/timelines/public",  # noqa: E731
                                                  params={"limit": 40}).json()}
    assert str(posted["id"]) in public()

    action = team.moderator.post(f"/api/v1/admin/accounts/{author.id}/action",
                                 data={"type": "suspend", "text": "Repeated threats."})
    assert action.status_code == 200, action.text
    with pytest.raises(MastodonAPIError):
        api.status_post("Can I still post?")
    assert str(posted["id"]) not in public()
    assert team.moderator.get(f"/api/v1/admin/accounts/{author.id}").json()["suspended"] is True
    listed = team.moderator.get("/api/v1/admin/accounts", params={"suspended": "true", "limit": 200}).json()
    assert str(author.id) in {a["id"] for a in listed}

    assert team.moderator.post(f"/api/v1/admin/accounts/{author.id}/unsuspend").json()["suspended"] is False
    assert str(posted["id"]) in public()
    api.status_post("Back again.")


def test_staff_endpoints_need_a_staff_role_not_just_an_admin_scope(mod_server: LiveServer) -> None:
    user = mod_server.user("wannabe", scopes=STAFF_SCOPES)
    assert user.get("/api/warden/v1/cases").status_code == 403
    assert user.get("/api/v1/admin/reports").status_code == 403
    assert user.post(f"/api/v1/admin/accounts/{user.id}/action", data={"type": "suspend"}).status_code == 403
    moderator = mod_server.user("scopeless", role="moderator", scopes="read write")
    assert moderator.get("/api/warden/v1/cases").status_code == 403
    assert httpx.get(f"{mod_server.url}/api/warden/v1/cases").status_code == 401


def test_escalated_case_needs_a_senior_moderator(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("edgy")
    reporter = mod_server.user("reporter")
    status = author.post("/api/v1/statuses", data={"status": "An edgy joke about the referee."}).json()
    reporter.post("/api/v1/reports", data={"account_id": author.id, "status_ids[]": status["id"]})
    case = eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the case")[0]
    garbled = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/escalate", content=b"{not json")
    assert garbled.status_code == 422
    escalated = team.moderator.post(f"/api/warden/v1/cases/{case['id']}/escalate", json={"note": "Context needed"})
    assert escalated.json()["state"] == "escalated" and escalated.json()["tier"] == "senior"
    assert team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "label"}).status_code == 403
    decided = team.senior.post(f"/api/warden/v1/cases/{case['id']}/decision",
                               json={"action": "label", "policy": "harassment"})
    assert decided.status_code == 200
    shown = reporter.get(f"/api/v1/statuses/{status['id']}").json()
    assert shown["spoiler_text"] == "Possible harassment" and shown["sensitive"] is True


def test_mastodon_admin_report_workflow(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("rude")
    reporter = mod_server.user("reporter")
    status = author.post("/api/v1/statuses", data={"status": "Watch your back, everyone knows what you did."}).json()
    report = reporter.post("/api/v1/reports", data={"account_id": author.id, "status_ids[]": status["id"],
                                                    "comment": "harassment"}).json()
    # The detector flagged it for review (published, case opened); the report joined the same case.
    case = eventually(lambda: (lambda c: c if c and len(c[0]["sources"]) == 2 else None)(
        cases_for(team.moderator, {status["id"]})), what="one case with both signals")[0]
    assert case["sources"] == ["user", "detector"]
    listed = team.moderator.get("/api/v1/admin/reports", params={"limit": 200}).json()
    assert report["id"] in {r["id"] for r in listed}
    entry = next(r for r in listed if r["id"] == report["id"])
    assert entry["action_taken"] is False and entry["account"]["id"] == str(reporter.id)
    assigned = team.moderator.post(f"/api/v1/admin/reports/{report['id']}/assign_to_self").json()
    assert assigned["assigned_account"]["id"] == str(team.moderator.id)
    assert team.moderator.post(f"/api/v1/admin/reports/{report['id']}/unassign").json()["assigned_account"] is None
    # Acting on the account through Mastodon's API resolves the report with a recorded decision.
    action = team.moderator.post(f"/api/v1/admin/accounts/{author.id}/action",
                                 data={"type": "silence", "report_id": report["id"], "text": "Harassment."})
    assert action.status_code == 200, action.text
    resolved = team.moderator.get(f"/api/v1/admin/reports/{report['id']}").json()
    assert resolved["action_taken"] is True and resolved["warden"]["decision_id"]
    assert team.moderator.get(f"/api/v1/admin/accounts/{author.id}").json()["silenced"] is True
    later = author.post("/api/v1/statuses", data={"status": "Still here."}).json()
    assert later["warden"]["limited"] is True  # a limited account's new posts stay out of public timelines
    assert team.moderator.post(f"/api/v1/admin/reports/{report['id']}/reopen").json()["action_taken"] is False
    unresolved = {r["id"] for r in team.moderator.get("/api/v1/admin/reports", params={"limit": 200}).json()}
    assert report["id"] in unresolved
    assert team.moderator.post(f"/api/v1/admin/reports/{report['id']}/resolve").json()["action_taken"] is True


def test_mastodon_py_admin_functions_work_unchanged(mod_server: LiveServer, team: Team) -> None:
    author = mod_server.user("target")
    reporter = mod_server.user("reporter")
    status = mod_server.mastodon(author).status_post("Something to report.")
    report = mod_server.mastodon(reporter).report(author.id, status_ids=[status["id"]], category="other")
    admin = mod_server.mastodon(team.moderator)
    assert report["id"] in {r["id"] for r in admin.admin_reports(limit=200)}
    fetched = admin.admin_report(report["id"])
    assert str(fetched["target_account"]["account"]["id"]) == str(author.id)
    assert str(admin.admin_report_assign(report["id"])["assigned_account"]["id"]) == str(team.moderator.id)
    assert admin.admin_report_unassign(report["id"])["assigned_account"] is None
    admin.admin_account_moderate(author.id, "suspend", report_id=report["id"], text="Threats.")
    assert admin.admin_account(author.id)["suspended"] is True
    assert admin.admin_report(report["id"])["action_taken"] is True
    assert str(author.id) in {str(a["id"]) for a in admin.admin_accounts_v1(status="suspended", limit=200)}
    assert admin.admin_account_unsuspend(author.id)["suspended"] is False
    assert admin.admin_report_reopen(report["id"])["action_taken"] is False
    assert admin.admin_report_resolve(report["id"])["action_taken"] is True


def test_report_state_created_by_two_transactions_at_once_keeps_both_updates(mod_server: LiveServer,
                                                                             team: Team) -> None:
    """The case worker and a moderator may both be first to touch a new report (CI once saw the
    moderator's assign fail with a duplicate key): neither fails, and neither update is lost."""
    author, reporter = mod_server.user("target"), mod_server.user("reporter")
    with mod_server.db.write() as session:  # no outbox event: the worker leaves this report alone
        row = Report(account_id=int(reporter.id), target_account_id=int(author.id), status_ids=[], rule_ids=[],
                     category="other", comment="")
        session.add(row)
        session.flush()
        report_id = row.id
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:  # the worker's side, creating the same row from its own transaction
        try:
            with mod_server.db.write() as session:
                report_state(session, report_id).case_id = 424242
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            second_done.set()

    with mod_server.db.write() as session:
        report_state(session, report_id).assigned_account_id = int(team.moderator.id)
        session.flush()  # this transaction now holds the new row, uncommitted
        thread = threading.Thread(target=second)
        thread.start()
        # On PostgreSQL the second insert waits for this transaction; on SQLite for the write lock.
        assert not second_done.wait(0.5)
    thread.join(30)
    assert errors == []
    with mod_server.db.read() as session:
        state = session.get(ReportState, report_id)
        assert state is not None
        assert (state.assigned_account_id, state.case_id) == (int(team.moderator.id), 424242)
