"""DSA transparency on a live server (SQLite and PostgreSQL): every exported statement passes the
Transparency Database rules (a notice scenario and a broad set of decision kinds), the export resumes
from a cursor, the transparency report's counts match the database, and the console renders it."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import and_, func, select

from tests.console.conftest import console_client
from tests.helpers import LiveServer, User, eventually, unique_name
from tests.moderation.conftest import Team, cases_for, create_partner, run_cli
from warden.cases import statement
from warden.store.models import Report
from warden.store.moderation_models import Appeal, ModerationDecision, Notice, Partner, ReportState
from warden.transparency import rules

VIOLENT = "We should kill every one of them tonight. Bring weapons."  # the fake detector: violence 0.97 -> block
UNCERTAIN = "They will get what they deserve."  # violence 0.62 -> hold
INSULT = "Listen here, you worthless scum."  # harassment 0.95 -> label
SPAM = "Free crypto https://spam.example/win for everyone"  # the policy's async rule -> limit


def export(server: LiveServer, *args: str, settle: float = 0) -> list[dict[str, Any]]:
    result = run_cli(server, "transparency", "statements", "--settle", str(settle), *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def assert_all_valid(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        body = line["statement"]
        assert rules.validate(body) == [], (line["warden"], rules.validate(body))
        assert body["puid"] == line["warden"]["decision_id"]
        assert set(body) <= rules.FIELDS


def post(user: User, text: str) -> httpx.Response:
    with user.http() as http:
        return http.post("/api/v1/statuses", data={"status": text})


def decide(staff: User, case_id: str, action: str, policy: str | None = None, why: str = "Breaks the rules.") -> dict:
    body = {"action": action, "explanation": why, **({"policy": policy} if policy else {})}
    response = staff.post(f"/api/warden/v1/cases/{case_id}/decision", json=body)
    assert response.status_code == 200, response.text
    return response.json()["decision"]


def notice_cases(server: LiveServer, team: Team, token: str, posts: list[dict], category: str) -> list[dict]:
    partner = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sent = partner.post("/api/warden/v1/notices", json={"notices": [
        {"url": p["url"], "category": category, "explanation": "Incitement to attack a named group."} for p in posts]})
    assert sent.status_code == 202, sent.text
    ids = {p["id"] for p in posts}
    return eventually(lambda: (lambda c: c if len(c) == len(ids) else None)(cases_for(server.extras["mod"], ids)),
                      what="the notices' cases", timeout=60)


def reported_case(server: LiveServer, team: Team, author: User, text: str) -> tuple[dict, dict]:
    status = post(author, text).json()
    reporter = server.user("reporter")
    report = reporter.post("/api/v1/reports", data={"account_id": str(author.id), "status_ids[]": status["id"],
                                                   "comment": "please look", "category": "spam"})
    assert report.status_code == 200, report.text
    case = eventually(lambda: cases_for(team.moderator, {status["id"]}), what="the report's case")[0]
    return status, case


def test_every_statement_of_a_trusted_flagger_scenario_passes_the_rules(mod_server: LiveServer, team: Team) -> None:
    """The 98-notice scenario in small: a trusted flagger reports 12 posts, a moderator removes them all,
    strikes add up to suspensions; every statement exported passes the API's rules."""
    mod_server.extras["mod"] = team.moderator
    token = create_partner(mod_server, unique_name("hostco"), trusted=True)
    authors = [mod_server.user("incite") for _ in range(4)]
    posts = [post(authors[i % 4], f"Meet at the square at {i}:00, you know what to do.").json() for i in range(12)]
    for case in notice_cases(mod_server, team, token, posts, "violence"):
        decide(team.moderator, case["id"], "remove", "violence", "Calls on readers to attack people.")
    lines = export(mod_server)
    assert_all_valid(lines)
    mine = [line for line in lines if line["warden"]["account_id"] in {str(a.id) for a in authors}]
    removals = [line for line in mine if line["warden"]["action"] == "remove"]
    assert len(removals) == 12
    assert {line["statement"]["source_type"] for line in removals} == {"SOURCE_TRUSTED_FLAGGER"}
    assert all(line["statement"]["territorial_scope"] == list(rules.EU_COUNTRY_CODES) for line in removals)
    assert all(line["statement"]["category"] == "STATEMENT_CATEGORY_VIOLENCE" for line in removals)
    # Three strikes each (the policy suspends at 3): four automatic suspensions, also statements.
    suspensions = [line for line in mine if line["warden"]["action"] == "suspend"]
    assert len(suspensions) == 4
    assert all(s["statement"]["decision_account"] == "DECISION_ACCOUNT_SUSPENDED" and
               s["statement"]["automated_decision"] == "AUTOMATED_DECISION_FULLY" for s in suspensions)


