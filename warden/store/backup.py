"""Consistent online backups of a Warden deployment, and restoring them (`warden backup` / `warden restore`).

Copying the SQLite file while a server writes loses acknowledged posts (they sit in the `-wal` file) or
copies a torn page; a stale copy still passes `warden audit verify`, because the chain it holds is
intact, only short. So a backup is always taken from one transaction snapshot:
- SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step under a
  read transaction, WAL included, while writers go on; the copy is switched out of WAL mode so it is
  one self-contained file.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot and `pg_dump --format=custom
  --snapshot=...` dumps exactly that snapshot; the manifest's counts are read in the same transaction.

A backup is a folder:
    manifest.json          format, backend, schema revision, created_at, counts, audit chain head,
                           the database file's SHA-256, which secrets exist and which are included
    database.sqlite3       (SQLite) or database.pgdump (PostgreSQL, pg_dump's custom format)
    secrets/console-secret.key   the generated console secret, when the data dir holds one (sensitive!)

Restore checks the manifest and the file's digest before touching anything, refuses a target that holds
data unless forced, restores, migrates a backup from an older schema, and verifies the audit chain.
Uploaded images (the media folder or bucket, docs/media.md) are not included: the manifest says so, and
docs/operations.md says to copy them after the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, URL, make_url

from warden.errors import WardenError

FORMAT = "warden-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "console-secret.key"  # the name warden.console.auth generates in the data dir
SECRETS_DIR = "secrets"
#: Tables counted in the manifest (and compared after a restore).
COUNTED = {"accounts": "accounts", "posts": "statuses", "decisions": "moderation_decisions",
           "audit_entries": "audit_log"}
#: A target "holds data" when one of these has a row; a migrated but empty database does not.
DATA_TABLES = ("accounts", "statuses", "audit_log")


class BackupError(WardenError):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    backend: str
    counts: dict[str, int]
    migrated_from: str | None  # the backup's schema revision when it was older than this Warden's
    secret: str  # "restored", "kept existing", "none in backup"


# --- taking a backup ------------------------------------------------------------------------------


def backup(database_url: str, path: Path, *, data_dir: Path, secret_from_env: bool) -> dict[str, Any]:
    """Write a consistent backup of the database at `database_url` (and the console secret file in
    `data_dir`, if there is one) into the new folder `path`; returns the manifest written."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {backend} database: Warden runs on SQLite or PostgreSQL")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists and is not an empty folder: choose a new path")
    path.mkdir(parents=True, exist_ok=True)
    try:
        if backend == "sqlite":
            database_file = path / SQLITE_FILE
            facts = _backup_sqlite(url, database_file)
        else:
            database_file = path / PG_FILE
            facts = _backup_postgresql(url, database_file)
        secret_file = data_dir / SECRET_FILE
        included = secret_file.is_file()
        if included:
            (path / SECRETS_DIR).mkdir(mode=0o700)
            target = path / SECRETS_DIR / SECRET_FILE
            shutil.copyfile(secret_file, target)
            os.chmod(target, 0o600)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "backend": backend,
            "created_at": datetime.now(timezone.utc).isoformat(),
            "schema_revision": facts["revision"],
            "counts": facts["counts"],
            "audit_head": facts["audit_head"],
            "database_file": database_file.name,
            "database_sha256": _sha256(database_file),
            "media": "not included: copy the media folder (WARDEN_MEDIA_DIR) or bucket after this backup",
            "secrets": {
                "console_secret_file": "included" if included else "absent",
                "WARDEN_SECRET_KEY": "set in the environment: keep it yourself, it is not in the backup"
                if secret_from_env else "not set",
                "sensitive": included,
            },
        }
        _write_json(path / MANIFEST, manifest)
        return manifest
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)  # never leave a half backup that looks whole
        raise


def _backup_sqlite(url: URL, target: Path) -> dict[str, Any]:
    source_path = url.database
    if not source_path or source_path == ":memory:" or not Path(source_path).is_file():
        raise BackupError(f"no SQLite database at {source_path!r}: check WARDEN_DATABASE_URL")
    with closing(sqlite3.connect(source_path, timeout=30)) as source, closing(sqlite3.connect(target)) as copy:
        source.execute("PRAGMA busy_timeout=30000")
        source.backup(copy)  # all pages in one step: one read snapshot, writers carry on (WAL)
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        if copy.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("the copied database failed SQLite's quick_check: try again")
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            return _facts(conn)
    finally:
        engine.dispose()


def _backup_postgresql(url: URL, target: Path) -> dict[str, Any]:
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            # pg_dump reads the snapshot this transaction holds open; the facts come from the same one.
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={target}", "--dbname", _libpq(url)], url, "pg_dump")
            facts = _facts(conn)
            conn.rollback()
            return facts
    finally:
        engine.dispose()


