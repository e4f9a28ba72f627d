"""Cluster benchmark: two API nodes and two workers on PostgreSQL + NATS, under load, measured end to end.

    python bench/bench_cluster.py                      # 2 serve + 2 worker, 40 followers, 10 posts/s, 20 s
    python bench/bench_cluster.py --followers 100 --rate 20 --load-clients 8 --seconds 30

It creates a fresh PostgreSQL database and a fresh broker namespace, starts `warden serve` twice and
`warden worker` twice as separate processes (moderation on: the real detector in the write path, the
default policy, the relay and moderation consumers in the workers), then at once:

* an author posts through node A at a steady rate; every follower has a `user` stream open on node B:
  the time from sending each POST to each `update` frame on node B (p50/p99), and frames that never came;
* every few posts the author writes a post the default policy holds (a listed call to violence): the
  time from the post's commit to its case being opened by a worker (p50/p99);
* `--load-clients` clients read home timelines and post through both nodes (the "bench load").

At the end it waits for `outbox_pending` to reach 0 and prints `warden status`. Every process shares
this machine's cores with the load generator: say how many when you report the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import Connection, fresh_database  # noqa: E402
from bench_streaming import collect_updates  # noqa: E402

from warden.broker.health import database_snapshot  # noqa: E402
from warden.platform import accounts, auth  # noqa: E402
from warden.platform.auth import hash_password  # noqa: E402
from warden.store.db import Database  # noqa: E402
from warden.store.migrate import upgrade  # noqa: E402
from warden.store.models import Follow, Status  # noqa: E402
from warden.store.moderation_models import ModerationCase  # noqa: E402

#: Held by the default policy's violent-codes list, whatever the detector says (warden/policy/default.yaml).
HELD = "the day of the rope is coming, number {n}"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_users(url: str, followers: int, others: int) -> tuple[str, list[str], list[str]]:
    """The author's token, the followers' tokens (each follows the author) and other users' tokens."""
    db = Database(url)
    password = hash_password("bench-password")

    def user(session, name: str, scopes: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        account = accounts.register(session, username=name, email=f"{name}@bench.test", password="bench-password",
                                    password_hash=password)
        return account.id, auth.issue_token(session, app_id=None, account_id=account.id, scopes=scopes).access_token

    with db.write() as session:
        author_id, author = user(session, "author", "read write")
        readers = []
        for i in range(followers):
            reader_id, token = user(session, f"reader{i}", "read")
            session.add(Follow(account_id=reader_id, target_id=author_id))
            readers.append(token)
        load = [user(session, f"load{i}", "read write")[1] for i in range(others)]
    db.dispose()
    return author, readers, load


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "warden.cli", *argv], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"))


def wait_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"{base} exited; see {log}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} did not start; see {log}")


async def background_load(bases: list[str], tokens: list[str], clients: int, until: float) -> tuple[int, int]:
    """Home-timeline reads and ordinary posts through every node until `until`; (requests ok, errors)."""
    counts = [0, 0]

    async def client(n: int) -> None:
        rng = random.Random(n)
        host, port = bases[n % len(bases)].split("://", 1)[1].split(":")
        conn = Connection(host, int(port))
        while time.perf_counter() < until:
            token = tokens[rng.randrange(len(tokens))]
            headers = {"Authorization": f"Bearer {token}"}
            if rng.random() < 0.3:
                status, _ = await conn.request("POST", "/api/v1/statuses", {
                    **headers, "Content-Type": "application/x-www-form-urlencoded"},
                    f"status=background+post+{rng.random()}".encode())
            else:
                status, _ = await conn.request("GET", "/api/v1/timelines/home", headers)
            counts[0 if status == 200 else 1] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return counts[0], counts[1]


def load_process(bases: list[str], tokens: list[str], clients: int, seconds: float,
                 results: "multiprocessing.Queue[tuple[int, int]]") -> None:
    results.put(asyncio.run(background_load(bases, tokens, clients, time.perf_counter() + seconds)))


