"""Issue 30: everyone told the outcome. Reporters get a direct message from the moderation account and
`GET /api/warden/v1/reports/{id}`; authors get Mastodon's AccountWarning with the statement and the signed
appeal page, which works while they are suspended."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import select

from tests.helpers import PASSWORD, LiveServer, User, eventually
from tests.moderation.conftest import Team, cases_for
from warden.cases import outcomes
from warden.platform import content
from warden.store.models import Notification

RULE_1 = "Rule 1: no threats or incitement to violence"


def _post(user: User, text: str) -> dict[str, Any]:
    made = user.post("/api/v1/statuses", data={"status": text})
    assert made.status_code == 200, made.text
    return made.json()


def _report(reporter: User, author: User, status_id: str, comment: str = "please look") -> dict[str, Any]:
    made = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": status_id,
                                                  "comment": comment, "category": "other"})
    assert made.status_code == 200, made.text
    return made.json()


def _decide(staff: User, status_id: str, action: str, explanation: str, policy: str | None = "violence") -> str:
    case = eventually(lambda: cases_for(staff, {status_id}), what=f"the case about {status_id}")[0]
    body = {"action": action, "explanation": explanation, **({"policy": policy} if policy else {})}
    decided = staff.post(f"/api/warden/v1/cases/{case['id']}/decision", json=body)
    assert decided.status_code == 200, decided.text
    return str(decided.json()["decision"]["id"])


def _outcome_messages(user: User) -> list[dict[str, Any]]:
    """The direct messages from the moderation account among the user's mention notifications."""
    listed = user.get("/api/v1/notifications", params={"types[]": "mention"})
    assert listed.status_code == 200, listed.text
    return [n["status"] for n in listed.json() if n["account"]["username"] == "moderation"]


def test_a_reporter_is_told_the_outcome_by_direct_message_and_reads_the_report(mod_server: LiveServer,
                                                                                team: Team) -> None:
    author, reporter, other = mod_server.user("author"), mod_server.user("reporter"), mod_server.user("other")
    bad = _post(author, "Everyone come to the town hall tonight, bring what you need.")
    fine = _post(author, "The town hall meeting is at seven.")
    first = _report(reporter, author, bad["id"], comment="my private worry")
    second = _report(reporter, author, fine["id"])

    before = reporter.get(f"/api/warden/v1/reports/{first['id']}")
    assert before.status_code == 200, before.text
    assert before.json()["status"] == "open" and before.json()["outcome"] is None

    _decide(team.moderator, bad["id"], "remove", "PRIVATE: the author has two earlier strikes.")
    _decide(team.moderator, fine["id"], "no_violation", "PRIVATE: a note for staff.", policy=None)

    # The reporter's app shows two direct messages from the moderation account, one per report.
    messages = eventually(lambda: (lambda m: m if len(m) == 2 else None)(_outcome_messages(reporter)),
                          what="two outcome messages")
    by_report = {re.search(r"report #(\d+)", m["content"]).group(1): m for m in messages}  # type: ignore[union-attr]
    removed, dismissed = by_report[first["id"]], by_report[second["id"]]
    for message in messages:
        assert message["visibility"] == "direct"
        assert [m["id"] for m in message["mentions"]] == [str(reporter.id)]  # nobody else is addressed
        assert "PRIVATE" not in message["content"] and "my private worry" not in message["content"]
        assert message["account"]["bot"] is True and message["account"]["locked"] is True
    assert "The post was removed" in removed["content"] and RULE_1 in removed["content"]
    assert bad["url"] in removed["content"]
    assert "no violation" in dismissed["content"] and "Rule" not in dismissed["content"]
    # The message is readable as a status by the reporter only.
    assert reporter.get(f"/api/v1/statuses/{removed['id']}").status_code == 200
    assert other.get(f"/api/v1/statuses/{removed['id']}").status_code == 404
    assert author.get(f"/api/v1/statuses/{removed['id']}").status_code == 404
    # The reported author is not told who reported them (no mention, no message).
    assert _outcome_messages(author) == []

    # GET /api/warden/v1/reports/{id}: the reporter reads the outcome; anyone else gets a 404.
    shown = reporter.get(f"/api/warden/v1/reports/{first['id']}").json()
    assert shown["status"] == "resolved" and shown["outcome"] == "actioned"
    assert shown["reason"] == RULE_1 and shown["outcome_text"].startswith("The post was removed")
    assert shown["created_at"] and shown["resolved_at"] and shown["status_ids"] == [bad["id"]]
    assert "PRIVATE" not in str(shown)
    dismissed_json = reporter.get(f"/api/warden/v1/reports/{second['id']}").json()
    assert dismissed_json["outcome"] == "no_action" and dismissed_json["reason"] is None
    for stranger in (other, author, team.moderator):
        refused = stranger.get(f"/api/warden/v1/reports/{first['id']}")
        assert refused.status_code == 404 and "error" in refused.json()
    assert reporter.get("/api/warden/v1/reports/999999999").status_code == 404
    assert httpx.get(f"{mod_server.url}/api/warden/v1/reports/{first['id']}").status_code == 401


