"""`warden status`: the event path's health as one JSON object (warden.broker.health.snapshot)."""

from __future__ import annotations

import click
import orjson

from warden.config import Settings


def register(group: click.Group) -> None:
    @group.command("status")
    def status() -> None:
        """Print the event path's state as one JSON object; exit 0 when healthy, 1 otherwise.

        `outbox_pending` (events not yet moderated), `dead_letters`, each consumer's position and lag,
        and, with WARDEN_BROKER_URL, the broker's stream and durable consumers.

        Example: warden status | jq .outbox_pending
        """
        from warden.broker.health import snapshot
        from warden.store.db import Database

        settings = Settings.from_env()
        try:
            db = Database(settings.database_url)
        except Exception as exc:  # a malformed URL: still one JSON object
            click.echo(orjson.dumps({"healthy": False, "database": {"ok": False, "error": str(exc)[:300]}}))
            raise SystemExit(1) from None
        try:
            report = snapshot(settings, db)
        finally:
            db.dispose()
        click.echo(orjson.dumps(report, option=orjson.OPT_SORT_KEYS).decode())
        if not report["healthy"]:
            raise SystemExit(1)