def test_every_kind_of_decision_exports_a_valid_statement(mod_server: LiveServer, team: Team) -> None:
    mod_server.extras["mod"] = team.moderator
    author = mod_server.user("author")
    # Automated, in the write path and after it: block, hold, label, limit.
    assert post(author, VIOLENT).status_code == 422
    assert post(author, UNCERTAIN).json()["warden"]["state"] == "held"
    assert post(author, INSULT).status_code == 200
    spammer = mod_server.user("spammer")
    spam = post(spammer, SPAM).json()
    eventually(lambda: (spammer.get(f"/api/v1/statuses/{spam['id']}").json().get("warden") or {}).get("limited"),
               what="the async limit")
    # Report-driven decisions by moderators: remove, limit, label, suspend.
    decided = {}
    for action, policy in (("remove", "harassment"), ("limit", "hate"), ("label", "harassment"),
                           ("suspend", None), ("no_violation", None)):
        target = mod_server.user("reported")
        _, case = reported_case(mod_server, team, target, f"A post someone dislikes ({action}).")
        decided[action] = decide(team.moderator, case["id"], action, policy)
    # A partner's (not trusted) notice: SOURCE_ARTICLE_16.
    token = create_partner(mod_server, unique_name("ngo"), trusted=False)
    noticed = post(mod_server.user("noticed"), "A post a partner flags.").json()
    decided["notice"] = decide(team.moderator, notice_cases(mod_server, team, token, [noticed], "hate_speech")[0]["id"],
                               "remove", "hate")
    # Appeals: one overturned (restore: lifts, no new statement), one upheld.
    appellant = mod_server.user("appellant")
    for outcome in ("overturned", "upheld"):
        _, case = reported_case(mod_server, team, appellant, f"Satire, really ({outcome}).")
        removed = decide(team.moderator, case["id"], "remove", "harassment")
        appeal = appellant.post("/api/warden/v1/appeals", json={"decision_id": removed["id"], "text": "Satire."})
        assert appeal.status_code == 201, appeal.text
        answered = team.senior.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision",
                                    json={"outcome": outcome})
        assert answered.status_code == 200, answered.text
        decided[outcome] = answered.json()["outcome_decision"]

    def enforced() -> set[str]:
        with mod_server.db.read() as session:
            return set(session.scalars(select(ModerationDecision.id).where(
                ModerationDecision.shadow.is_(False), ModerationDecision.action.in_(sorted(statement.RESTRICTIONS)))))

    before = enforced()
    lines = export(mod_server)
    assert_all_valid(lines)
    by_id = {line["warden"]["decision_id"]: line for line in lines}
    # Every enforcement decision in the database is exported (the rest lift or record, and are not);
    # the worker may add some meanwhile (other tests' events), so: all of those before, none not there after.
    assert before <= set(by_id) <= enforced()
    for action in ("remove", "limit", "label", "suspend"):
        assert decided[action]["id"] in by_id
        assert by_id[decided[action]["id"]]["statement"]["source_type"] == "SOURCE_ARTICLE_16"
    assert by_id[decided["notice"]["id"]]["statement"]["source_type"] == "SOURCE_ARTICLE_16"
    assert by_id[decided["suspend"]["id"]]["statement"]["content_type"] == ["CONTENT_TYPE_OTHER"]
    for lifted in ("no_violation", "overturned", "upheld"):
        assert decided[lifted]["id"] not in by_id
    mine = [line for line in lines if line["warden"]["account_id"] == str(author.id)]
    assert {line["warden"]["action"] for line in mine} >= {"block", "hold", "label"}
    assert {line["statement"]["automated_decision"] for line in mine} == {"AUTOMATED_DECISION_FULLY"}
    assert {line["statement"]["source_type"] for line in mine} == {"SOURCE_VOLUNTARY"}
    visibilities = {v for line in lines for v in line["statement"]["decision_visibility"]}
    assert visibilities >= {"DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
                            "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_LABELLED"}


