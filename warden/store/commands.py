"""CLI commands for the deployment's data, registered on the `warden` group: `backup PATH`, `restore PATH`.

The logic lives in warden.store.backup; these only read the configuration and print the outcome."""

from __future__ import annotations

import os
from pathlib import Path

import click

from warden.config import Settings


def register(group: click.Group) -> None:
    from warden.cases.commands import report_audit
    from warden.cli import _friendly_errors, _redact

    @group.command("backup")
    @click.argument("path", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Write a consistent backup of the configured database into the new folder PATH.

        Safe while servers run: SQLite is copied with its online backup API, PostgreSQL with pg_dump
        from one snapshot. The console secret file is included when the data dir holds one: keep the
        backup as safe as the secret. See docs/operations.md.

        Example: warden backup backups/warden-$(date +%F)
        """
        from warden.console.auth import data_dir
        from warden.store.backup import backup

        settings = Settings.from_env()
        with _friendly_errors():
            manifest = backup(settings.database_url, path, data_dir=data_dir(settings),
                              secret_from_env=bool(os.environ.get("WARDEN_SECRET_KEY", "").strip()))
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in manifest["counts"].items())
        click.echo(f"backup of {_redact(settings.database_url)} written to {path}: {counts}; "
                   f"schema {manifest['schema_revision']}")
        if manifest["secrets"]["sensitive"]:
            click.echo(f"note: {path} holds the console secret key: store it as a secret", err=True)
        if os.environ.get("WARDEN_SECRET_KEY", "").strip():
            click.echo("note: WARDEN_SECRET_KEY comes from the environment and is not in the backup: keep it",
                       err=True)

    @group.command("restore")
    @click.argument("path", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="Replace a target database that already holds data.")
    def restore_command(path: Path, force: bool) -> None:
        """Restore the backup in PATH into the configured database, then verify the audit log.

        Refuses a database that holds data unless --force; stop every server and worker first.
        A backup from an older Warden is migrated after it is restored.

        Example: WARDEN_DATABASE_URL=sqlite:///./data/warden.sqlite3 warden restore backups/warden-2026-12-06
        """
        from warden.cases.audit import verify
        from warden.console.auth import data_dir
        from warden.store.backup import restore
        from warden.store.db import Database

        settings = Settings.from_env()
        with _friendly_errors():
            restored = restore(path, settings.database_url, data_dir=data_dir(settings), force=force)
            db = Database(settings.database_url)
            try:
                with db.read() as session:
                    result = verify(session)
            finally:
                db.dispose()
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in restored.counts.items())
        click.echo(f"restored {path} into {_redact(settings.database_url)}: {counts}")
        if restored.migrated_from:
            click.echo(f"schema upgraded from {restored.migrated_from}")
        click.echo(f"console secret: {restored.secret}")
        report_audit(result)
