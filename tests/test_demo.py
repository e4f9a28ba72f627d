"""`warden demo` (issue 30): 30 days of history through the real domain code, on both backends.

The demo is seeded into a fresh database before its server starts (as `make demo` does: `warden demo`
then `warden serve`), with the real detector and policy. The tests check the history is there and
consistent (statements, audit chain, simulated times), and that the console shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import _free_port, make_database, start_server
from tests.console.conftest import console_client
from tests.helpers import LiveServer
from warden.cases import audit
from warden.cli import cli
from warden.config import Settings
from warden.demo import DEMO_PASSWORD, seed
from warden.demo_history import DAYS, TRUSTED_FLAGGER
from warden.store.db import Database
from warden.web import pages
from warden.store.models import Account, Report, Status
from warden.store.moderation_models import (
    Appeal,
    AuditEntry,
    ModerationCase,
    ModerationDecision,
    Notice,
    Partner,
    Strike,
)


@pytest.fixture(scope="module")
def demo(backend: str, tmp_data_dir: Path) -> Iterator[tuple[LiveServer, dict[str, int]]]:
    url, drop = make_database(backend, tmp_data_dir)
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{_free_port()}")
    db = Database(url)
    added = seed(db, settings)
    db.dispose()
    srv, thread, db = start_server(settings)
    yield LiveServer(url=settings.base_url, settings=settings, db=db, backend=backend), added
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()
    drop()  # type: ignore[operator]


def test_demo_seeds_30_days_of_moderation_history(demo: tuple[LiveServer, dict[str, int]]) -> None:
    server, added = demo
    assert added["posts"] > 700 and added["reports"] >= 10 and added["appeals"] >= 4
    now = datetime.now(UTC)
    with server.db.read() as session:
        post_days = {d.date() for d in session.scalars(select(Status.created_at))}
        assert len(post_days) >= DAYS - 1  # a post nearly every day of the month
        assert min(post_days) >= (now - timedelta(days=DAYS + 1)).date()
        decided = list(session.scalars(select(ModerationDecision).where(ModerationDecision.shadow.is_(False))))
        assert len({d.created_at.date() for d in decided}) >= 15  # decisions spread over the month
        kinds = {(d.kind, d.action, d.automated) for d in decided}
        assert ("gate", "block", True) in kinds and ("gate", "hold", True) in kinds  # automatic
        assert ("async", "limit", True) in kinds
        assert ("case", "remove", False) in kinds and ("case", "no_violation", False) in kinds  # human
        assert ("account", "suspend", True) in kinds  # the third strike
        assert ("case", "suspend", False) in kinds
        assert {"uphold", "restore"} <= {d.action for d in decided if d.kind == "appeal"}
        assert all(d.actor_id is not None for d in decided if d.kind in ("case", "appeal"))
        appeals = dict(session.execute(select(Appeal.state, func.count()).group_by(Appeal.state)).all())
        assert appeals.get("upheld", 0) >= 2 and appeals.get("overturned", 0) >= 2 and appeals.get("open", 0) >= 1
        assert session.scalar(select(func.count()).select_from(Strike).where(Strike.revoked_at.is_not(None))) >= 1
        suspended = set(session.scalars(select(Account.username).where(Account.suspended_at.is_not(None))))
        assert {"dave", "spamshop"} <= suspended
        trusted = session.scalar(select(Partner.id).where(Partner.name == TRUSTED_FLAGGER))
        notices = dict(session.execute(select(Notice.state, func.count()).where(Notice.partner_id == trusted)
                                       .group_by(Notice.state)).all())
        assert notices.get("actioned", 0) >= 2
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.state == "no_action")) >= 1
        assert session.scalar(select(func.count()).select_from(Report)) >= 10
        cases = dict(session.execute(select(ModerationCase.state, func.count()).group_by(ModerationCase.state)).all())
        assert cases.get("decided", 0) >= 10 and cases.get("open", 0) >= 3  # a queue to work on


def test_statements_and_the_audit_chain_are_consistent(demo: tuple[LiveServer, dict[str, int]]) -> None:
    server, _ = demo
    with server.db.read() as session:
        result = audit.verify(session)
        assert result.ok, result.problem
        entries = list(session.execute(select(AuditEntry.seq, AuditEntry.created_at).order_by(AuditEntry.seq)))
        times = [at for _, at in entries]
        assert times == sorted(times)  # played in time order: the chain's times never go back
        assert times[-1] - times[0] > timedelta(days=DAYS)
        for decision in session.scalars(select(ModerationDecision)):
            statement = decision.statement
            assert statement["puid"] == decision.id
            assert statement["application_date"] == decision.created_at.date().isoformat()  # backdated as one
            assert statement["decision_facts"]
    verified = CliRunner().invoke(cli, ["audit", "verify"], env={"WARDEN_DATABASE_URL": server.settings.database_url})
    assert verified.exit_code == 0, verified.output


def test_console_dashboard_queue_and_appeals_show_the_history(demo: tuple[LiveServer, dict[str, int]]) -> None:
    server, _ = demo
    since = datetime.now(UTC) - timedelta(days=30)
    with server.db.read() as session:
        open_cases = session.scalar(select(func.count()).select_from(ModerationCase).where(
            ModerationCase.state != "decided")) or 0
        decided = session.scalar(select(func.count()).select_from(ModerationCase).where(
            ModerationCase.state == "decided", ModerationCase.decided_at >= since)) or 0
        appeals = dict(session.execute(select(Appeal.state, func.count()).group_by(Appeal.state)).all())
    with console_client(server, "mod", DEMO_PASSWORD) as client:
        dashboard = client.get("/console/dashboard").text
        assert re.search(rf'id="open-count">{open_cases}<', dashboard)
        assert re.search(rf'id="decided-count">{decided}<', dashboard) and decided >= 10
        assert (f"{appeals.get('open', 0)} open · {appeals['upheld']} upheld · "
                f"{appeals['overturned']} overturned") in dashboard
        assert TRUSTED_FLAGGER in dashboard
        queue = client.get("/console/queue").text
        assert f"{open_cases} cases" in queue
        assert "@pitchfork_" in queue  # yesterday's pile-on is waiting for a moderator
    with console_client(server, "senior", DEMO_PASSWORD) as client:
        assert "I was quoting a film" in client.get("/console/appeals").text  # the appeal still open


def test_demo_pages_and_a_second_run(demo: tuple[LiveServer, dict[str, int]]) -> None:
    server, _ = demo
    with server.db.read() as session:
        posts = session.scalar(select(func.count()).select_from(Status))
        candidates = session.execute(select(Status, Account.username).join(Account, Account.id == Status.account_id)
                                     .where(Status.state == "removed", Status.visibility == "public",
                                            Account.suspended_at.is_(None)).order_by(Status.id)).all()
        # a post the gate held until a moderator removed it was never public: its page is a 404, not a notice
        removed = next(SimpleNamespace(id=s.id, username=name) for s, name in candidates
                       if pages._was_published(session, s))
    assert httpx.get(f"{server.url}/@alice").status_code == 200
    assert httpx.get(f"{server.url}/@dave").status_code == 410
    assert httpx.get(f"{server.url}/@{removed.username}/{removed.id}").status_code == 410
    again = CliRunner().invoke(cli, ["demo"], env={"WARDEN_DATABASE_URL": server.settings.database_url})
    assert again.exit_code == 0, again.output
    assert "nothing added" in again.output and "/console" in again.output
    with server.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Status)) == posts
