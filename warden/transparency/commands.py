"""`warden transparency statements` and `warden transparency report` (thin: parse, call, print)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime

import click

from warden.config import Settings

DAY = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:  # e.g. WARDEN_DSA_TERRITORIAL_SCOPE with a country outside the EU/EEA
        raise click.ClickException(str(exc)) from None


def register(group: click.Group) -> None:
    from warden.cli import _database, _friendly_errors

    @group.group("transparency")
    def transparency() -> None:
        """EU DSA transparency: statements for the Transparency Database, the transparency report.

        Example: warden transparency report --from 2026-07-01 --to 2026-12-31
        """

    @transparency.command("statements", short_help="Statements for the DSA Transparency Database, as JSONL.")
    @click.option("--since", type=DAY, default=None, metavar="YYYY-MM-DD", help="First UTC day (included).")
    @click.option("--until", type=DAY, default=None, metavar="YYYY-MM-DD", help="Last UTC day (included).")
    @click.option("--after", default=None, metavar="PUID",
                  help="Resume: only decisions after this puid (the last one a previous run submitted).")
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many statements.")
    @click.option("--settle", type=click.FloatRange(min=0), default=60.0, show_default=True, metavar="SECONDS",
                  help="Leave out decisions younger than this (one still committing could land behind the cursor).")
    def statements(since: datetime | None, until: datetime | None, after: str | None, limit: int | None,
                   settle: float) -> None:
        """Write one statement of reasons per enforcement decision as JSONL on stdout, in decision order.

        Each line is {"statement": {...}, "warden": {...}}: "statement" is the body the DSA Transparency
        Database API takes as is (puid = the decision id), "warden" is Warden's own record of it.
        A statement that breaks one of the API's rules (warden/transparency/rules.py) is not written:
        it is named on stderr and the command exits 1 after writing the others.

        \b
        Example (batches of 100, resumable):
          warden transparency statements --since 2026-11-01 --until 2026-11-30 --limit 100 > batch.jsonl
          warden transparency statements --after "$(tail -1 batch.jsonl | jq -r .statement.puid)" --limit 100
        """
        from warden.transparency.export import statements as export

        if since and until and until < since:
            raise click.BadParameter("--until is before --since", param_hint="--until")
        written = refused = 0
        with _friendly_errors():
            settings = _settings()
            db = _database(settings)
            with db.read() as session:
                for item in export(session, settings, since=_day(since), until=_day(until), after=after,
                                   limit=limit, settle=settle):
                    if item.violations:
                        refused += 1
                        click.echo(f"decision {item.decision.id}: not valid for the Transparency Database: "
                                   f"{'; '.join(str(v) for v in item.violations)}", err=True)
                        continue
                    sys.stdout.write(json.dumps(item.line(settings), ensure_ascii=False, sort_keys=True) + "\n")
                    written += 1
            db.dispose()
        click.echo(f"{written} statements written" + (f", {refused} refused" if refused else ""), err=True)
        if refused:
            raise SystemExit(1)

    @transparency.command("report", short_help="The DSA transparency report (Art. 15 and 24) for a period.")
    @click.option("--from", "start", type=DAY, required=True, metavar="YYYY-MM-DD", help="First UTC day (included).")
    @click.option("--to", "end", type=DAY, required=True, metavar="YYYY-MM-DD", help="Last UTC day (included).")
    @click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
    def report(start: datetime, end: datetime, fmt: str) -> None:
        """The DSA (Art. 15 and 24) transparency report for a period: notices, own-initiative decisions,
        complaints, suspensions and the accuracy of automated means (docs/transparency.md).

        Example: warden transparency report --from 2026-07-01 --to 2026-12-31 --format csv > report.csv
        """
        from warden.transparency.report import build, to_csv

        with _friendly_errors():
            db = _database(_settings())
            with db.read() as session:
                data = build(session, start=start.date(), end=end.date())
            db.dispose()
        click.echo(to_csv(data) if fmt == "csv" else json.dumps(data, indent=2, ensure_ascii=False), nl=fmt != "csv")
