"""`warden backup` and `warden restore`, run as real subprocesses against a live server on both backends.

The bar (issue 29, item 7): a backup taken while clients post, restored into a fresh database, holds every
post acknowledged before the backup started, and `warden audit verify` passes on it. A restore refuses a
target that holds data (without --force), a damaged or missing manifest, and another backend's backup,
and changes nothing when it refuses.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import _fresh_database_url
from tests.helpers import LiveServer, eventually
from warden.cases import audit
from warden.store.migrate import alembic_config, upgrade


def warden(*args: str, url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARDEN_")}
    env.update(WARDEN_DATABASE_URL=url, WARDEN_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "warden.cli", *args], env=env, capture_output=True, text=True,
                          timeout=240)


def scalar(url: str, sql: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Make empty databases of the server's backend (a new SQLite file, a new PostgreSQL database)."""
    drops: list[Callable[[], None]] = []

    def make() -> str:
        url, drop = _fresh_database_url(backend, tmp_path)
        drops.append(drop)  # type: ignore[arg-type]
        return url

    yield make
    for drop in drops:
        drop()


def test_backup_while_clients_post_restores_every_acknowledged_post(
        server: LiveServer, fresh_url: Callable[[], str], tmp_path: Path) -> None:
    authors = [server.user("backup") for _ in range(3)]
    acknowledged: list[tuple[int, float]] = []  # (post id, when its 200 arrived)
    lock = threading.Lock()
    stop = threading.Event()

    def post(author_index: int) -> None:
        with authors[author_index].http() as http:
            n = 0
            while not stop.is_set():
                n += 1
                response = http.post("/api/v1/statuses", data={"status": f"backup test {author_index}.{n}"})
                assert response.status_code == 200, response.text
                with lock:
                    acknowledged.append((int(response.json()["id"]), time.monotonic()))

    def moderate() -> None:  # audit entries committing while the backup runs, so verify has a chain to check
        n = 0
        while not stop.is_set():
            n += 1
            with server.db.write() as session:
                audit.append(session, action="test.backup", subject=f"round:{n}")
            time.sleep(0.01)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(authors))]
    threads.append(threading.Thread(target=moderate))
    reader = None
    if server.backend == "sqlite":  # a long read (a dashboard query) keeps checkpoints from moving the new
        # posts out of the WAL into the main file: a plain copy of the file would miss every one of them
        reader = sqlite3.connect(make_url(server.settings.database_url).database)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM statuses").fetchone()
    for thread in threads:
        thread.start()
    try:
        eventually(lambda: len(acknowledged) >= 30)
        started = time.monotonic()
        backup_dir = tmp_path / "backup"
        made = warden("backup", str(backup_dir), url=server.settings.database_url, data_dir=tmp_path)
        eventually(lambda: any(at > time.monotonic() - 0.5 for _, at in acknowledged))  # writes went on
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if reader is not None:
            reader.close()
    assert made.returncode == 0, made.stderr
    before = {post_id for post_id, at in acknowledged if at < started}
    assert len(before) >= 30

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["backend"] == server.backend
    assert manifest["counts"]["posts"] >= len(before)
    assert manifest["audit_head"]["seq"] >= 1

    target = fresh_url()
    restored = warden("restore", str(backup_dir), url=target, data_dir=tmp_path / "restored")
    assert restored.returncode == 0, restored.stderr
    assert "audit log intact" in restored.stdout

    ids = ",".join(str(i) for i in sorted(before))
    assert scalar(target, f"SELECT count(*) FROM statuses WHERE id IN ({ids})") == len(before)
    assert scalar(target, "SELECT count(*) FROM statuses") == manifest["counts"]["posts"]
    assert scalar(target, "SELECT hash FROM audit_head WHERE id = 1") == manifest["audit_head"]["hash"]
    verified = warden("audit", "verify", url=target, data_dir=tmp_path / "restored")
    assert verified.returncode == 0, verified.stderr

    # The restored database now holds data: a second restore is refused and changes nothing.
    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM statuses WHERE id = :id"), {"id": min(before)})
    engine.dispose()
    posts_now = scalar(target, "SELECT count(*) FROM statuses")
    again = warden("restore", str(backup_dir), url=target, data_dir=tmp_path / "restored")
    assert again.returncode != 0
    assert "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    assert scalar(target, "SELECT count(*) FROM statuses") == posts_now

    forced = warden("restore", str(backup_dir), "--force", url=target, data_dir=tmp_path / "restored")
    assert forced.returncode == 0, forced.stderr
    assert scalar(target, "SELECT count(*) FROM statuses") == manifest["counts"]["posts"]


