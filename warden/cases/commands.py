"""CLI commands of the moderation engine, registered on the `warden` group:
`create-partner`, `audit verify`, `policy check | activate | backtest`."""

from __future__ import annotations

import click

from warden.config import Settings


def _db(settings: Settings):  # type: ignore[no-untyped-def]
    from warden.store.db import Database

    return Database(settings.database_url)


def report_audit(result) -> None:  # type: ignore[no-untyped-def]
    """Print an audit verification's outcome; exit 1 when the chain is broken (`warden audit verify`,
    `warden restore`)."""
    if result.ok:
        click.echo(f"audit log intact: {result.entries} entries")
        return
    click.echo(f"audit log TAMPERED: entry {result.first_bad}: {result.problem} "
               f"({result.entries} entries verified before it)", err=True)
    raise SystemExit(1)


def register(group: click.Group) -> None:
    from warden.cli import _friendly_errors

    @group.command("create-partner")
    @click.argument("name")
    @click.option("--trusted", is_flag=True, help="A trusted flagger (DSA Art. 22): its notices weigh most "
                                                  "and get the shortest deadlines.")
    def create_partner(name: str, trusted: bool) -> None:
        """Register partner NAME, which sends notices to POST /api/warden/v1/notices.

        The partner's bearer token is the last line printed; only its digest is stored.

        Example: warden create-partner "Hosting Co abuse desk" --trusted
        """
        from warden.cases.notices import create_partner as create

        settings = Settings.from_env()
        with _friendly_errors():
            db = _db(settings)
            with db.write() as session:
                partner, token = create(session, name, trusted=trusted)
                ident = partner.id
            db.dispose()
        click.echo(f"created {'trusted flagger' if trusted else 'partner'} {name!r} (id {ident})")
        click.echo(token)

    @group.command("worker")
    @click.option("--idle", default=0.05, show_default=True, help="Seconds between polls when there is no work.")
    @click.option("--roles", default=None, metavar="ROLES",
                  help="Comma-separated roles: relay, moderation, detection (relay and detection need "
                       "WARDEN_BROKER_URL). Default: all that apply; without a broker, moderation.")
    def worker(idle: float, roles: str | None) -> None:
        """Run the moderation outbox worker in its own process (until interrupted).

        Without a broker the server runs one in-process by default; on PostgreSQL with `serve --workers N`,
        or to keep its CPU apart from the web workers, run `WARDEN_WORKER=0 warden serve` plus this.
        With WARDEN_BROKER_URL the servers consume nothing: run `warden worker` processes (any number)
        for the relay (outbox → stream), moderation (stream → cases and decisions), detection and push
        (Web Push of notifications) roles.
        Several workers may run at once: each event is handled once.

        Example: WARDEN_BROKER_URL=nats://127.0.0.1:4222 warden worker --roles relay,moderation
        """
        import signal
        import threading

        from warden.broker.worker import ROLES, default_roles
        from warden.cases.runtime import load_detector
        from warden.policy.engine import PolicyStore

        settings = Settings.from_env()
        chosen = [r.strip() for r in roles.split(",") if r.strip()] if roles else default_roles(settings)
        unknown = sorted(set(chosen) - set(ROLES))
        if unknown or not chosen:
            raise click.ClickException(f"unknown role(s) {', '.join(unknown) or '(none given)'}: "
                                       f"choose from {', '.join(ROLES)}")
        if not settings.broker_url and set(chosen) != {"moderation"}:
            raise click.ClickException("roles relay, detection and push need a broker: set WARDEN_BROKER_URL")
        with _friendly_errors():
            db = _db(settings)
            detector = load_detector() if settings.detection_enabled else None
            if settings.broker_url:
                from warden.broker.worker import BrokerWorker

                runner = BrokerWorker(settings, db, chosen, detector=detector)
            else:
                from warden.cases.worker import ModerationWorker

                runner = ModerationWorker(db, settings, PolicyStore(), detector, idle=idle)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"worker running: {', '.join(chosen)} (detector: {'on' if detector else 'off'}); "
                   f"Ctrl-C to stop", err=True)
        runner.start()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            runner.stop()
            db.dispose()

    @group.group()
    def audit() -> None:
        """The hash-chained audit log of moderation actions."""

    @audit.command("verify")
    def audit_verify() -> None:
        """Recompute the audit chain; exit 0 when intact, 1 naming the first bad entry.

        Example: warden audit verify
        """
        from warden.cases.audit import verify

        settings = Settings.from_env()
        with _friendly_errors():
            db = _db(settings)
            with db.read() as session:
                result = verify(session)
            db.dispose()
        report_audit(result)

    @group.group()
    def policy() -> None:
        """Moderation policies: check, backtest, then activate (or shadow) a policy file."""

    @policy.command("check")
    @click.argument("file", type=click.Path(dir_okay=False))
    def policy_check(file: str) -> None:
        """Validate policy FILE; errors name the bad field.

        Example: warden policy check warden/policy/default.yaml
        """
        from warden.policy.model import load_policy

        with _friendly_errors():
            parsed, _ = load_policy(file)
        click.echo(f"policy {parsed.version!r} is valid: {len(parsed.labels)} labels, {len(parsed.rules)} rules")

    @policy.command("activate")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--shadow", is_flag=True, help="Decide and record what it would do, without acting.")
    def policy_activate(file: str, shadow: bool) -> None:
        """Store policy FILE as a version and put it in force (or in shadow mode).

        Running servers pick it up within seconds; recent posts are re-scored by the worker.

        Example: warden policy activate my-policy.yaml --shadow
        """
        from warden.policy.model import load_policy
        from warden.policy.versions import activate

        settings = Settings.from_env()
        with _friendly_errors():
            _, body = load_policy(file)
            db = _db(settings)
            with db.write() as session:
                row = activate(session, body, shadow=shadow)
                version, state = row.version, row.state
            db.dispose()
        click.echo(f"policy {version!r} is now {state}")

    @policy.command("backtest")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--limit", default=10000, show_default=True, help="How many of the newest posts to replay.")
    @click.option("--no-detector", is_flag=True, help="Rules and lists only (no detector scores).")
    @click.option("--show", default=50, show_default=True, help="How many changed posts to list.")
    def policy_backtest(file: str, limit: int, no_detector: bool, show: int) -> None:
        """Replay stored posts through policy FILE and print what would change.

        Example: warden policy backtest my-policy.yaml --limit 5000
        """
        from warden.policy.engine import CompiledPolicy
        from warden.policy.model import load_policy
        from warden.policy.versions import backtest

        settings = Settings.from_env()
        with _friendly_errors():
            parsed, body = load_policy(file)
            detector = None
            if not no_detector:
                from warden.cases.runtime import load_detector

                detector = load_detector()
            db = _db(settings)
            with db.read() as session:
                report = backtest(session, CompiledPolicy.build(parsed, body), detector, limit=limit)
            db.dispose()
        would = ", ".join(f"{k} {v}" for k, v in sorted(report.would.items())) or "nothing"
        click.echo(f"replayed {report.replayed} posts through {parsed.version!r}: would {would}")
        click.echo(f"{len(report.changes)} posts would change state")
        for change in report.changes[:show]:
            click.echo(f"  status {change['status_id']}: {change['from']} -> {change['to']} "
                       f"({change['label']}: {change['reason']}) {change['text']!r}")