def test_the_export_is_ordered_resumable_and_filtered_by_day(mod_server: LiveServer) -> None:
    author = mod_server.user("author")
    for _ in range(3):
        assert post(author, VIOLENT).status_code == 422
    time.sleep(1.5)
    # Settled decisions only (older than a second): other tests' late work cannot land among them.
    everything = export(mod_server, settle=1)
    puids = [line["statement"]["puid"] for line in everything]
    assert puids == sorted(puids) and len(puids) >= 3
    assert {line["warden"]["account_id"] for line in everything[-3:]} == {str(author.id)}
    # Resume after the first: the same lines, from the second on, in pages.
    assert export(mod_server, "--after", puids[0], "--limit", "2", settle=1) == everything[1:3]
    assert all(line["statement"]["puid"] > puids[-1] for line in export(mod_server, "--after", puids[-1], settle=1))
    # The newest minute is left for the next run (the CLI's default).
    assert not {line["statement"]["puid"] for line in export(mod_server, settle=60)} & set(puids[-3:])
    today = datetime.now(timezone.utc).date()
    by_day = export(mod_server, "--since", str(today - timedelta(days=1)), "--until", str(today + timedelta(days=1)),
                    settle=1)
    # (other tests backdate some decisions: those are out of these three days)
    recent = [line for line in everything
              if datetime.fromisoformat(line["warden"]["created_at"]).date() >= today - timedelta(days=1)]
    assert [line for line in by_day if line["statement"]["puid"] <= puids[-1]] == recent
    assert recent[-3:] == everything[-3:]
    older = [line for line in everything
             if datetime.fromisoformat(line["warden"]["created_at"]).date() <= today - timedelta(days=1)]
    assert export(mod_server, "--until", str(today - timedelta(days=1))) == older
    assert not set(puids[-3:]) & {line["statement"]["puid"] for line in older}
    for bad in (["--since", "2026-13-01"], ["--until", "yesterday"], ["--since", "2026-12-02", "--until", "2026-12-01"]):
        result = run_cli(mod_server, "transparency", "statements", *bad)
        assert result.exit_code != 0 and result.stdout == ""
        assert "--since" in result.output or "--until" in result.output


