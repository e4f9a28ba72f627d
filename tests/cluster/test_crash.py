"""The crash test: a cluster of 2 `warden serve` + 2 `warden worker` processes on PostgreSQL and a NATS
JetStream server, with clients posting through both nodes while each kind of process is killed with
SIGKILL and restarted: a worker, then a server, then the other worker (so the active relay is among
them), then the broker itself (a private nats-server on its own
port and store directory, so the shared one other tests use is never touched).

Afterwards every post a client got a 200 for is stored, every outbox event has been handled exactly
once in effect (`warden status` reaches outbox_pending 0, no event has two processed rows, decision
dedupe keys are unique, at most one gate decision per post), the audit chain verifies and every held
post has its case. The held posts' case-open latency (case created_at minus post created_at) is
printed, not asserted: timings on a shared machine are noise.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import _free_port, make_database
from tests.helpers import LiveServer
from warden.config import Settings
from warden.store.db import Database
from warden.store.models import OutboxEvent, Status
from warden.store.moderation_models import ModerationCase, ModerationDecision, ProcessedEvent

pytestmark = pytest.mark.slow
NATS_SERVER = "/usr/sbin/nats-server"
HELD = "the day of the rope is coming"  # the default policy's violent-codes list holds it


class Proc:
    """A child process we started (and only ever signal by its own pid), logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, logs / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def kill9(self) -> None:
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


def _wait_http(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/instance", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def _status(env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "warden.cli", "status"], env=env, capture_output=True,
                          timeout=60)
    lines = done.stdout.decode().strip().splitlines()
    return done.returncode, json.loads(lines[-1]) if lines else {}


class Posters:
    """Client threads posting through both nodes; records every post acknowledged with a 200."""

    def __init__(self, urls: list[str], tokens: list[str]) -> None:
        self.urls, self.tokens = urls, tokens
        self.acked: dict[int, str] = {}  # status id -> state the client was told
        self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(len(tokens))]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, index: int) -> None:
        n = 0
        headers = {"Authorization": f"Bearer {self.tokens[index]}"}
        while not self._stop.is_set():
            n += 1
            url = self.urls[(index + n) % len(self.urls)]
            text = (f"{HELD} ({index}-{n})" if n % 4 == 0 else f"post {n} from client {index}, all is well")
            try:
                response = httpx.post(url + "/api/v1/statuses", data={"status": text}, headers=headers, timeout=10)
            except httpx.HTTPError:
                with self._lock:
                    self.failed += 1
                time.sleep(0.1)
                continue
            if response.status_code == 200:
                body = response.json()
                with self._lock:
                    self.acked[int(body["id"])] = (body.get("warden") or {}).get("state", "published")
            else:
                with self._lock:
                    self.failed += 1
            time.sleep(0.02)