def _facts(conn: Connection) -> dict[str, Any]:
    """Schema revision, row counts and the audit chain head, as the backup holds them."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        raise BackupError("the database has no Warden schema: run `warden migrate` first (nothing to back up)")
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
              for name, table in COUNTED.items() if table in tables}
    head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first() \
        if "audit_head" in tables else None
    return {"revision": revision, "counts": counts,
            "audit_head": {"seq": int(head[0]), "hash": head[1]} if head else None}


# --- restoring ------------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    """The backup's manifest, checked: right format, a backend, and a database file with the recorded digest."""
    manifest_path = path / MANIFEST
    if not path.is_dir():
        raise BackupError(f"{path} is not a backup folder")
    if not manifest_path.is_file():
        raise BackupError(f"{path} has no {MANIFEST}: not a Warden backup, or an incomplete one")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{manifest_path} is not valid JSON: the backup is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{manifest_path} is not a Warden backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"backup format version {manifest.get('format_version')!r} is not supported by this "
                          f"Warden (it reads version {FORMAT_VERSION})")
    expected = {"sqlite": SQLITE_FILE, "postgresql": PG_FILE}.get(str(manifest.get("backend")))
    if expected is None or manifest.get("database_file") != expected:
        raise BackupError(f"{manifest_path} names no usable backend and database file: the backup is damaged")
    database_file = path / expected
    if not database_file.is_file():
        raise BackupError(f"{database_file} is missing: the backup is incomplete")
    if _sha256(database_file) != manifest.get("database_sha256"):
        raise BackupError(f"{database_file} does not match the digest in the manifest: the backup is damaged")
    return manifest


def restore(path: Path, database_url: str, *, data_dir: Path, force: bool = False) -> Restored:
    """Restore the backup in `path` into the database at `database_url` (and its console secret into
    `data_dir`), then bring the schema up to date. Checks come first: a refused restore changes nothing."""
    manifest = read_manifest(path)
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend != manifest["backend"]:
        raise BackupError(f"this is a {manifest['backend']} backup and the configured database is {backend}: "
                          f"restoring across backends is not supported")
    revision = manifest.get("schema_revision")
    older = _check_revision(revision)
    if _holds_data(url) and not force:
        raise BackupError(f"the target database already holds data ({url.render_as_string(hide_password=True)}):"
                          f" restore into an empty database, or pass --force to replace it")
    database_file = path / manifest["database_file"]
    if backend == "sqlite":
        _restore_sqlite(database_file, url)
    else:
        _restore_postgresql(database_file, url)
    from warden.store.migrate import upgrade

    upgrade(database_url)
    secret = _restore_secret(path, data_dir, force=force)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = _facts(conn)["counts"]
    finally:
        engine.dispose()
    return Restored(backend=backend, counts=counts, migrated_from=revision if older else None, secret=secret)


def _check_revision(revision: Any) -> bool:
    """True when the backup's schema is older than this Warden's; refuse one this Warden does not know."""
    from alembic.script import ScriptDirectory

    from warden.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = set(script.get_heads())
    if revision in heads:
        return False
    known = {rev.revision for rev in script.walk_revisions()}
    if revision not in known:
        raise BackupError(f"the backup's schema revision {revision!r} is unknown to this Warden: it was taken by "
                          f"a newer version; upgrade Warden, then restore")
    return True


def _holds_data(url: URL) -> bool:
    if url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).is_file() or Path(url.database).stat().st_size == 0:
            return False
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            return any(conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
                       for table in DATA_TABLES if table in tables)
    finally:
        engine.dispose()


def _restore_sqlite(database_file: Path, url: URL) -> None:
    if not url.database or url.database == ":memory:":
        raise BackupError("WARDEN_DATABASE_URL names no SQLite file to restore into")
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(database_file)) as source, \
            closing(sqlite3.connect(url.database, timeout=30)) as target:
        target.execute("PRAGMA busy_timeout=30000")
        source.backup(target)  # replaces every page of the target, under its write lock, in one step
        target.execute("PRAGMA journal_mode=WAL")


def _restore_postgresql(database_file: Path, url: URL) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            has_tables = bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    args = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if has_tables:  # a migrated-but-empty database, or --force: drop what the backup recreates
        args += ["--clean", "--if-exists"]
    _run([*args, "--dbname", _libpq(url), str(database_file)], url, "pg_restore")


def _restore_secret(path: Path, data_dir: Path, *, force: bool) -> str:
    source = path / SECRETS_DIR / SECRET_FILE
    if not source.is_file():
        return "none in backup"
    target = data_dir / SECRET_FILE
    if target.is_file() and target.read_bytes() == source.read_bytes():
        return "restored"
    if target.is_file() and not force:
        return "kept existing (differs from the backup's; --force replaces it)"
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(source.read_bytes())
    return "restored"


# --- helpers --------------------------------------------------------------------------------------


def _libpq(url: URL) -> str:
    """The URL as pg_dump/pg_restore take it, without the password (that goes in PGPASSWORD)."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(args: list[str], url: URL, tool: str) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if shutil.which(args[0]) is None:
        raise BackupError(f"{tool} is not installed: install the PostgreSQL client tools (version >= the server's)")
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["(no message)"])[0]
        raise BackupError(f"{tool} failed: {detail}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
