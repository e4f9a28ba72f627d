"""Moderation benchmark: the gate in the write path, the asynchronous worker, and partner notice intake.

    python bench/bench_moderation.py                        # SQLite, real detector if trained (else the fake)
    python bench/bench_moderation.py --backend postgresql   # the same on PostgreSQL (127.0.0.1:5432)
    python bench/bench_moderation.py --detector fake        # the tests' keyword stand-in (no model needed)

It starts a server in its own process (policy gate + worker), drives it over HTTP from this process and
prints:

1. post -> decision latency in the write path: POST /api/v1/statuses with the gate deciding in the
   post's transaction (benign, heated, uncertain and violent texts; p50/p99 per verdict);
2. outbox -> asynchronous decision at a paced 200 posts/s: from the `status.created` event's commit to
   the worker's decision on it (every event: processed; spam posts: the async `limit` decision);
3. notices accepted per second in batches of 500 (POST /api/warden/v1/notices), and how fast the
   worker turns them into cases.

The server and the load generator share this machine's cores: say how many when you report figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx
from sqlalchemy import create_engine, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import Connection, fresh_database  # noqa: E402

from warden.store.migrate import upgrade  # noqa: E402

BENIGN = ["Lovely morning at the market, the tomatoes are finally back. #food",
          "Does anyone know a good bike repair shop near the station?",
          "Finished the book club novel; the ending was a surprise to everyone.",
          "Council meeting moved to Thursday, bring your questions about the bike lanes."]
HEATED = ["The senator's tax plan is a disgrace and a betrayal of every worker here. Vote him out!",
          "This government has failed us for a decade and should resign in shame."]
UNCERTAIN = ["Those councillors will get what they deserve soon enough, mark my words."]
VIOLENT = ["We should kill every one of them tonight. Bring weapons and burn their houses."]
SPAM = "Free crypto https://spam.example/win {n}"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def line(name: str, values_ms: list[float]) -> str:
    return (f"{name}: n={len(values_ms)}, p50 {pct(values_ms, 0.5):.1f} ms, p99 {pct(values_ms, 0.99):.1f} ms, "
            f"max {max(values_ms, default=float('nan')):.1f} ms")


# --- the server process ---------------------------------------------------------------------------


def serve(url: str, port: int, detector_kind: str, in_process_worker: bool = True) -> None:
    """(In the child process.) Run the app with the policy gate and the worker."""
    import uvicorn

    from warden.api.app import create_app
    from warden.config import Settings

    detector = None
    if detector_kind == "fake":
        sys.path.insert(0, str(ROOT))
        from tests.moderation.conftest import FakeDetector

        detector = FakeDetector()
    settings = Settings(database_url=url, base_url=f"http://127.0.0.1:{port}", detection_enabled=True)
    app = create_app(settings, detector=detector, worker=in_process_worker)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, loop="uvloop",
                http="httptools")


def start(url: str, detector_kind: str, worker_process: bool) -> tuple[subprocess.Popen[bytes], str, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", url, str(port), detector_kind,
                             "external" if worker_process else "in-process"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/api/v1/instance", timeout=1).status_code == 200:
                return proc, base, port
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


def seed(url: str, base: str, users: int) -> tuple[list[tuple[int, str, str]], str, int]:
    """Accounts with tokens [(id, username, token)] and a trusted partner's token."""
    from warden.cases.notices import create_partner
    from warden.platform import accounts, auth
    from warden.store.db import Database

    db = Database(url)
    out = []
    with db.write() as session:
        for i in range(users):
            account = accounts.register(session, username=f"bench{i}", email=f"bench{i}@bench.test",
                                        password="bench-password")
            out.append((account.id, account.username,
                        auth.issue_token(session, app_id=None, account_id=account.id, scopes="read write").access_token))
        _, partner_token = create_partner(session, "bench-partner", trusted=True)
    db.dispose()
    return out, partner_token, len(out)


# --- 1. the write path ---------------------------------------------------------------------------