def test_backup_includes_the_console_secret_and_refuses_a_used_folder(server: LiveServer, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "console-secret.key").write_text("s" * 64 + "\n")
    url = server.settings.database_url
    if server.backend == "sqlite":  # the secret lives next to a SQLite file: back up a copy placed in data_dir
        copy = warden("backup", str(tmp_path / "first"), url=url, data_dir=tmp_path)
        assert copy.returncode == 0, copy.stderr
        restored = warden("restore", str(tmp_path / "first"), url=f"sqlite:///{data_dir / 'w.sqlite3'}",
                          data_dir=data_dir)
        assert restored.returncode == 0, restored.stderr
        url = f"sqlite:///{data_dir / 'w.sqlite3'}"
    made = warden("backup", str(tmp_path / "b"), url=url, data_dir=data_dir)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["secrets"]["console_secret_file"] == "included" and manifest["secrets"]["sensitive"]
    assert (tmp_path / "b" / "secrets" / "console-secret.key").read_text() == "s" * 64 + "\n"
    assert "secret" in made.stderr

    again = warden("backup", str(tmp_path / "b"), url=url, data_dir=data_dir)
    assert again.returncode != 0 and "not an empty folder" in again.stderr
    assert json.loads((tmp_path / "b" / "manifest.json").read_text()) == manifest


def test_restore_refuses_a_damaged_or_foreign_backup(server: LiveServer, fresh_url: Callable[[], str],
                                                    tmp_path: Path) -> None:
    good = tmp_path / "good"
    made = warden("backup", str(good), url=server.settings.database_url, data_dir=tmp_path / "nothing")
    assert made.returncode == 0, made.stderr
    target = fresh_url()

    def damaged(name: str, change: Callable[[Path], None]) -> Path:
        folder = tmp_path / name
        subprocess.run(["cp", "-r", str(good), str(folder)], check=True)
        change(folder)
        return folder

    database_file = json.loads((good / "manifest.json").read_text())["database_file"]

    def flip_byte(folder: Path) -> None:
        path = folder / database_file
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    cases = {
        "missing": (damaged("missing", lambda f: (f / "manifest.json").unlink()), "no manifest.json"),
        "garbage": (damaged("garbage", lambda f: (f / "manifest.json").write_text("{not json")), "not valid JSON"),
        "foreign": (damaged("foreign", lambda f: (f / "manifest.json").write_text('{"format": "other"}')),
                    "not a Warden backup"),
        "corrupt": (damaged("corrupt", flip_byte), "does not match the digest"),
    }
    for name, (folder, message) in cases.items():
        result = warden("restore", str(folder), url=target, data_dir=tmp_path / "restored")
        assert result.returncode != 0, name
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (name, result.stderr)

    other = (f"sqlite:///{tmp_path / 'never.sqlite3'}" if server.backend == "postgresql"
             else "postgresql+psycopg://postgres@127.0.0.1:5432/warden_never_created")
    crossed = warden("restore", str(good), url=other, data_dir=tmp_path / "restored")
    assert crossed.returncode != 0 and "across backends" in crossed.stderr
    assert not (tmp_path / "never.sqlite3").exists()

    engine = create_engine(target)  # every refusal left the target as it was: empty
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == []
    engine.dispose()
    assert not (tmp_path / "restored").exists()


def test_restore_migrates_a_backup_from_an_older_schema_and_refuses_a_newer_one(tmp_path: Path) -> None:
    old = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(old, "0001")  # the schema as the first release left it
    made = warden("backup", str(tmp_path / "b"), url=old, data_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["schema_revision"] == "0001"

    target = f"sqlite:///{tmp_path / 'new' / 'w.sqlite3'}"
    restored = warden("restore", str(tmp_path / "b"), url=target, data_dir=tmp_path / "new")
    assert restored.returncode == 0, restored.stderr
    assert "schema upgraded from 0001" in restored.stdout
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head != "0001" and scalar(target, "SELECT version_num FROM alembic_version") == head

    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    newer = warden("restore", str(tmp_path / "b"), url=f"sqlite:///{tmp_path / 'x.sqlite3'}", data_dir=tmp_path)
    assert newer.returncode != 0 and "newer version" in newer.stderr
    assert not (tmp_path / "x.sqlite3").exists()