def _sql_counts(server: LiveServer, lo: datetime, hi: datetime) -> dict[str, int]:
    """The report's main figures counted straight from the tables, without the report's code."""
    json_source = (func.json_extract(ModerationDecision.statement, "$.source_type") if server.backend == "sqlite"
                   else ModerationDecision.statement.op("->>")("source_type"))
    decided_in = and_(ModerationDecision.created_at >= lo, ModerationDecision.created_at < hi,
                      ModerationDecision.shadow.is_(False))
    enforcing = and_(decided_in, ModerationDecision.action.in_(sorted(statement.RESTRICTIONS)))

    def count(query: Any) -> int:
        with server.db.read() as session:
            return int(session.scalar(query) or 0)

    notices = select(func.count()).select_from(Notice).join(Partner, Partner.id == Notice.partner_id) \
        .where(Notice.created_at >= lo, Notice.created_at < hi)
    reports = select(func.count()).select_from(Report).where(Report.created_at >= lo, Report.created_at < hi)
    appeals_decided = select(func.count()).select_from(Appeal).where(Appeal.decided_at >= lo, Appeal.decided_at < hi)
    return {
        "trusted_notices": count(notices.where(Partner.trusted.is_(True))),
        "partner_notices": count(notices.where(Partner.trusted.is_(False))),
        "trusted_actioned": count(notices.where(Partner.trusted.is_(True), Notice.state == "actioned")),
        "reports": count(reports),
        "reports_actioned": count(reports.join(ReportState, ReportState.report_id == Report.id)
                                  .where(ReportState.outcome == "actioned")),
        "reports_no_action": count(reports.join(ReportState, ReportState.report_id == Report.id)
                                   .where(ReportState.outcome == "no_action")),
        "own_initiative": count(select(func.count()).select_from(ModerationDecision)
                                .where(enforcing, json_source == "SOURCE_VOLUNTARY")),
        "own_blocks": count(select(func.count()).select_from(ModerationDecision)
                            .where(enforcing, json_source == "SOURCE_VOLUNTARY", ModerationDecision.action == "block")),
        "enforced": count(select(func.count()).select_from(ModerationDecision).where(enforcing)),
        "automated": count(select(func.count()).select_from(ModerationDecision)
                           .where(enforcing, ModerationDecision.automated.is_(True))),
        "suspensions": count(select(func.count()).select_from(ModerationDecision)
                             .where(decided_in, ModerationDecision.action == "suspend")),
        "auto_suspensions": count(select(func.count()).select_from(ModerationDecision)
                                  .where(decided_in, ModerationDecision.action == "suspend",
                                         ModerationDecision.automated.is_(True))),
        "appeals": count(select(func.count()).select_from(Appeal).where(Appeal.created_at >= lo, Appeal.created_at < hi)),
        "appeals_overturned": count(appeals_decided.where(Appeal.state == "overturned")),
        "appeals_upheld": count(appeals_decided.where(Appeal.state == "upheld")),
        "automated_overturned": count(select(func.count()).select_from(ModerationDecision)
                                      .join(Appeal, Appeal.decision_id == ModerationDecision.id)
                                      .where(enforcing, ModerationDecision.automated.is_(True),
                                             Appeal.state == "overturned")),
    }