async def write_path(base: str, people: list[tuple[int, str, str]], clients: int, seconds: float) -> None:
    host, port = base.split("://", 1)[1].split(":")
    by_verdict: dict[str, list[float]] = {}
    deadline = time.perf_counter() + seconds
    texts = [("benign", t) for t in BENIGN] * 6 + [("heated", t) for t in HEATED] * 3 + \
        [("uncertain", t) for t in UNCERTAIN] * 2 + [("violent", t) for t in VIOLENT] * 2

    async def client(n: int) -> None:
        rng = random.Random(n)
        conn = Connection(host, int(port))
        while time.perf_counter() < deadline:
            _, _, token = people[rng.randrange(len(people))]
            kind, text = texts[rng.randrange(len(texts))]
            body = f"status={quote_plus(text + ' ' + str(rng.random())[:6])}".encode()
            started = time.perf_counter()
            status, payload = await conn.request("POST", "/api/v1/statuses", {
                "Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"}, body)
            elapsed = (time.perf_counter() - started) * 1000
            if status == 422:
                verdict = "block"
            elif status == 200:
                data = json.loads(payload)
                verdict = (data.get("warden") or {}).get("state", "published")
                if verdict == "published" and (data.get("warden") or {}).get("limited"):
                    verdict = "limited"
            else:
                verdict = f"error {status}"
            by_verdict.setdefault(verdict, []).append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    total = sum(len(v) for v in by_verdict.values())
    everything = [x for v in by_verdict.values() for x in v]
    print(f"1. write path, {clients} clients, {total / (time.perf_counter() - started):.0f} posts/s: "
          + line("post -> decision (all verdicts)", everything))
    for verdict, values in sorted(by_verdict.items()):
        print("     " + line(verdict, values))


# --- 2. the asynchronous path --------------------------------------------------------------------


async def paced_posts(base: str, people: list[tuple[int, str, str]], rate: float, seconds: float,
                      spam_every: int) -> tuple[int, float, int]:
    host, port = base.split("://", 1)[1].split(":")
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    errors = 0
    done = 0

    async def sender(n: int) -> None:
        nonlocal errors, done
        conn = Connection(host, int(port))
        while (i := await queue.get()) is not None:
            _, _, token = people[i % len(people)]
            text = SPAM.format(n=i) if i % spam_every == 0 else f"{BENIGN[i % len(BENIGN)]} {i}"
            status, _ = await conn.request("POST", "/api/v1/statuses", {
                "Authorization": f"Bearer {token}", "Content-Type": "application/x-www-form-urlencoded"},
                f"status={quote_plus(text)}".encode())
            done += 1
            errors += status != 200

    senders = [asyncio.create_task(sender(n)) for n in range(16)]
    started = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        target = started + i / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(i)
    for _ in senders:
        queue.put_nowait(None)
    await asyncio.gather(*senders)
    return done, time.perf_counter() - started, errors


def async_latencies(url: str, since_event: int, timeout: float = 60) -> tuple[list[float], list[float]]:
    from warden.store.models import OutboxEvent
    from warden.store.moderation_models import ConsumerPosition, ModerationDecision, ProcessedEvent

    engine = create_engine(url)
    from sqlalchemy.orm import Session

    deadline = time.monotonic() + timeout
    with Session(engine) as session:
        last = session.scalar(select(func.max(OutboxEvent.id))) or 0
        while time.monotonic() < deadline:
            position = session.scalar(select(ConsumerPosition.position).where(ConsumerPosition.name == "moderation"))
            if position is not None and position >= last:
                break
            session.rollback()
            time.sleep(0.2)
        events = {e.id: e.created_at for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.id > since_event, OutboxEvent.type == "status.created"))}
        processed = [(p.processed_at - events[p.event_id]).total_seconds() * 1000 for p in session.scalars(
            select(ProcessedEvent).where(ProcessedEvent.consumer == "moderation",
                                         ProcessedEvent.event_id.in_(list(events))))]
        decided = []
        for d in session.scalars(select(ModerationDecision).where(ModerationDecision.kind == "async")):
            event_id = int((d.dedupe_key or "event:0").split(":")[1])
            if event_id in events:
                decided.append((d.created_at - events[event_id]).total_seconds() * 1000)
    engine.dispose()
    return processed, decided


# --- 3. notices ---------------------------------------------------------------------------------


