"""The console obeys issue 29's authorization rules (items 2 and 5), over HTTP on SQLite and PostgreSQL:
a suspended staff member's session stops working, and the console's case decisions are refused for
one's own posts and for posts of an equal or higher role (the domain layer's check, shared with the API)."""

from __future__ import annotations

import httpx

from tests.console.conftest import console_client, csrf_of, reported_case
from tests.helpers import PASSWORD, LiveServer
from tests.moderation.conftest import STAFF_SCOPES
from warden.store.moderation_models import ModerationCase


def test_a_suspended_staff_members_console_session_stops_working(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    admin = server.user("admin", role="admin", scopes=STAFF_SCOPES)
    with console_client(server, moderator.username) as http:
        assert http.get("/console/queue").status_code == 200
        suspended = admin.post(f"/api/v1/admin/accounts/{moderator.id}/action", data={"type": "suspend"})
        assert suspended.status_code == 200, suspended.text
        gone = http.get("/console/queue", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/console/login")
    # Nor can the suspended moderator log in again.
    with httpx.Client(base_url=server.url, timeout=30) as fresh:
        page = fresh.get("/console/login")
        again = fresh.post("/console/login", follow_redirects=False, data={
            "username": moderator.username, "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        assert again.status_code != 303 and "Your login is currently disabled" in again.text


def _decide(server: LiveServer, username: str, case_id: int) -> str:
    """Decide `case_id` as `username` through the console's form: the page's flash message after it."""
    with console_client(server, username) as http:
        csrf = csrf_of(http.get(f"/console/cases/{case_id}").text)
        done = http.post(f"/console/cases/{case_id}/decision", follow_redirects=False,
                         data={"csrf_token": csrf, "action": "no_violation", "reason": "Looks fine to me."})
        assert done.status_code == 303
        return http.get(done.headers["location"]).text


def test_console_refuses_a_decision_on_ones_own_post_or_a_peers(server: LiveServer) -> None:
    moderator, peer = server.user("mod", role="moderator"), server.user("mod", role="moderator")
    senior = server.user("senior", role="senior")
    _, case_id = reported_case(server, moderator, "A moderator's own post, reported.")

    assert "your own content" in _decide(server, moderator.username, case_id)
    assert "equal to or higher" in _decide(server, peer.username, case_id)
    with server.db.read() as session:
        case = session.get(ModerationCase, case_id)
        assert case is not None and case.state != "decided" and case.decision_id is None
    assert f"Case {case_id} decided: no_violation" in _decide(server, senior.username, case_id)
