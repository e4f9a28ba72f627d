"""Volume in the console (issue 30), over HTTP on SQLite and PostgreSQL: bulk decisions through the API
and the console's forms, the strikes and suspensions shown before they are applied, search by account,
text and partner, queues per report type that only some roles see, and the author's history and the
post as its followers saw it."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.console.conftest import console_client, csrf_of, partner, reported_case, send_notices, status_url
from tests.console.seed import seed_raid
from tests.helpers import LiveServer, User
from tests.moderation.conftest import STAFF_SCOPES, run_cli
from warden.cases import audit, bulk
from warden.policy.model import parse_policy
from warden.store.models import Account, Status
from warden.store.moderation_models import AuditEntry, ModerationCase, ModerationDecision, Strike

API = "/api/warden/v1"
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "warden" / "policy" / "default.yaml"


def _raid_text() -> str:
    return f"raid{secrets.token_hex(4)} get off this server now"


def _raid(server: LiveServer, authors: list[User], n: int, text: str) -> list[int]:
    reporters = [server.user("reporter").id for _ in range(3)]
    return seed_raid(server.db, server.settings, authors=[a.id for a in authors], reporters=reporters, n=n, text=text)


def test_bulk_decision_decides_each_case_through_the_single_decision_path(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    loud, quiet = server.user("loud"), server.user("quiet")
    text = _raid_text()
    ids = _raid(server, [loud, loud, loud, quiet], 8, text)  # loud: 6 posts, quiet: 2
    own = seed_raid(server.db, server.settings, authors=[moderator.id], reporters=[loud.id], n=1, text=text)[0]

    # Preview: the filter finds the raid (the moderator's own post too), and says what it will do.
    preview = moderator.post(f"{API}/cases/bulk-decision", json={
        "filter": {"text": text.split()[0]}, "action": "remove", "explanation": "Raid.", "preview": True})
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["matched"] == 9 and sorted(map(int, body["case_ids"])) == sorted([*ids, own])
    effects = {c["username"]: c for c in body["consequences"]}
    assert effects[loud.username]["strikes_added"] == 6 and effects[loud.username]["suspends"] is True
    assert "the 3rd means suspension" in effects[loud.username]["summary"]
    assert effects[quiet.username]["strikes_added"] == 2 and effects[quiet.username]["suspends"] is False
    with server.db.read() as session:  # a preview decides nothing
        assert session.scalar(select(func.count()).select_from(ModerationDecision)
                              .where(ModerationDecision.case_id.in_(ids))) == 0

    # Apply: ids given twice count once; the own post and an unknown case fail alone.
    missing = 9_000_000_000
    applied = moderator.post(f"{API}/cases/bulk-decision", json={
        "case_ids": [*map(str, ids), str(ids[0]), own, str(missing)], "action": "remove", "policy": "harassment",
        "explanation": "Part of a coordinated raid."})
    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert (result["decided"], result["failed"]) == (8, 2)
    by_case = {r["case_id"]: r for r in result["results"]}
    assert [r["case_id"] for r in result["results"]] == [*map(str, ids), str(own), str(missing)]
    assert all(by_case[str(i)]["ok"] and by_case[str(i)]["decision_id"].startswith("dec_") for i in ids)
    assert by_case[str(own)] == {"case_id": str(own), "ok": False, "status": 403,
                                 "error": by_case[str(own)]["error"]} and "own" in by_case[str(own)]["error"]
    assert by_case[str(missing)]["ok"] is False and by_case[str(missing)]["status"] == 404

    with server.db.read() as session:
        for case_id in ids:
            case = session.get(ModerationCase, case_id)
            assert case is not None and case.state == "decided"
            decision = session.get(ModerationDecision, case.decision_id)
            assert decision is not None and decision.actor_id == moderator.id and decision.label == "harassment"
            assert decision.explanation == "Part of a coordinated raid." and decision.statement["decision_facts"]
            assert session.get(Status, case.status_id).state == "removed"  # type: ignore[union-attr]
        assert session.get(ModerationCase, own).state == "open"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Strike).where(Strike.account_id == loud.id)) == 6
        assert session.get(Account, loud.id).suspended_at is not None  # type: ignore[union-attr]
        assert session.get(Account, quiet.id).suspended_at is None  # type: ignore[union-attr]
        decided = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "case.decided", AuditEntry.subject.in_([f"case:{i}" for i in ids])))
        assert decided == 8
        assert audit.verify(session).ok

    # Deciding them again: each is refused as decided; nothing changes.
    again = moderator.post(f"{API}/cases/bulk-decision", json={"case_ids": ids[:2], "action": "no_violation"})
    assert again.status_code == 200 and again.json()["decided"] == 0
    assert all(r["status"] == 409 for r in again.json()["results"])


def test_bulk_decision_refuses_bad_requests_before_deciding_anything(server: LiveServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    plain = server.user("plain", scopes=STAFF_SCOPES)
    text = _raid_text()
    ids = _raid(server, [server.user("raider")], 3, text)
    url = f"{API}/cases/bulk-decision"
    for body, needle in (
            ({"action": "remove"}, "either case_ids or filter"),
            ({"case_ids": ids, "filter": {"text": text}, "action": "remove"}, "either case_ids or filter"),
            ({"case_ids": [], "action": "remove"}, "no cases"),
            ({"case_ids": ["12abc"], "action": "remove"}, "not a case id"),
            ({"case_ids": list(range(1, bulk.MAX_CASES + 2)), "action": "remove"}, f"at most {bulk.MAX_CASES}"),
            ({"case_ids": ids, "action": "remove", "policy": "nonsense"}, "policy must be one of"),
            ({"case_ids": ids, "action": "explode"}, ""),
            ({"filter": {"state": "sideways"}, "action": "remove"}, "state must be one of")):
        refused = moderator.post(url, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert needle in refused.json()["error"], refused.text
    monkeypatch.setattr(bulk, "MAX_CASES", 2)  # the server runs in this process
    capped = moderator.post(url, json={"filter": {"text": text}, "action": "remove"})
    assert capped.status_code == 422 and "3 cases match" in capped.json()["error"]
    assert plain.post(url, json={"case_ids": ids, "action": "remove"}).status_code == 403
    with server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ModerationCase).where(
            ModerationCase.id.in_(ids), ModerationCase.state == "open")) == 3


def test_search_by_account_text_and_partner(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    author, other = server.user("searched"), server.user("bystander")
    marker = f"zebra{secrets.token_hex(3)}"
    _, by_text = reported_case(server, author, f"The {marker.upper()} crossing is tonight")
    status_id, by_notice = reported_case(server, other, "Nothing to see here, honestly")
    desk = f"Searchable Desk {secrets.token_hex(3)}"
    send_notices(server, partner(server, desk), [{"url": status_url(server, other, status_id),
                                                  "category": "harassment", "explanation": "look"}])

    def found(**params: str) -> set[int]:
        response = moderator.get(f"{API}/cases", params={"status": "open", "limit": "500", **params})
        assert response.status_code == 200, response.text
        return {int(c["id"]) for c in response.json()}

    assert found(text=marker) == {by_text}  # case aside
    assert found(account=f"@{author.username}") == {by_text}
    assert found(account=author.username.upper()) == {by_text}
    assert found(partner=desk.split()[-1]) == {by_notice}
    assert found(text="100%_") == set()  # LIKE wildcards are taken literally
    assert moderator.get(f"{API}/cases", params={"source": "nonsense"}).status_code == 422
    with console_client(server, moderator.username) as http:
        page = http.get("/console/queue", params={"text": marker})
        assert page.status_code == 200 and f'data-case="{by_text}"' in page.text
        assert f'data-case="{by_notice}"' not in page.text and "1 case" in page.text
        page = http.get("/console/queue", params={"partner": desk})
        assert f'data-case="{by_notice}"' in page.text and f'data-case="{by_text}"' not in page.text


def _decision_flash(http: object, response: object) -> str:
    location = response.headers["location"]  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", http.get(location).text)  # type: ignore[attr-defined]


def test_console_bulk_decision_previews_then_applies_to_exactly_the_previewed_cases(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    repeat, once = server.user("repeat"), server.user("once")
    text = _raid_text()
    ids = _raid(server, [repeat, repeat, once], 6, text)
    word = text.split()[0]
    with console_client(server, moderator.username) as http:
        queue = http.get("/console/queue", params={"text": word})
        assert queue.status_code == 200 and "Decide all 6 matching" in queue.text
        csrf = csrf_of(queue.text)
        # Nothing happens without a reason.
        no_reason = http.post("/console/bulk/preview", follow_redirects=False,
                              data={"csrf_token": csrf, "action": "remove", "scope": "matching", "text": word})
        assert no_reason.status_code == 303 and "give a reason" in _decision_flash(http, no_reason)
        none_ticked = http.post("/console/bulk/preview", follow_redirects=False,
                                data={"csrf_token": csrf, "action": "remove", "reason": "x", "scope": "selected"})
        assert none_ticked.status_code == 303 and "Tick the cases to decide" in _decision_flash(http, none_ticked)
        # Select all matching: the preview lists the strikes and the suspension, decides nothing.
        preview = http.post("/console/bulk/preview", data={
            "csrf_token": csrf, "action": "remove", "reason": "Raid <b>spam</b>", "scope": "matching",
            "text": word, "back": f"text={word}"})
        assert preview.status_code == 200, preview.text
        page = re.sub(r"\s+", " ", preview.text)
        assert "Decide 6 cases" in page
        assert f"this will add 4 strikes to @{repeat.username} (1st, 2nd, 3rd … 4th; the 3rd means suspension)" in page
        assert f"this will add 2 strikes to @{once.username} (1st, 2nd)" in page
        assert "1 account will be suspended" in page
        assert "Raid &lt;b&gt;spam&lt;/b&gt;" in page and "<b>spam</b>" not in page
        shown = re.search(r'name="case_ids" value="([^"]+)"', preview.text)
        assert shown is not None and sorted(map(int, shown.group(1).split(","))) == sorted(ids)
        with server.db.read() as session:
            assert session.scalar(select(func.count()).select_from(ModerationCase).where(
                ModerationCase.id.in_(ids), ModerationCase.state == "decided")) == 0
        # A case that matches after the preview is not taken: only the previewed ids are.
        late = _raid(server, [once], 1, text)[0]
        done = http.post("/console/bulk/decision", follow_redirects=False, data={
            "csrf_token": csrf, "case_ids": shown.group(1), "action": "remove", "label": "",
            "reason": "Raid <b>spam</b>", "back": f"text={word}"})
        assert done.status_code == 303 and done.headers["location"] == f"/console/queue?text={word}"
        assert "6 of 6 cases decided: remove." in _decision_flash(http, done)
        # Ticked cases: only those.
        csrf = csrf_of(http.get("/console/queue").text)
        picked = http.post("/console/bulk/preview", data={"csrf_token": csrf, "action": "no_violation",
                                                          "reason": "Fine.", "scope": "selected",
                                                          "case_id": [str(late)]})
        assert picked.status_code == 200 and "Decide 1 case" in picked.text
        assert "No strike or suspension follows" in picked.text
    with server.db.read() as session:
        states = dict(session.execute(select(ModerationCase.id, ModerationCase.state)
                                      .where(ModerationCase.id.in_([*ids, late]))).all())
        assert all(states[i] == "decided" for i in ids) and states[late] == "open"
        reasons = set(session.scalars(select(ModerationDecision.explanation).where(ModerationDecision.case_id.in_(ids))))
        assert reasons == {"Raid <b>spam</b>"}
        assert session.get(Account, repeat.id).suspended_at is not None  # type: ignore[union-attr]


def test_single_decision_shows_the_strike_it_adds_before_it_is_applied(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator")
    author = server.user("struck")
    ids = _raid(server, [author], 3, _raid_text())
    with console_client(server, moderator.username) as http:
        page = http.get(f"/console/cases/{ids[0]}")
        assert f"this will add a strike to @{author.username} (1st)" in page.text  # remove, the default
        csrf = csrf_of(page.text)
        for case_id in ids[:2]:
            decided = http.post(f"/console/cases/{case_id}/decision", follow_redirects=False,
                                data={"csrf_token": csrf, "action": "strike", "reason": "Second raid post."})
            assert decided.status_code == 303
        preview = http.post(f"/console/cases/{ids[2]}/preview", data={"csrf_token": csrf, "action": "strike",
                                                                      "reason": "Again"})
        assert preview.status_code == 200
        text = re.sub(r"\s+", " ", preview.text)
        assert f"this will add a strike to @{author.username} (3rd; the 3rd means suspension)" in text
        assert "1 account will be suspended" in text and "Again" in text
        calm = http.post(f"/console/cases/{ids[2]}/preview", data={"csrf_token": csrf, "action": "label",
                                                                   "reason": "x"})
        assert "No strike or suspension follows" in calm.text
        suspend = http.post(f"/console/cases/{ids[2]}/preview", data={"csrf_token": csrf, "action": "suspend",
                                                                      "reason": "x"})
        assert f"this will suspend @{author.username}" in suspend.text


@pytest.fixture
def senior_queue(server: LiveServer, tmp_path: Path) -> Iterator[str]:
    """The default policy plus a queue for legal reports that only senior moderators (and admins) see."""
    policy = parse_policy(DEFAULT_POLICY.read_text())
    name = f"legal-{server.backend}-{secrets.token_hex(2)}"
    text = DEFAULT_POLICY.read_text().replace(f'version: "{policy.version}"', f'version: "queues-{name}"')
    text += f"\nqueues:\n  {name}:\n    title: Illegal content (legal reports)\n    report_types: [legal]\n" \
            "    min_role: senior\n"
    path = tmp_path / "queues.yaml"
    path.write_text(text)
    assert run_cli(server, "policy", "activate", str(path)).exit_code == 0
    try:
        yield name
    finally:
        assert run_cli(server, "policy", "activate", str(DEFAULT_POLICY)).exit_code == 0


def test_a_queue_only_senior_moderators_see(server: LiveServer, senior_queue: str) -> None:
    from tests.console.conftest import case_for
    from tests.helpers import eventually

    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    senior = server.user("senior", role="senior", scopes=STAFF_SCOPES)
    author, reporter = server.user("illegal"), server.user("reporter")

    def legal_case() -> tuple[int, int]:  # the policy store re-reads the active policy every 2 s
        post = author.post("/api/v1/statuses", data={"status": f"Selling something unlawful {secrets.token_hex(3)}"})
        status_id = int(post.json()["id"])
        reported = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": str(status_id),
                                                          "comment": "illegal", "category": "legal"})
        assert reported.status_code == 200, reported.text
        case_id = case_for(server, status_id)
        with server.db.read() as session:
            case = session.get(ModerationCase, case_id)
            assert case is not None
            return case_id, 1 if case.queue == senior_queue else 0

    case_id = eventually(lambda: (lambda found: found[0] if found[1] else None)(legal_case()),
                         what="a case in the senior queue")
    _, ordinary = reported_case(server, author, "An ordinary reported post")

    # The API: the moderator neither lists, opens, claims nor decides it, alone or in bulk.
    listed = {c["id"] for c in moderator.get(f"{API}/cases", params={"limit": "500"}).json()}
    assert str(case_id) not in listed and str(ordinary) in listed
    assert moderator.get(f"{API}/cases/{case_id}").status_code == 403
    assert moderator.post(f"{API}/cases/{case_id}/claim").status_code == 403
    assert moderator.post(f"{API}/cases/{case_id}/escalate", json={"note": "x"}).status_code == 403
    refused = moderator.post(f"{API}/cases/{case_id}/decision", json={"action": "remove", "explanation": "x"})
    assert refused.status_code == 403 and senior_queue in refused.json()["error"]
    in_bulk = moderator.post(f"{API}/cases/bulk-decision", json={"case_ids": [case_id], "action": "remove"})
    assert in_bulk.json()["results"][0]["status"] == 403
    assert moderator.post(f"{API}/cases/bulk-decision", json={
        "filter": {"queue": senior_queue}, "action": "remove", "preview": True}).json()["matched"] == 0
    # The console: not in the moderator's queue, not in the queue menu, and its page is refused.
    with console_client(server, moderator.username) as http:
        queue = http.get("/console/queue", params={"account": author.username})
        assert f'data-case="{ordinary}"' in queue.text and f'data-case="{case_id}"' not in queue.text
        assert f'value="{senior_queue}"' not in queue.text
        assert http.get(f"/console/cases/{case_id}").status_code == 403
        history = http.get(f"/console/accounts/{author.id}").text
        assert f'href="/console/cases/{ordinary}"' in history and f'href="/console/cases/{case_id}"' not in history
    # A senior moderator sees it in the queue menu and decides it.
    senior_listed = {c["id"] for c in senior.get(f"{API}/cases", params={"queue": senior_queue}).json()}
    assert senior_listed == {str(case_id)}
    with console_client(server, senior.username) as http:
        queue = http.get("/console/queue", params={"queue": senior_queue})
        assert f'data-case="{case_id}"' in queue.text and f'data-case="{ordinary}"' not in queue.text
        assert http.get(f"/console/cases/{case_id}").status_code == 200
    decided = senior.post(f"{API}/cases/{case_id}/decision", json={"action": "remove", "explanation": "Unlawful."})
    assert decided.status_code == 200, decided.text


def test_case_links_to_the_authors_history_and_the_post_as_followers_saw_it(server: LiveServer) -> None:
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    author = server.user("history")
    hostile = '<img src=x onerror="alert(1)"> <b>bold</b> & "quotes"'
    status_id, case_id = reported_case(server, author, hostile)
    _, earlier = reported_case(server, author, "An earlier reported post")
    assert moderator.post(f"{API}/cases/{earlier}/decision",
                          json={"action": "strike", "explanation": "Earlier strike."}).status_code == 200
    with console_client(server, moderator.username) as http:
        case = http.get(f"/console/cases/{case_id}")
        assert f'href="/console/accounts/{author.id}"' in case.text
        assert f'href="/console/statuses/{status_id}"' in case.text
        assert f'href="/console/cases/{earlier}"' in case.text  # earlier cases
        history = http.get(f"/console/accounts/{author.id}")
        assert history.status_code == 200
        assert f'data-status="{status_id}"' in history.text and "Earlier strike." in history.text
        assert re.search(r'id="active-strikes">1<', history.text)
        assert f'href="/console/cases/{earlier}"' in history.text and f'href="/console/cases/{case_id}"' in history.text
        assert "&lt;img src=x onerror=" in history.text and "<img" not in history.text
        seen = http.get(f"/console/statuses/{status_id}")
        assert seen.status_code == 200
        assert "Published to the followers" in seen.text
        # The text a follower's client showed, escaped; the JSON it received, escaped too.
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &lt;b&gt;bold&lt;/b&gt; &amp; &#34;quotes&#34;" in seen.text
        assert "<img" not in seen.text and "<b>bold" not in seen.text
        assert http.get("/console/statuses/9000000000").status_code == 404
        assert http.get("/console/accounts/9000000000").status_code == 404
    with server.db.read() as session:
        assert session.scalar(select(AuditEntry.seq).where(AuditEntry.subject == f"status:{status_id}",
                                                          AuditEntry.action == "evidence.viewed")) is not None


def _moderation_messages(user: User) -> list[dict]:
    listed = user.get("/api/v1/notifications", params={"types[]": "mention", "limit": 40})
    assert listed.status_code == 200, listed.text
    return [n["status"] for n in listed.json() if n["account"]["username"] == "moderation"]


def test_bulk_decision_tells_each_reporter_once_for_all_their_reports(server: LiveServer) -> None:
    """A raid's reporter who reported five of its posts reads ONE direct message naming the five reports
    and their outcome; a reporter of one post reads the single decision's message; the reporter of a
    case the bulk decision refused is not told about it."""
    moderator = server.user("mod", role="moderator", scopes=STAFF_SCOPES)
    busy, once = server.user("busy"), server.user("once")
    text = _raid_text()
    ids = seed_raid(server.db, server.settings, authors=[server.user("raider").id], n=6, text=text,
                    reporters=[busy.id] * 5 + [once.id])
    own = seed_raid(server.db, server.settings, authors=[moderator.id], reporters=[busy.id], n=1, text=text)[0]
    with server.db.read() as session:
        from warden.store.models import Report

        busy_reports = sorted(session.scalars(select(Report.id).where(Report.account_id == busy.id)))
        once_report = session.scalar(select(Report.id).where(Report.account_id == once.id))
        own_report = session.scalar(select(Report.id).where(Report.account_id == busy.id,
                                                             Report.target_account_id == moderator.id))
    assert len(busy_reports) == 6 and own_report in busy_reports

    applied = moderator.post(f"{API}/cases/bulk-decision", json={
        "case_ids": [*ids, own], "action": "remove", "policy": "harassment", "explanation": "Raid."})
    assert applied.status_code == 200, applied.text
    assert (applied.json()["decided"], applied.json()["failed"]) == (6, 1)

    told = _moderation_messages(busy)
    assert len(told) == 1, [m["content"] for m in told]
    content = told[0]["content"]
    assert told[0]["visibility"] == "direct" and "Your 5 reports have been reviewed" in content
    named = {int(n) for n in re.findall(r"#(\d+)", content)}
    assert named == set(busy_reports) - {own_report}, content
    assert "The post was removed" in content and "Raid." not in content  # the outcome, not the moderator's facts
    single = _moderation_messages(once)
    assert len(single) == 1 and f"report #{once_report} " in single[0]["content"]
    for report_id in busy_reports:  # each report's own page says the same
        page = busy.get(f"{API}/reports/{report_id}")
        assert page.status_code == 200
        assert page.json()["status"] == ("open" if report_id == own_report else "resolved")


def test_combined_outcome_messages_split_at_the_post_length_limit() -> None:
    from datetime import UTC, datetime

    from warden.cases import outcomes
    from warden.config import Settings
    from warden.store.models import Report
    from warden.store.moderation_models import ReportState

    settings = Settings(database_url="sqlite://", base_url="https://warden.example", max_status_chars=500)
    reporter = Account(username="busy")
    now = datetime(2026, 12, 6, tzinfo=UTC)
    told = [(Report(id=1000 + i, account_id=1), ReportState(report_id=1000 + i, outcome="no_action", updated_at=now),
             None) for i in range(120)]
    texts = outcomes.combined_texts(settings, reporter, told)
    assert len(texts) > 1 and all(len(t) <= 500 for t in texts)
    named = [int(n) for t in texts for n in re.findall(r"#(\d+)", t)]
    assert named == [1000 + i for i in range(120)]  # each report exactly once, in order
    assert all(t.startswith("@busy Your ") and outcomes.CLOSED in t for t in texts)