async def measure(node_a: str, node_b: str, author: str, readers: list[str], load: list[str], *, rate: float,
                  seconds: float, held_every: int, load_clients: int) -> tuple[list[float], int, list[str]]:
    ws_url = node_b.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
    sockets = [await websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {t}"},
                                        max_queue=None) for t in readers]
    arrivals: list[tuple[str, float]] = []

    listeners = [asyncio.create_task(collect_updates(ws, arrivals)) for ws in sockets]
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}  # when the POST's 200 came back: the post is committed (acknowledged)
    held: list[str] = []
    started = time.perf_counter()
    # the load runs in a process of its own, so its closed-loop clients never delay this loop's reading
    # of the streams (their frames would be timed late, by the measuring client rather than the servers)
    results: multiprocessing.Queue[tuple[int, int]] = multiprocessing.Queue()
    loader = multiprocessing.Process(target=load_process, args=([node_a, node_b], load, load_clients,
                                                                 seconds, results)) if load_clients else None
    if loader is not None:
        loader.start()
    async with httpx.AsyncClient(base_url=node_a, headers={"Authorization": f"Bearer {author}"}, timeout=30) as http:
        n = 0
        while time.perf_counter() < started + seconds:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            text = HELD.format(n=n) if held_every and n % held_every == held_every - 1 else f"cluster post {n}"
            t0 = time.perf_counter()
            response = await http.post("/api/v1/statuses", data={"status": text})
            if response.status_code == 200:
                status_id = response.json()["id"]
                if text.startswith("the day of the rope"):
                    held.append(status_id)
                else:
                    sent[status_id] = t0
                    acked[status_id] = time.perf_counter()
            n += 1
    if loader is not None:
        ok, errors = await asyncio.to_thread(results.get)
        loader.join()
        print(f"background load: {ok:,} requests ok, {errors} errors over {seconds:g} s "
              f"({ok / seconds:,.0f}/s through both nodes, {load_clients} clients)")
    expected = len(sent) * len(readers)
    deadline = time.perf_counter() + 10.0
    while sum(1 for s, _ in arrivals if s in sent) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.2)
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    leaked = sum(1 for s, _ in arrivals if s in set(held))
    latencies = [at - sent[s] for s, at in arrivals if s in sent]
    after_ack = [max(0.0, at - acked[s]) for s, at in arrivals if s in acked]
    missing = expected - len(latencies)
    print(f"post acknowledged on node A (200) -> `update` on node B: p50 {pct(after_ack, 0.5) * 1000:.0f} ms, "
          f"p99 {pct(after_ack, 0.99) * 1000:.0f} ms (the POST itself under this load: "
          f"p50 {pct([acked[s] - sent[s] for s in acked], 0.5) * 1000:.0f} ms, "
          f"p99 {pct([acked[s] - sent[s] for s in acked], 0.99) * 1000:.0f} ms)")
    if leaked:
        print(f"WARNING: {leaked} frames of held posts reached streams")
    return latencies, missing, held


def held_case_latencies(db: Database, ids: list[str], timeout: float = 60) -> list[float]:
    wanted = [int(i) for i in ids]
    deadline = time.monotonic() + timeout
    while True:
        with db.read() as session:
            posted = dict(session.execute(select(Status.id, Status.created_at).where(Status.id.in_(wanted))).all())
            opened: dict[int, object] = {}
            for sid, at in session.execute(select(ModerationCase.status_id, ModerationCase.created_at)
                                           .where(ModerationCase.status_id.in_(wanted))
                                           .order_by(ModerationCase.created_at)):
                opened.setdefault(sid, at)
        if len(opened) == len(wanted) or time.monotonic() > deadline:
            return [(opened[s] - posted[s]).total_seconds() for s in wanted if s in opened]  # type: ignore[operator]
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--followers", type=int, default=40)
    parser.add_argument("--rate", type=float, default=10.0, help="the author's posts per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--held-every", type=int, default=5, help="every Nth post is one the policy holds")
    parser.add_argument("--load-clients", type=int, default=4, help="background clients through both nodes")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nats", default=os.environ.get("WARDEN_BROKER_URL", "nats://127.0.0.1:4222"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warden-bench-cluster-") as tmp:
        url, drop = fresh_database("postgresql", Path(tmp))
        procs: list[subprocess.Popen[bytes]] = []
        db = Database(url)
        try:
            upgrade(url)
            author, readers, load = make_users(url, args.followers, 200)
            namespace = f"bench{secrets.token_hex(3)}"
            env = {**os.environ, "WARDEN_DATABASE_URL": url, "WARDEN_BROKER_URL": args.nats, "WARDEN_RATE_LIMIT_STATUSES": "off",
                   "WARDEN_BROKER_NAMESPACE": namespace, "WARDEN_DETECTION": "on"}
            for n in range(args.workers):
                procs.append(start(["worker"], env, Path(tmp) / f"worker{n}.log"))
            bases = []
            for n in range(args.servers):
                port = free_port()
                log = Path(tmp) / f"serve{n}.log"
                proc = start(["serve", "--port", str(port), "--no-migrate"],
                             {**env, "WARDEN_BASE_URL": f"http://127.0.0.1:{port}"}, log)
                procs.append(proc)
                bases.append(f"http://127.0.0.1:{port}")
                wait_up(bases[-1], proc, log)
            time.sleep(3)  # the workers connect, create the stream and load the detector
            print(f"cluster: {args.servers} `warden serve` + {args.workers} `warden worker` on PostgreSQL and "
                  f"NATS, moderation on, {os.cpu_count()} cores shared with this load generator")
            latencies, missing, held = asyncio.run(measure(
                bases[0], bases[-1], author, readers, load, rate=args.rate, seconds=args.seconds,
                held_every=args.held_every, load_clients=args.load_clients))
            ms = [v * 1000 for v in latencies]
            print(f"post on node A -> `update` on node B ({args.followers} streams, {args.rate:g} posts/s): "
                  f"p50 {pct(ms, 0.5):.0f} ms, p90 {pct(ms, 0.9):.0f} ms, p99 {pct(ms, 0.99):.0f} ms, "
                  f"max {max(ms, default=float('nan')):.0f} ms; {len(ms):,} frames, {missing} missing")
            cases = [v * 1000 for v in held_case_latencies(db, held)]
            print(f"held post -> case opened: {len(cases)}/{len(held)} cases; p50 {pct(cases, 0.5):.0f} ms, "
                  f"p99 {pct(cases, 0.99):.0f} ms, max {max(cases, default=float('nan')):.0f} ms")
            deadline = time.monotonic() + 120
            while (snap := database_snapshot(db))["outbox_pending"] and time.monotonic() < deadline:
                time.sleep(0.5)
            print("warden status (database side):", {k: snap[k] for k in ("outbox_pending", "dead_letters")})
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            db.dispose()
            drop()


if __name__ == "__main__":
    main()
