"""Broker path benchmark: outbox → relay → JetStream → moderation workers, on PostgreSQL (or SQLite).

    python bench/bench_broker.py                          # PostgreSQL, 2 workers, the shared NATS on :4222
    python bench/bench_broker.py --workers 1 --backend sqlite --burst 5000

It starts `warden worker` processes (relay + moderation; detection off in them) under a fresh namespace and
prints:

1. drain throughput: a burst of outbox rows committed at once (status.created events of stored posts),
   and how long until the moderation consumers have handled every one (events/s, end to end through
   the relay, the stream and the workers' transactions);
2. held-post case latency: posts the default policy holds, written through the platform's own write
   path at a paced rate, and the time from each post's commit to its case being opened (p50/p99/max).

Workers and this load generator share the machine's cores: say how many when you report figures.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import fresh_database  # noqa: E402

from warden.broker.health import database_snapshot  # noqa: E402
from warden.cases.worker import ModerationWorker  # noqa: E402
from warden.config import Settings  # noqa: E402
from warden.platform import accounts, statuses  # noqa: E402
from warden.policy.engine import PolicyGate, PolicyStore  # noqa: E402
from warden.store.db import Database  # noqa: E402
from warden.store.migrate import upgrade  # noqa: E402
from warden.store.models import Account, OutboxEvent, Status  # noqa: E402
from warden.store.moderation_models import ModerationCase, ProcessedEvent  # noqa: E402

HELD = "the day of the rope is coming, number {n}"


class KeywordDetector:
    """Scores nothing (the default policy's word lists decide): keeps the benchmark about the event path."""

    thresholds = {"violence": {"auto": 0.9, "review": 0.5}}

    def score(self, text: str):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        return SimpleNamespace(scores={"violence": 0.0, "hate": 0.0, "harassment": 0.0}, spans=[],
                               model="none", stage="linear")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def handled(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessedEvent).where(
            ProcessedEvent.consumer == ModerationWorker.NAME)) or 0


def wait_drained(db: Database, total: int, timeout: float = 300) -> float:
    started = time.perf_counter()
    while handled(db) < total:
        if time.perf_counter() - started > timeout:
            raise SystemExit(f"only {handled(db)} of {total} events handled after {timeout} s")
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--burst", type=int, default=3000, help="outbox rows committed at once")
    parser.add_argument("--held", type=int, default=200, help="held posts written at --rate")
    parser.add_argument("--rate", type=float, default=20.0, help="held posts per second")
    parser.add_argument("--nats", default=os.environ.get("WARDEN_BROKER_URL", "nats://127.0.0.1:4222"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="warden-bench-broker-") as tmp:
        url, drop = fresh_database(args.backend, Path(tmp))
        upgrade(url)
        namespace = f"bench{secrets.token_hex(3)}"
        settings = Settings(database_url=url, broker_url=args.nats, broker_namespace=namespace)
        env = {**os.environ, "WARDEN_DATABASE_URL": url, "WARDEN_BROKER_URL": args.nats,
               "WARDEN_BROKER_NAMESPACE": namespace, "WARDEN_DETECTION": "off"}
        procs = [subprocess.Popen([sys.executable, "-m", "warden.cli", "worker", "--roles", "relay,moderation"],
                                  env=env, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
        db = Database(url)
        try:
            with db.write() as session:
                author = accounts.register(session, username="bench", email="bench@bench.test",
                                           password="bench-password-1", allow_reserved=True)
                author_id = author.id
            with db.read() as session:
                author = session.get(Account, author_id)
            time.sleep(3)  # workers connect and create the stream and durable consumer
            print(f"{args.backend}, {args.workers} worker process(es), {os.cpu_count()} cores (shared with "
                  f"this load generator)")

            # 1. a burst of events, drained through the relay, the stream and the consumers
            with db.write() as session:
                rows = [Status(account_id=author_id, text=f"ordinary post {n}",
                               content_html=f"<p>ordinary post {n}</p>") for n in range(args.burst)]
                session.add_all(rows)
                session.flush()
                session.add_all([OutboxEvent(type="status.created", subject_id=r.id, payload={"status_id": r.id})
                                 for r in rows])
            seconds = wait_drained(db, args.burst)
            print(f"burst: {args.burst} events handled in {seconds:.2f} s = {args.burst / seconds:.0f} events/s "
                  f"end to end")

            # 2. held posts through the write path (policy gate: the default policy's lists), paced
            gate = PolicyGate(settings, PolicyStore(), KeywordDetector())
            interval = 1.0 / args.rate
            next_at = time.perf_counter()
            ids = []
            for n in range(args.held):
                next_at += interval
                with db.write() as session:
                    result = statuses.create(session, settings, session.merge(author), text=HELD.format(n=n),
                                             gate=gate)
                    assert result.status is not None, result.verdict
                    ids.append(result.status.id)
                time.sleep(max(0.0, next_at - time.perf_counter()))
            wait_drained(db, args.burst + args.held)
            with db.read() as session:
                posted = dict(session.execute(select(Status.id, Status.created_at).where(Status.id.in_(ids))).all())
                states = set(session.scalars(select(Status.state).where(Status.id.in_(ids))))
                opened: dict[int, object] = {}
                for sid, at in session.execute(select(ModerationCase.status_id, ModerationCase.created_at)
                                               .where(ModerationCase.status_id.in_(ids))):
                    opened.setdefault(sid, at)
            latencies = [(opened[s] - posted[s]).total_seconds() for s in ids if s in opened]  # type: ignore[operator]
            print(f"held posts ({states}): {len(latencies)}/{len(ids)} cases opened; post commit -> case open "
                  f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {pct(latencies, 0.99) * 1000:.0f} ms, "
                  f"max {max(latencies) * 1000:.0f} ms at {args.rate:g} posts/s")
            print("warden status:", {k: v for k, v in database_snapshot(db).items() if k != "last_event_id"})
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
            db.dispose()
            drop()


if __name__ == "__main__":
    main()
