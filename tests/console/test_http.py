"""The console over HTTP, on SQLite and PostgreSQL: login, sessions, CSRF, roles, redirects, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.console.conftest import (
    console_client,
    csrf_of,
    eventually,
    partner,
    reported_case,
    send_notices,
    status_url,
)
from tests.helpers import PASSWORD, LiveServer
from warden.store.moderation_models import AuditEntry, ModerationCase, ModerationDecision

STAFF_PAGES = ["/console/", "/console/queue", "/console/dashboard", "/console/appeals", "/console/audit",
               "/console/policy", "/console/staff", "/console/partners", "/console/partner", "/console/cases/1"]
#: Which pages each role may open (the rest answer 403).
ALLOWED = {
    "moderator": {"/console/queue", "/console/dashboard"},
    "senior": {"/console/queue", "/console/dashboard", "/console/appeals", "/console/audit"},
    "admin": {"/console/queue", "/console/dashboard", "/console/appeals", "/console/audit", "/console/policy",
              "/console/staff", "/console/partners"},
}


def test_anonymous_visitors_are_sent_to_the_login_page(server: LiveServer, client: httpx.Client) -> None:
    for path in STAFF_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login"), path
    assert client.get("/console/queue?label=violence", follow_redirects=False).headers["location"] == \
        "/console/login?next=/console/queue%3Flabel%3Dviolence"
    assert client.get("/console", follow_redirects=False).status_code == 303
    # A POST without a session changes nothing: it is sent to the login page too.
    refused = client.post("/console/cases/1/claim", data={"csrf_token": "x"}, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/console/login"


def test_login_page_headers_and_session_cookie(server: LiveServer, client: httpx.Client) -> None:
    page = client.get("/console/login")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and page.headers["x-content-type-options"] == "nosniff"
    assert '<script src="/console/static/console.js" defer></script>' in page.text
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/console/static/console.js" defer>']
    assert 'name="username"' in page.text and 'name="password"' in page.text
    moderator = server.user("mod", role="moderator")
    response = client.post("/console/login", data={"username": moderator.username, "password": PASSWORD,
                                                   "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/console/queue"
    cookie = response.headers["set-cookie"].lower()
    assert "warden_console=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/console" in cookie and "secure" not in cookie  # http base URL; https sets Secure
    queue = client.get("/console/queue")
    assert queue.status_code == 200 and "Queue" in queue.text
    assert queue.headers["content-security-policy"] == csp and queue.headers["cache-control"] == "no-store"
    # The static files are ours and carry the same policy.
    js = client.get("/console/static/console.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    # The API is untouched: no session cookie, JSON errors.
    api = client.get("/api/v1/instance")
    assert "set-cookie" not in api.headers and "content-security-policy" not in api.headers


def test_login_needs_the_csrf_token_and_a_staff_role(server: LiveServer, client: httpx.Client) -> None:
    moderator = server.user("mod", role="moderator")
    plain = server.user("plain")
    form = {"username": moderator.username, "password": PASSWORD}
    page = client.get("/console/login")
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 403
    forged = client.post("/console/login", data={**form, "csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
    token = csrf_of(page.text)
    cross = client.post("/console/login", data={**form, "csrf_token": token}, headers={"Origin": "https://evil.test"},
                        follow_redirects=False)
    assert cross.status_code == 403
    wrong = client.post("/console/login", data={**form, "password": "not-the-password", "csrf_token": token})
    assert wrong.status_code == 401 and "Invalid username or password" in wrong.text
    refused = client.post("/console/login", data={"username": plain.username, "password": PASSWORD,
                                                  "csrf_token": token})
    assert refused.status_code == 403 and "no access to the moderator console" in refused.text
    # E-mail works as the login too; an open redirect in `next` is ignored.
    done = client.post("/console/login", data={"username": moderator.email, "password": PASSWORD, "csrf_token": token,
                                               "next": "//evil.test/x"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console/queue"


@pytest.mark.parametrize("role", ["moderator", "senior", "admin"])
def test_each_role_sees_its_pages_only(server: LiveServer, role: str) -> None:
    staff = server.user(role, role=role)
    with console_client(server, staff.username) as http:
        for path in ALLOWED["admin"] | {"/console/partner"}:
            expected = 200 if path in ALLOWED[role] else 403
            assert http.get(path).status_code == expected, (role, path)
        nav = http.get("/console/queue").text
        assert ('href="/console/policy"' in nav) == (role == "admin")
        assert ('href="/console/appeals"' in nav) == (role != "moderator")


def test_partner_login_shows_its_own_notices_only(server: LiveServer) -> None:
    author = server.user("noticed")
    status_id = int(author.post("/api/v1/statuses", data={"status": "A post a partner flags"}).json()["id"])
    name = f"Abuse desk {server.backend}"
    token, other = partner(server, name), partner(server, f"Someone else {server.backend}")
    send_notices(server, other, [{"url": status_url(server, author, status_id), "category": "incitement",
                                  "explanation": "theirs"}])
    with httpx.Client(base_url=server.url, timeout=30) as http:
        csrf = csrf_of(http.get("/console/login").text)
        wrong = http.post("/console/login", data={"username": "Someone else", "password": token, "csrf_token": csrf})
        assert wrong.status_code == 401  # the token belongs to another name
        done = http.post("/console/login", data={"username": name, "password": token, "csrf_token": csrf},
                         follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/console/partner"
        page = http.get("/console/partner")
        assert page.status_code == 200 and "0 notices" in page.text and "Someone else" not in page.text
        ids = send_notices(server, token, [{"url": status_url(server, author, status_id), "category": "incitement",
                                            "explanation": "ours"}])
        page = http.get("/console/partner")
        assert f'data-notice="{ids[0]}"' in page.text and "1 notices" in page.text
        assert http.get("/console/queue").status_code == 403
        assert http.get("/console/dashboard").status_code == 403


def test_logout_ends_the_session(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    with console_client(server, moderator.username) as http:
        page = http.get("/console/queue")
        assert http.post("/console/logout", data={}, follow_redirects=False).status_code == 403  # needs CSRF
        out = http.post("/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        assert http.get("/console/queue", follow_redirects=False).status_code == 303


def test_demoted_staff_lose_access_at_once(server: LiveServer) -> None:
    from warden.store.models import Account

    moderator = server.user("mod", role="moderator")
    with console_client(server, moderator.username) as http:
        assert http.get("/console/queue").status_code == 200
        with server.db.write() as session:
            session.get(Account, moderator.id).role = "user"  # type: ignore[union-attr]
        assert http.get("/console/queue", follow_redirects=False).status_code == 303


def test_claim_and_decide_through_forms_with_csrf(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    author = server.user("author")
    status_id, case_id = reported_case(server, author, "A post that breaks the rules, reported.")
    with console_client(server, moderator.username) as http:
        page = http.get(f"/console/cases/{case_id}")
        assert page.status_code == 200 and "A post that breaks the rules, reported." in page.text
        csrf = csrf_of(page.text)
        assert http.post(f"/console/cases/{case_id}/claim", data={}).status_code == 403
        claimed = http.post(f"/console/cases/{case_id}/claim", data={"csrf_token": csrf}, follow_redirects=False)
        assert claimed.status_code == 303
        assert http.post(f"/console/cases/{case_id}/preview", data={"action": "limit"}).status_code == 403
        preview = http.post(f"/console/cases/{case_id}/preview",
                            data={"csrf_token": csrf, "action": "limit", "reason": "<b>Spam</b> links"})
        assert "DECISION_VISIBILITY_CONTENT_DEMOTED" in preview.text and "&lt;b&gt;Spam&lt;/b&gt;" in preview.text
        # Without a reason nothing is decided.
        http.post(f"/console/cases/{case_id}/decision", data={"csrf_token": csrf, "action": "limit", "reason": " "})
        assert "A reason is required" in http.get(f"/console/cases/{case_id}").text
        with server.db.read() as session:
            assert session.get(ModerationCase, case_id).state == "claimed"  # type: ignore[union-attr]
        done = http.post(f"/console/cases/{case_id}/decision", follow_redirects=False,
                         data={"csrf_token": csrf, "action": "limit", "label": "other", "reason": "Spam links."})
        assert done.status_code == 303
        assert f"Case {case_id} decided: limit" in http.get(done.headers["location"]).text
    with server.db.read() as session:
        case = session.get(ModerationCase, case_id)
        assert case is not None and case.state == "decided"
        decision = session.get(ModerationDecision, case.decision_id)
        assert decision is not None and decision.actor_id == moderator.id and decision.explanation == "Spam links."
        assert decision.statement["decision_facts"] == "Spam links."
        views = session.scalars(select(AuditEntry.actor_id).where(AuditEntry.action == "evidence.viewed",
                                                                   AuditEntry.subject == f"case:{case_id}")).all()
        assert moderator.id in views


def test_appeal_cannot_be_decided_by_the_original_decider(server: LiveServer) -> None:
    first, second = server.user("senior", role="senior"), server.user("senior", role="senior")
    author = server.user("author")
    _, case_id = reported_case(server, author, "Content that gets removed and appealed.")
    with console_client(server, first.username) as http:
        csrf = csrf_of(http.get(f"/console/cases/{case_id}").text)
        http.post(f"/console/cases/{case_id}/decision", data={"csrf_token": csrf, "action": "remove",
                                                              "reason": "Breaks rule 3."})
        with server.db.read() as session:
            decision_id = session.get(ModerationCase, case_id).decision_id  # type: ignore[union-attr]
        appeal = author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "It was a joke."})
        assert appeal.status_code == 201, appeal.text
        appeal_id = appeal.json()["id"]
        page = http.get("/console/appeals").text
        assert "It was a joke." in page and "another senior moderator must decide it" in page
        refused = http.post(f"/console/appeals/{appeal_id}/decision",
                            data={"csrf_token": csrf, "outcome": "overturned", "reason": "Fine."})
        assert refused.status_code == 303
        assert "You took the decision under appeal" in http.get(refused.headers["location"]).text
    with console_client(server, second.username) as http:
        csrf = csrf_of(http.get("/console/appeals").text)
        http.post(f"/console/appeals/{appeal_id}/decision",
                  data={"csrf_token": csrf, "outcome": "overturned", "reason": "Satire."})
        assert f"Appeal {appeal_id}: overturned." in http.get("/console/appeals?state=overturned").text
        audit = http.get("/console/audit")
        assert "Chain intact" in audit.text and "appeal.overturned" in audit.text


def test_user_text_is_escaped_in_the_html(server: LiveServer) -> None:
    admin = server.user("admin", role="admin")
    author = server.user("author")
    payload = '<script>alert(1)</script><img src=x onerror=alert(2)>\u202eevil'
    _, case_id = reported_case(server, author, payload, comment='"><svg onload=alert(3)>')
    with console_client(server, admin.username) as http:
        for path in (f"/console/cases/{case_id}", "/console/queue", "/console/audit"):
            html = http.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html, path
        html = http.get(f"/console/cases/{case_id}").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in html
        assert '<span class="uc" title="RIGHT-TO-LEFT OVERRIDE">U+202E</span>evil' in html
        assert "&#34;&gt;&lt;svg onload=alert(3)&gt;" in html or "&quot;&gt;&lt;svg onload=alert(3)&gt;" in html


def test_secure_cookie_and_generated_secret_for_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from warden.api.app import create_app
    from warden.config import Settings
    from warden.console.auth import SECRET_FILE
    from warden.store.db import Database
    from warden.store.migrate import upgrade

    monkeypatch.delenv("WARDEN_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'warden.sqlite3'}"
    upgrade(url)
    settings = Settings(database_url=url, base_url="https://social.example", detection_enabled=False)
    db = Database(url)
    try:
        with TestClient(create_app(settings, db=db, worker=False), base_url="https://social.example") as http:
            page = http.get("/console/login")
            assert "secure" in page.headers["set-cookie"].lower()
        secret = tmp_path / SECRET_FILE
        assert secret.exists() and oct(secret.stat().st_mode & 0o777) == "0o600"
        first = secret.read_text()
        create_app(settings, db=db, worker=False)  # a second process reuses the same key
        assert secret.read_text() == first
    finally:
        db.dispose()


def test_escalated_case_is_for_senior_moderators(server: LiveServer) -> None:
    moderator, senior = server.user("mod", role="moderator"), server.user("senior", role="senior")
    _, case_id = reported_case(server, server.user("author"), "Something that needs a senior look.")
    with console_client(server, moderator.username) as http:
        csrf = csrf_of(http.get(f"/console/cases/{case_id}").text)
        http.post(f"/console/cases/{case_id}/escalate", data={"csrf_token": csrf, "note": "Public figure."})
        page = http.get(f"/console/cases/{case_id}").text
        assert 'id="senior-only"' in page and 'id="decision-form"' not in page and "Public figure." in page
        refused = http.post(f"/console/cases/{case_id}/decision",
                            data={"csrf_token": csrf, "action": "remove", "reason": "Trying anyway."})
        assert "needs a senior moderator" in http.get(refused.headers["location"]).text
    with console_client(server, senior.username) as http:
        page = http.get("/console/queue?state=escalated").text
        assert f'data-case="{case_id}"' in page
        assert 'id="decision-form"' in http.get(f"/console/cases/{case_id}").text


def test_a_case_about_an_account_without_posts_renders(server: LiveServer) -> None:
    moderator, target = server.user("mod", role="moderator"), server.user("target")
    report = server.user("reporter").post("/api/v1/reports", data={"account_id": str(target.id), "category": "other",
                                                                   "comment": "Impersonates our mayor."})
    assert report.status_code == 200, report.text

    def find() -> int | None:
        with server.db.read() as session:
            return session.scalar(select(ModerationCase.id).where(ModerationCase.account_id == target.id,
                                                                  ModerationCase.status_id.is_(None)))

    case_id = eventually(find, what="the account case")
    with console_client(server, moderator.username) as http:
        page = http.get(f"/console/cases/{case_id}")
        assert page.status_code == 200 and "account case" in page.text and "Impersonates our mayor." in page.text
        csrf = csrf_of(page.text)
        done = http.post(f"/console/cases/{case_id}/decision",
                         data={"csrf_token": csrf, "action": "strike", "reason": "Impersonation (rule 4)."})
        assert "decided: strike" in http.get(done.headers["location"]).text
        assert http.get("/console/cases/999999999").status_code == 404
        assert http.get("/console/cases/not-a-number").status_code == 404
