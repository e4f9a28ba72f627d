"""What the moderation engine shows in /metrics: gate verdicts by action, open and overdue cases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from tests.helpers import LiveServer, eventually
from tests.metrics_helpers import scrape, value
from tests.moderation.conftest import Team, cases_for
from warden.cases.lifecycle import CASE_UNDECIDED
from warden.store.models import utcnow
from warden.store.moderation_models import ModerationCase

UNCERTAIN = "The committee will get what they deserve before long, you will see."


def _undecided_and_overdue(server: LiveServer) -> tuple[int, int]:
    with server.db.read() as session:
        undecided = ModerationCase.state.in_(CASE_UNDECIDED)
        total = session.scalar(select(func.count()).select_from(ModerationCase).where(undecided)) or 0
        overdue = session.scalar(select(func.count()).select_from(ModerationCase).where(
            undecided, ModerationCase.due_at < utcnow())) or 0
    return total, overdue


def test_held_post_counts_a_hold_verdict_and_its_case_shows_as_open_then_overdue(mod_server: LiveServer,
                                                                                 team: Team) -> None:
    author = mod_server.user("gauged")
    before = scrape(mod_server.url)
    holds = value(before, "warden_gate_verdicts_total", action="hold")
    allows = value(before, "warden_gate_verdicts_total", action="allow")

    held = author.post("/api/v1/statuses", data={"status": UNCERTAIN})
    assert held.status_code == 200 and held.json()["warden"]["state"] == "held", held.text
    after = scrape(mod_server.url)
    assert value(after, "warden_gate_verdicts_total", action="hold") == holds + 1
    assert value(after, "warden_gate_verdicts_total", action="hold", label="violence") >= 1
    assert value(after, "warden_gate_verdicts_total", action="allow") == allows

    case = eventually(lambda: cases_for(team.moderator, {held.json()["id"]}), what="the case")[0]

    def gauges_match_database() -> bool:  # the collector reads the database at most every 2 s
        undecided, overdue = _undecided_and_overdue(mod_server)
        samples = scrape(mod_server.url)
        return value(samples, "warden_cases_open") == undecided >= 1 and \
            value(samples, "warden_cases_overdue") == overdue

    eventually(gauges_match_database, what="open cases in /metrics")
    assert value(scrape(mod_server.url), "warden_cases_open", state="open") >= 1

    overdue_before = _undecided_and_overdue(mod_server)[1]
    with mod_server.db.write() as session:
        session.execute(update(ModerationCase).where(ModerationCase.id == int(case["id"]))
                        .values(due_at=utcnow() - timedelta(hours=1)))
    assert _undecided_and_overdue(mod_server)[1] == overdue_before + 1
    eventually(gauges_match_database, what="the overdue case in /metrics")