def test_a_report_resolved_through_the_mastodon_admin_api_is_answered_too(mod_server: LiveServer,
                                                                          team: Team) -> None:
    author, reporter = mod_server.user("author"), mod_server.user("reporter")
    status = _post(author, "Nothing to see here.")
    report = _report(reporter, author, status["id"])
    eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the report's case")
    resolved = team.moderator.post(f"/api/v1/admin/reports/{report['id']}/resolve")
    assert resolved.status_code == 200, resolved.text
    message = eventually(lambda: _outcome_messages(reporter), what="the outcome message")[0]
    assert "closed without action" in message["content"]
    assert reporter.get(f"/api/warden/v1/reports/{report['id']}").json()["outcome"] == "no_action"


def test_the_author_gets_a_mastodon_account_warning_with_the_statement_and_appeal_page(mod_server: LiveServer,
                                                                                        team: Team) -> None:
    author, reporter = mod_server.user("author"), mod_server.user("reporter")
    status = _post(author, "Come to the square tonight, you know what to do.")
    _report(reporter, author, status["id"])
    decision_id = _decide(team.moderator, status["id"], "remove", "Calls readers to a violent gathering.")

    def warning() -> dict[str, Any] | None:
        listed = author.get("/api/v1/notifications", params={"types[]": "moderation_warning"}).json()
        return next((n["moderation_warning"] for n in listed if n["moderation_warning"]["id"] == decision_id), None)

    shown = eventually(warning, what="the moderation warning")
    # Mastodon's AccountWarning: action from its enumeration, the affected statuses, the target account.
    assert shown["action"] == "delete_statuses" and shown["warden_action"] == "remove"
    assert shown["status_ids"] == [status["id"]]
    assert shown["target_account"]["id"] == str(author.id) and shown["appeal"] is None
    assert shown["created_at"]
    # Its text (what stock clients show) carries the statement's summary and the signed appeal page.
    assert shown["text"].startswith("Your post was removed")
    assert RULE_1 in shown["text"] and "Calls readers to a violent gathering." in shown["text"]
    page = re.search(r"(https?://\S+/appeal/\S+)$", shown["text"]).group(1)  # type: ignore[union-attr]
    assert page == shown["appeal_page"] and shown["statement_of_reasons"]["puid"] == decision_id
    assert httpx.get(page).status_code == 200

    filed = author.post("/api/warden/v1/appeals", json={"decision_id": decision_id, "text": "Context was a game."})
    assert filed.status_code == 201, filed.text
    assert eventually(warning, what="the warning")["appeal"] == {"text": "Context was a game.", "state": "pending"}


def _suspend(team: Team, user: User, text: str) -> None:
    acted = team.moderator.post(f"/api/v1/admin/accounts/{user.id}/action", data={"type": "suspend", "text": text})
    assert acted.status_code == 200, acted.text


