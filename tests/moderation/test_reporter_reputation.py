"""Issue 30, mass reports: reporter reputation feeds case priority, and a brigade does not outrank a
trusted flagger."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from tests.helpers import LiveServer, User, eventually, unique_name
from tests.moderation.conftest import Team, cases_for, create_partner
from warden.cases import reputation
from warden.store.models import Account, utcnow


def _post(user: User, text: str) -> str:
    made = user.post("/api/v1/statuses", data={"status": text})
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def _report(reporter: User, author: User, status_id: str, comment: str = "") -> str:
    made = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": status_id,
                                                  "comment": comment, "category": "spam"})
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def _queue_position(staff: User, case_id: str) -> int:
    listed = staff.get("/api/warden/v1/cases", params={"status": "open", "limit": 500}).json()
    return [c["id"] for c in listed].index(case_id)


def _age(server: LiveServer, users: list[User], days: float) -> None:
    """Accounts made `days` ago (the fixtures create them now)."""
    with server.db.write() as session:
        session.execute(update(Account).where(Account.id.in_([u.id for u in users]))
                        .values(created_at=utcnow() - timedelta(days=days)))


def test_fifty_reports_from_fresh_accounts_do_not_outrank_one_trusted_flagger_notice(mod_server: LiveServer,
                                                                                      team: Team) -> None:
    # A benign post by an author the brigade follows (reach), reported 50 times as spam by accounts made
    # minutes ago; and a post by an author nobody follows, in one trusted flagger's notice of the same label.
    target, small = mod_server.user("target"), mod_server.user("small")
    benign = _post(target, "My cat learned to open the fridge today.")
    flagged = _post(small, "Cheap watches, visit my shop now.")
    brigade = [mod_server.user("raid") for _ in range(50)]
    for account in brigade:
        assert account.post(f"/api/v1/accounts/{target.id}/follow").status_code == 200
        _report(account, target, benign, comment="spam spam report this")
    token = create_partner(mod_server, unique_name("flagger"), trusted=True)
    with httpx.Client(base_url=mod_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as partner:
        sent = partner.post("/api/warden/v1/notices", json={"notices": [
            {"url": f"{mod_server.url}/@{small.username}/{flagged}", "category": "spam",
             "explanation": "Commercial spam."}]})
        assert sent.status_code == 202, sent.text

    raid = eventually(lambda: (lambda c: c if c and len(c[0]["sources"]) == 1 and _signals(team, c[0]) == 50
                               else None)(cases_for(team.moderator, {benign})), what="the raid's case with 50 reports",
                      timeout=60)[0]
    notice = eventually(lambda: cases_for(team.moderator, {flagged}), what="the notice's case")[0]
    assert raid["label"] == notice["label"] == "other"  # the same policy label: only the sources differ
    assert notice["priority"] > raid["priority"]
    assert _queue_position(team.moderator, notice["id"]) < _queue_position(team.moderator, raid["id"])
    # Fifty coordinated reports weigh about as much as one report from one fresh account.
    single = mod_server.user("single")
    other = _post(target, "And the dog watched.")
    _report(single, target, other)
    alone = eventually(lambda: cases_for(team.moderator, {other}), what="one report's case")[0]
    assert raid["priority"] <= alone["priority"] * 1.05


def _signals(team: Team, case: dict) -> int:
    shown = team.moderator.get(f"/api/warden/v1/cases/{case['id']}").json()
    return len([s for s in shown["evidence"]["signals"] if s["source"] == "user"])


def test_a_reporter_whose_reports_were_upheld_outranks_one_whose_reports_were_dismissed(mod_server: LiveServer,
                                                                                        team: Team) -> None:
    upheld, dismissed = mod_server.user("accurate"), mod_server.user("noisy")
    for reporter, action in ((upheld, "remove"), (dismissed, "no_violation")):
        for i in range(3):
            author = mod_server.user("author")
            status_id = _post(author, f"Post number {i} to be reported.")
            _report(reporter, author, status_id)
            case = eventually(lambda: cases_for(team.moderator, {status_id}), what="the case")[0]
            body = {"action": action, **({"policy": "other"} if action == "remove" else {})}
            assert team.moderator.post(f"/api/warden/v1/cases/{case['id']}/decision", json=body).status_code == 200
    # Now both report a post of the same reach (authors with no followers, one report each).
    fresh_a, fresh_b = mod_server.user("author"), mod_server.user("author")
    post_a, post_b = _post(fresh_a, "A new post."), _post(fresh_b, "Another new post.")
    _report(upheld, fresh_a, post_a)
    _report(dismissed, fresh_b, post_b)
    case_a = eventually(lambda: cases_for(team.moderator, {post_a}), what="the upheld reporter's case")[0]
    case_b = eventually(lambda: cases_for(team.moderator, {post_b}), what="the dismissed reporter's case")[0]
    assert case_a["priority"] > 2 * case_b["priority"]
    assert _queue_position(team.moderator, case_a["id"]) < _queue_position(team.moderator, case_b["id"])


def test_account_age_counts_and_old_accounts_are_not_a_cohort(mod_server: LiveServer, team: Team) -> None:
    """Three established accounts (a year old) reporting one post outweigh three made today."""
    old = [mod_server.user("old") for _ in range(3)]
    new = [mod_server.user("new") for _ in range(3)]
    _age(mod_server, old, 365)
    author_a, author_b = mod_server.user("author"), mod_server.user("author")
    post_a, post_b = _post(author_a, "Reported by old accounts."), _post(author_b, "Reported by new accounts.")
    for reporter in old:
        _report(reporter, author_a, post_a)
    for reporter in new:
        _report(reporter, author_b, post_b)
    case_a = eventually(lambda: (lambda c: c if c and _signals(team, c[0]) == 3 else None)(
        cases_for(team.moderator, {post_a})), what="three reports on the case")[0]
    case_b = eventually(lambda: (lambda c: c if c and _signals(team, c[0]) == 3 else None)(
        cases_for(team.moderator, {post_b})), what="three reports on the case")[0]
    # Three independent old reporters: 0.875 x (1 + 0.2); three new ones made together: one cohort, 0.22.
    assert case_a["priority"] / case_b["priority"] > 4


def test_reputation_scores() -> None:
    assert reputation.score(0, 0, 0) == 0.2188                  # a brand-new account, no history
    assert reputation.score(0, 0, 30) == 0.875                  # an established account, no history
    assert reputation.score(3, 0, 0) == 1.25                    # upheld reports vouch for a young account
    assert reputation.score(0, 3, 30) == 0.5
    assert reputation.score(50, 0, 400) > 1.45 and reputation.score(0, 50, 400) < 0.3