def notices(url: str, base: str, partner_token: str, batches: int) -> None:
    from sqlalchemy.orm import Session

    from warden.store.models import Account, Status
    from warden.store.moderation_models import Notice

    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(Status.id, Account.username).join(Account, Account.id == Status.account_id)
                               .order_by(Status.id.desc()).limit(500)).all()
    urls = [f"{base}/@{username}/{status_id}" for status_id, username in rows]
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {partner_token}"}, timeout=60)
    client.get("/api/v1/instance")
    latencies = []
    accepted = 0
    started = time.perf_counter()
    for b in range(batches):
        payload = {"notices": [{"url": urls[(b * 7 + i) % len(urls)], "category": "violence",
                                "explanation": f"batch {b} item {i}"} for i in range(500)]}
        t0 = time.perf_counter()
        response = client.post("/api/warden/v1/notices", json=payload)
        latencies.append((time.perf_counter() - t0) * 1000)
        accepted += sum(1 for n in response.json()["notices"] if "id" in n)
    elapsed = time.perf_counter() - started
    print(f"3. notices: {accepted / elapsed:,.0f} notices/s accepted in batches of 500 "
          f"({accepted} in {elapsed:.1f}s); " + line("batch latency", latencies))
    t0 = time.perf_counter()
    with Session(engine) as session:
        while time.perf_counter() - t0 < 120:
            left = session.scalar(select(func.count()).select_from(Notice).where(Notice.state == "received"))
            if not left:
                break
            session.rollback()
            time.sleep(0.1)
    print(f"   worker: all {accepted} notices in review (cases opened or joined) "
          f"{time.perf_counter() - started:.1f}s after the first batch was sent")
    engine.dispose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "in-process")
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--detector", choices=["real", "fake", "auto"], default="auto")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10, help="Length of the write-path and paced phases.")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200, help="Posts per second in the asynchronous phase.")
    parser.add_argument("--batches", type=int, default=10, help="Notice batches of 500.")
    parser.add_argument("--worker-process", action="store_true",
                        help="Run the outbox worker as its own process (`warden worker`), not in the server.")
    args = parser.parse_args()
    detector = args.detector
    if detector == "auto":
        detector = "real" if (ROOT / "warden/detection/model/meta.json").exists() else "fake"
    print(f"Warden moderation benchmark on {args.backend}, {detector} detector, "
          f"worker {'in its own process' if args.worker_process else 'in the server process'}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="warden-bench-") as tmp:
        url, drop = fresh_database(args.backend, Path(tmp))
        try:
            upgrade(url)
            proc, base, _ = start(url, detector, args.worker_process)
            worker = None
            if args.worker_process:
                worker = subprocess.Popen([sys.executable, "-m", "warden.cli", "worker"], stderr=subprocess.DEVNULL,
                                          env=dict(os.environ, WARDEN_DATABASE_URL=url, WARDEN_RATE_LIMIT_STATUSES="off",
                                                   WARDEN_DETECTION="on" if detector == "real" else "off"))
            try:
                people, partner_token, _ = seed(url, base, args.users)
                asyncio.run(write_path(base, people, 1, 1))  # warm up
                asyncio.run(write_path(base, people, args.clients, args.seconds))
                from sqlalchemy.orm import Session

                from warden.store.models import OutboxEvent

                engine = create_engine(url)
                with Session(engine) as session:
                    since = session.scalar(select(func.max(OutboxEvent.id))) or 0
                engine.dispose()
                sent, elapsed, errors = asyncio.run(paced_posts(base, people, args.rate, args.seconds, spam_every=5))
                processed, decided = async_latencies(url, since)
                print(f"2. asynchronous path at {sent / elapsed:.0f} posts/s offered {args.rate:.0f}/s "
                      f"({sent} posts, {errors} errors):")
                print("     " + line("outbox -> event handled (every post)", processed))
                print("     " + line("outbox -> async decision (spam rule, 1 post in 5)", decided))
                notices(url, base, partner_token, args.batches)
            finally:
                for child in (proc, worker):
                    if child is not None:
                        child.terminate()
                        child.wait(timeout=10)
        finally:
            drop()


if __name__ == "__main__":
    main()