def test_the_transparency_report_counts_match_the_database(mod_server: LiveServer, team: Team) -> None:
    mod_server.extras["mod"] = team.moderator
    # Some of everything, whatever ran before: an automated block appealed and overturned, a report.
    author = mod_server.user("author")
    blocked = post(author, VIOLENT).json()
    appeal = author.post("/api/warden/v1/appeals", json={"decision_id": blocked["decision_id"], "text": "Fiction."})
    assert appeal.status_code == 201, appeal.text
    assert team.senior.post(f"/api/warden/v1/appeals/{appeal.json()['id']}/decision",
                            json={"outcome": "overturned"}).status_code == 200
    reported_case(mod_server, team, mod_server.user("reported"), "Left open on purpose.")

    today = datetime.now(timezone.utc).date()
    start, end = today - timedelta(days=1), today + timedelta(days=1)
    lo = datetime.combine(start, datetime.min.time(), tzinfo=timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)

    def settled() -> tuple[dict, dict] | None:  # the worker may still be writing: retry until both agree
        before = _sql_counts(mod_server, lo, hi)
        result = run_cli(mod_server, "transparency", "report", "--from", str(start), "--to", str(end))
        assert result.exit_code == 0, result.output
        after = _sql_counts(mod_server, lo, hi)
        return (before, json.loads(result.stdout)) if before == after else None

    sql, report = eventually(settled, what="a quiet database", timeout=30)
    notices = report["notices"]["by_submitter"]
    assert notices["trusted_flagger"]["received"] == sql["trusted_notices"]
    assert notices["trusted_flagger"]["actioned"] == sql["trusted_actioned"]
    assert notices["partner"]["received"] == sql["partner_notices"]
    assert notices["user"]["received"] == sql["reports"] >= 1
    assert notices["user"]["actioned"] == sql["reports_actioned"]
    assert notices["user"]["no_action"] == sql["reports_no_action"]
    assert notices["user"]["pending"] == sql["reports"] - sql["reports_actioned"] - sql["reports_no_action"] >= 1
    assert report["notices"]["total"]["received"] == sql["trusted_notices"] + sql["partner_notices"] + sql["reports"]
    assert sum(r["received"] for r in report["notices"]["rows"]) == report["notices"]["total"]["received"]
    by_dsa = report["notices"]["by_dsa_category"]
    assert sum(r["received"] for r in by_dsa.values()) == report["notices"]["total"]["received"]
    assert set(by_dsa) <= set(rules.STATEMENT_CATEGORIES)
    assert report["own_initiative"]["total"] == sql["own_initiative"]
    assert report["own_initiative"]["by_action"].get("block", 0) == sql["own_blocks"] >= 1
    assert sum(report["own_initiative"]["by_automated_detection"].values()) == sql["own_initiative"]
    assert report["statements"]["enforcement_decisions"] == sql["enforced"]
    assert sum(sum(row.values()) for row in report["restrictions_by_source"].values()) == sql["enforced"]
    assert report["suspensions"]["total"] == sql["suspensions"]
    assert report["suspensions"]["automatic_after_strikes"] == sql["auto_suspensions"]
    complaints = report["complaints"]
    assert complaints["received"] == sql["appeals"] >= 1
    assert complaints["overturned"] == sql["appeals_overturned"] >= 1
    assert complaints["upheld"] == sql["appeals_upheld"]
    assert complaints["decided"] == sql["appeals_overturned"] + sql["appeals_upheld"]
    automated = report["automated_means"]["automated"]
    assert automated["decisions"] == sql["automated"]
    assert automated["overturned_on_appeal"] == sql["automated_overturned"] >= 1
    assert automated["decisions"] + report["automated_means"]["human"]["decisions"] == sql["enforced"]
    assert 0 < automated["reversed_share"] <= 1

    # The same report as CSV: one metric per row.
    result = run_cli(mod_server, "transparency", "report", "--from", str(start), "--to", str(end), "--format", "csv")
    assert result.exit_code == 0, result.output
    table = dict(csv.reader(io.StringIO(result.stdout)))
    assert table["metric"] == "value"
    assert int(table["complaints.received"]) == sql["appeals"]
    assert int(table["notices.by_submitter.trusted_flagger.received"]) == sql["trusted_notices"]
    # Bad periods: a clear message and a non-zero exit.
    for bad in (["--from", "2026-12-31", "--to", "2026-12-01"], ["--from", "31/12/2026", "--to", "2027-01-01"]):
        refused = run_cli(mod_server, "transparency", "report", *bad)
        assert refused.exit_code != 0 and refused.stdout == ""


def test_the_console_dashboard_links_to_the_report_rendered_escaped(mod_server: LiveServer, team: Team) -> None:
    mod_server.extras["mod"] = team.moderator
    token = create_partner(mod_server, unique_name("ngo"), trusted=False)
    noticed = post(mod_server.user("noticed"), "Another flagged post.").json()
    hostile = "<img src=x onerror=alert(1)>"
    notice_cases(mod_server, team, token, [noticed], hostile)
    with console_client(mod_server, team.moderator.username) as console:
        assert 'href="/console/transparency"' in console.get("/console/dashboard").text
        page = console.get("/console/transparency")
        assert page.status_code == 200 and "Transparency report" in page.text
        assert hostile not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        today = datetime.now(timezone.utc).date()
        period = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
        as_json = console.get("/console/transparency", params={**period, "format": "json"})
        assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
        assert as_json.json()["period"] == period
        assert hostile in as_json.json()["notices"]["by_category"]
        as_csv = console.get("/console/transparency", params={**period, "format": "csv"})
        assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.startswith("metric,value")
        assert "attachment" in as_csv.headers["content-disposition"]
        for bad in ({"from": "soon"}, {"from": "2026-12-31", "to": "2026-12-01"}, {"format": "xml"}):
            assert console.get("/console/transparency", params=bad).status_code == 422
    # A partner or an anonymous visitor does not see it.
    assert httpx.get(f"{mod_server.url}/console/transparency", follow_redirects=False).status_code == 303
