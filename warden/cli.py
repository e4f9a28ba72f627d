"""The `warden` command: run the server, manage its database, accounts and tokens.

Every command reads the database from WARDEN_DATABASE_URL (default: SQLite in ./data/) and exits
non-zero with a one-line message when something is wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from warden import __version__
from warden.config import Settings
from warden.errors import WardenError


@contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except WardenError as exc:
        raise click.ClickException(exc.message) from None
    except Exception as exc:  # database unreachable, bad URL, ...: one line, not a traceback
        if isinstance(exc, (click.ClickException, click.exceptions.Exit, click.Abort)):
            raise
        raise click.ClickException(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def _database(settings: Settings):  # type: ignore[no-untyped-def]
    from warden.store.db import Database

    return Database(settings.database_url)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="warden")
def cli() -> None:
    """Warden: a Mastodon-compatible microblogging server with a trust & safety engine.

    \b
    Quick start:
      warden migrate && warden demo && warden serve
    Then point a Mastodon client at http://127.0.0.1:8080.
    """


@cli.command()
def migrate() -> None:
    """Create or upgrade the database schema (idempotent).

    Example: WARDEN_DATABASE_URL=postgresql+psycopg://127.0.0.1/test warden migrate
    """
    from warden.store.migrate import upgrade

    settings = Settings.from_env()
    with _friendly_errors():
        upgrade(settings.database_url)
    click.echo(f"database is up to date: {_redact(settings.database_url)}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=int,
              help="Server processes. SQLite in WAL mode supports several on one machine; writes take turns.")
@click.option("--no-migrate", is_flag=True, help="Do not upgrade the schema before serving.")
def serve(host: str, port: int, workers: int, no_migrate: bool) -> None:
    """Serve the web API on HOST:PORT.

    Example: warden serve --port 8080
    """
    from warden.api import serving
    from warden.store.migrate import upgrade

    if workers < 1:
        raise click.ClickException("--workers must be at least 1")
    try:
        serving.check_free(host, port)
    except serving.PortBusy as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    base_url = serving.set_base_url(host, port)  # unless WARDEN_BASE_URL says otherwise: what we listen on
    settings = Settings.from_env()
    if not no_migrate:
        with _friendly_errors():
            upgrade(settings.database_url)
    listening = serving.advertised_base_url(host, port)
    also = f"; links in the API say {base_url} (WARDEN_BASE_URL)" if base_url != listening else ""
    click.echo(f"Warden {__version__} serving on {listening}{also} ({_redact(settings.database_url)})", err=True)
    from warden.observability import multiprocess

    with multiprocess.serving(workers), _friendly_errors():  # several workers: metrics meet in one folder
        serving.run(host, port, workers)  # several workers: one socket each, SO_REUSEPORT (warden/api/serving.py)


@cli.command()
def demo() -> None:
    """Seed a demo network with 30 days of history (idempotent: a second run adds nothing).

    Posts, moderation decisions, reports, partner notices, appeals, strikes and suspensions, played
    through the real moderation code (backdated with a simulated clock; see warden/demo_history.py).
    Then prints where to look; every demo login's password is "demo-password".
    """
    from warden.demo import seed, where_to_look
    from warden.demo_history import summary
    from warden.store.migrate import upgrade

    settings = Settings.from_env()
    with _friendly_errors():
        upgrade(settings.database_url)
        db = _database(settings)
        added = seed(db, settings)
    if added:
        click.echo(f"demo history seeded in {added.get('seconds', 0)} s: {summary(added)}")
    else:
        click.echo("demo content already there (nothing added)")
    click.echo(where_to_look(settings))


@cli.command("create-user")
@click.argument("name")
@click.option("--email", required=True, help="E-mail address (used to log in).")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", type=click.Choice(["user", "moderator", "senior", "admin"]), default="user",
              show_default=True, help="Staff roles can use the moderation API and console.")
def create_user(name: str, email: str, password: str, role: str) -> None:
    """Create an account NAME.

    Example: warden create-user alice --email alice@example.org --password 'correct horse'
    """
    from warden.platform import accounts

    settings = Settings.from_env()
    with _friendly_errors():
        db = _database(settings)
        with db.write() as session:
            account = accounts.register(session, username=name, email=email, password=password, role=role,
                                        allow_reserved=role != "user")
            account_id = account.id
    click.echo(f"created {role} @{name} (id {account_id})")


@cli.command("create-token")
@click.argument("name")
@click.option("--scopes", default="read write follow", show_default=True, help="Space-separated OAuth scopes.")
def create_token(name: str, scopes: str) -> None:
    """Create an access token for account NAME; the token is the last line printed.

    Example: warden create-token alice --scopes "read write follow"
    """
    from sqlalchemy import select

    from warden.platform import accounts, auth
    from warden.platform.scopes import validate_scopes
    from warden.store.models import OAuthApp

    settings = Settings.from_env()
    with _friendly_errors():
        wanted = " ".join(validate_scopes(scopes))
        if not wanted:
            raise click.ClickException("--scopes is empty")
        db = _database(settings)
        with db.write() as session:
            account = accounts.by_username(session, name)
            if account is None:
                raise click.ClickException(f"no account named {name!r}")
            app = session.scalar(select(OAuthApp).where(OAuthApp.name == "warden-cli"))
            if app is None:
                app = auth.create_app(session, name="warden-cli", redirect_uris=auth.OOB_REDIRECT,
                                      scopes="read write follow push admin:read admin:write")
            issued = auth.issue_token(session, app_id=app.id, account_id=account.id, scopes=wanted)
    click.echo(f"token for @{name} with scopes: {wanted}")
    click.echo(issued.access_token)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _register_parts() -> None:
    from warden.broker.commands import register as register_broker
    from warden.cases.commands import register as register_moderation
    from warden.detection.commands import register as register_detection
    from warden.store.commands import register as register_store
    from warden.transparency.commands import register as register_transparency

    register_detection(cli)
    register_moderation(cli)
    register_broker(cli)
    register_store(cli)
    register_transparency(cli)


_register_parts()


def main() -> None:
    cli(prog_name="warden")


if __name__ == "__main__":
    sys.exit(main())