def _page_of(server: LiveServer, user: User) -> str:
    with server.db.read() as session:
        data = session.scalar(select(Notification.data).where(Notification.account_id == user.id,
                                                              Notification.type == "moderation_warning"))
    assert data and data.get("appeal_page"), data
    return str(data["appeal_page"])


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_suspended_author_reads_the_statement_and_appeals_on_the_signed_page(mod_server: LiveServer,
                                                                                team: Team) -> None:
    author = mod_server.user("suspended")
    _suspend(team, author, "Threats <script>alert(1)</script> & more.")
    assert author.get("/api/v1/accounts/verify_credentials").status_code == 403  # its tokens are refused...
    warnings = author.get("/api/v1/notifications").json()  # ...except to list its moderation warnings
    assert [n["type"] for n in warnings] == ["moderation_warning"]
    assert warnings[0]["moderation_warning"]["action"] == "suspend"
    page_url = _page_of(mod_server, author)
    with httpx.Client(timeout=30) as anonymous:  # no token, no cookie: the signed link is the credential
        page = anonymous.get(page_url)
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        assert "Your account was suspended." in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more." in page.text
        assert "<script>alert" not in page.text
        assert "DECISION_ACCOUNT_SUSPENDED" in page.text
        # Without the form's token, or from another site, nothing is filed.
        assert anonymous.post(page_url, data={"text": "No token."}).status_code == 400
        assert anonymous.post(page_url, data={"text": "Odd token.", "csrf_token": "é\u2028"}).status_code == 400
        foreign = anonymous.post(page_url, data={"text": "Elsewhere.", "csrf_token": _csrf(page.text)},
                                 headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 400
        assert "Appeal open" not in anonymous.get(page_url).text
        # The author appeals; the page then shows the appeal instead of the form.
        filed = anonymous.post(page_url, data={"text": "I was <b>hacked</b>.", "csrf_token": _csrf(page.text)},
                               headers={"Origin": mod_server.url})
        assert filed.status_code == 303, filed.text
        after = anonymous.get(mod_server.url + filed.headers["location"])
        assert "Your appeal was received" in after.text and "Appeal open" in after.text
        assert "I was &lt;b&gt;hacked&lt;/b&gt;." in after.text and 'name="csrf_token"' not in after.text
        again = anonymous.post(page_url, data={"text": "Again.", "csrf_token": _csrf(page.text)})
        assert again.status_code == 409
        # A link that was altered opens nothing.
        assert anonymous.get(page_url[:-3] + "xyz").status_code == 404
    appeals = team.senior.get("/api/warden/v1/appeals").json()
    assert any(a["account_id"] == str(author.id) and a["text"] == "I was <b>hacked</b>." for a in appeals)


def test_mastodon_apps_strike_page_signs_a_suspended_author_in_to_the_signed_page(mod_server: LiveServer,
                                                                                   team: Team) -> None:
    author, other = mod_server.user("suspended"), mod_server.user("other")
    _suspend(team, author, "Repeated threats.")
    decision_id = author.get("/api/warden/v1/decisions").json()[0]["id"]
    path = f"/disputes/strikes/{decision_id}"  # where Mastodon apps open a moderation warning
    with httpx.Client(base_url=mod_server.url, timeout=30) as browser:
        assert browser.get(path).status_code == 200
        wrong = browser.post(path, data={"username": author.username, "password": "not-the-password"})
        assert wrong.status_code == 401 and "Invalid username or password" in wrong.text
        stranger = browser.post(path, data={"username": other.username, "password": PASSWORD})
        assert stranger.status_code == 404
        signed_in = browser.post(path, data={"username": author.username, "password": PASSWORD})
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == _page_of(mod_server, author).removeprefix(mod_server.url)
        assert "Repeated threats." in browser.get(signed_in.headers["location"]).text


def test_policy_text_quoted_in_a_message_cannot_mention_tag_or_inject_markup() -> None:
    text = "@reporter Outcome.\n\n" + outcomes._inert("Rule: <b>no</b> @alice #raid & co")
    rendered = content.render(text, base_url="https://x.example", account_url=lambda name: f"https://x.example/@{name}")
    assert rendered.mentions == ["reporter"] and rendered.tags == []
    assert "<b>" not in rendered.html and "&lt;b&gt;no&lt;/b&gt;" in rendered.html and "&amp; co" in rendered.html


def test_a_user_holding_the_configured_name_never_speaks_for_the_moderators(mod_server: LiveServer) -> None:
    squatter = mod_server.user("squatter")
    with mod_server.db.write() as session:
        account = outcomes.moderation_account(session, replace(mod_server.settings, moderation_account=squatter.username))
        assert account.id != squatter.id and account.username == outcomes.FALLBACK_USERNAME
        assert account.password_hash is None and account.email is None and account.bot
        default = outcomes.moderation_account(session, mod_server.settings)
        assert default.username == "moderation" and default.bot and default.locked
