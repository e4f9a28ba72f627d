"""Every statement of the demo network (`warden demo`: with the demo history, 30 days of decisions)
passes the ported Transparency Database rules, and the export has one line per enforcement decision.

On SQLite only: seeding the demo takes minutes on PostgreSQL, tests/test_demo.py seeds it on both, and
the export's PostgreSQL path is covered by tests/moderation/test_transparency.py."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from tests.conftest import make_database
from warden.cases import statement
from warden.cli import cli
from warden.store.db import Database
from warden.store.moderation_models import ModerationDecision
from warden.transparency import rules


def test_every_demo_statement_passes_the_rules(tmp_data_dir: Path) -> None:
    url, drop = make_database("sqlite", tmp_data_dir)
    env = {"WARDEN_DATABASE_URL": url}
    try:
        seeded = CliRunner().invoke(cli, ["demo"], env=env, catch_exceptions=False)
        assert seeded.exit_code == 0, seeded.output
        exported = CliRunner().invoke(cli, ["transparency", "statements", "--settle", "0"], env=env,
                                      catch_exceptions=False)
        assert exported.exit_code == 0, exported.output
        lines = [json.loads(line) for line in exported.stdout.splitlines()]
        for line in lines:
            assert rules.validate(line["statement"]) == [], line
        db = Database(url)
        with db.read() as session:
            enforced = session.scalar(select(func.count()).select_from(ModerationDecision).where(
                ModerationDecision.shadow.is_(False), ModerationDecision.action.in_(sorted(statement.RESTRICTIONS))))
        db.dispose()
        assert len(lines) == enforced
    finally:
        drop()  # type: ignore[operator]