def test_kill_9_of_worker_server_and_broker_loses_nothing(tmp_path: Path) -> None:
    url, drop = make_database("postgresql", tmp_path)
    nats_port = _free_port()
    nats_args = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd", str(tmp_path / "jetstream")]
    env = {**os.environ, "WARDEN_DATABASE_URL": url, "WARDEN_BROKER_URL": f"nats://127.0.0.1:{nats_port}",
           "WARDEN_BROKER_NAMESPACE": f"crash{secrets.token_hex(3)}", "WARDEN_DETECTION_PROFILE": "fast",
           "WARDEN_SECRET_KEY": secrets.token_hex(16), "WARDEN_DATA_DIR": str(tmp_path)}
    ports = [_free_port(), _free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    procs: list[Proc] = []
    db = Database(url)
    try:
        broker = Proc("nats", nats_args, env, tmp_path)
        procs.append(broker)
        servers = [Proc(f"serve{i}", [sys.executable, "-m", "warden.cli", "serve", "--no-migrate", "--port",
                                      str(p)], env, tmp_path) for i, p in enumerate(ports)]
        workers = [Proc(f"worker{i}", [sys.executable, "-m", "warden.cli", "worker"], env, tmp_path)
                   for i in range(2)]
        procs += servers + workers
        for node in urls:
            _wait_http(node)
        live = LiveServer(url=urls[0], settings=Settings(database_url=url), db=db, backend="postgresql")
        posters = Posters(urls, [live.user("crash").token for _ in range(4)])
        posters.start()
        try:
            time.sleep(3)
            workers[0].kill9()
            time.sleep(2)
            workers[0].start()
            time.sleep(3)
            servers[1].kill9()
            time.sleep(2)
            servers[1].start()
            _wait_http(urls[1])
            time.sleep(2)
            workers[1].kill9()  # one of the two held the relay lock: the other has taken over by now
            time.sleep(2)
            workers[1].start()
            time.sleep(2)
            broker.kill9()
            time.sleep(2)
            broker.start()
            time.sleep(5)
        finally:
            posters.stop()

        acked = posters.acked
        assert len(acked) > 50, f"too few posts acknowledged ({len(acked)}, {posters.failed} failed)"
        report: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            code, report = _status(env)
            if code == 0 and report.get("outbox_pending") == 0:
                break
            time.sleep(1)
        assert report.get("healthy") is True and report.get("outbox_pending") == 0, report

        with db.read() as session:
            stored = set(session.scalars(select(Status.id).where(Status.id.in_(list(acked)))))
            events = session.scalar(select(func.count()).select_from(OutboxEvent))
            processed = session.execute(select(ProcessedEvent.event_id, func.count()).where(
                ProcessedEvent.consumer == "moderation").group_by(ProcessedEvent.event_id)).all()
            keys = session.execute(select(ModerationDecision.dedupe_key, func.count()).where(
                ModerationDecision.dedupe_key.is_not(None)).group_by(ModerationDecision.dedupe_key)
                .having(func.count() > 1)).all()
            gates = session.execute(select(ModerationDecision.status_id, func.count()).where(
                ModerationDecision.kind == "gate", ModerationDecision.status_id.is_not(None))
                .group_by(ModerationDecision.status_id).having(func.count() > 1)).all()
            held = {sid for sid, state in acked.items() if state == "held"}
            created = dict(session.execute(select(Status.id, Status.created_at).where(Status.id.in_(held))).all())
            opened: dict[int, Any] = {}
            for status_id, at in session.execute(select(ModerationCase.status_id, ModerationCase.created_at)
                                                 .where(ModerationCase.status_id.in_(held))):
                opened[status_id] = min(at, opened.get(status_id, at))
            dead = session.scalar(select(func.count()).select_from(ProcessedEvent).where(
                ProcessedEvent.outcome == "failed"))
        assert stored == set(acked), f"acknowledged posts missing: {sorted(set(acked) - stored)[:10]}"
        assert len(processed) == events and all(n == 1 for _, n in processed)  # every event, once
        assert dead == 0
        assert keys == [] and gates == []
        assert held and set(opened) == held, f"held posts without a case: {sorted(held - set(opened))[:10]}"
        audit = subprocess.run([sys.executable, "-m", "warden.cli", "audit", "verify"], env=env,
                               capture_output=True, timeout=120)
        assert audit.returncode == 0, audit.stderr.decode()[-500:]

        latencies = sorted((opened[s] - created[s]).total_seconds() for s in held)
        p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
        print(f"\ncrash test: {len(acked)} posts acknowledged ({posters.failed} refused or cut off), "
              f"{events} outbox events, {len(held)} held; case opened after the post: "
              f"p50 {statistics.median(latencies):.3f} s, p99 {p99:.3f} s, max {latencies[-1]:.3f} s "
              f"(includes the kill -9 pauses)")
    finally:
        for proc in reversed(procs):
            proc.stop()
        db.dispose()
        drop()  # type: ignore[operator]
