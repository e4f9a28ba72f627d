"""Platform benchmark: post creation and home-timeline reads against a real `warden serve` process.

    python bench/bench_platform.py                       # SQLite, 10,000 users x ~100 follows, 200,000 posts
    python bench/bench_platform.py --backend postgresql  # the same on PostgreSQL (127.0.0.1:5432)
    python bench/bench_platform.py --users 1000 --posts 20000 --seconds 5   # a quick run
    python bench/bench_platform.py --keep /tmp/warden-bench  # seed once, reuse a copy on later runs (SQLite)
    python bench/bench_platform.py --no-moderation       # the allow-all gate, no detector (the old default)

By default the server runs as it ships: detection on, the default policy, and the in-process
moderation worker consuming the outbox, so the figures include the moderation gate's cost.

It seeds the database directly (bulk inserts), starts the server in its own process, then drives it
over HTTP from this process with keep-alive connections and prints throughput and latency
percentiles. The server and the load generator share this machine's cores: say how many when you
report the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import json
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warden.platform.auth import digest, hash_password  # noqa: E402
from warden.store.migrate import upgrade  # noqa: E402
from warden.store.models import Account, Follow, OAuthToken, Status  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fresh_database(backend: str, workdir: Path) -> tuple[str, callable]:  # type: ignore[valid-type]
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None
    name = f"warden_bench_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def seed(url: str, users: int, follows: int, posts: int, readers: int) -> list[str]:
    """Bulk-load accounts, follows and posts; returns access tokens for the first `readers` users."""
    rng = random.Random(42)
    engine = create_engine(url)
    password = hash_password("bench-password")
    now = datetime.now(UTC)
    tokens = [secrets.token_urlsafe(24) for _ in range(readers)]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Account), [
            {"id": i, "username": f"user{i}", "username_key": f"user{i}", "email": f"user{i}@bench.test",
             "password_hash": password, "role": "user", "display_name": f"User {i}", "note": "", "locked": False,
             "bot": False, "discoverable": True, "locale": "en", "created_at": now, "followers_count": 0,
             "following_count": follows, "statuses_count": 0}
            for i in range(1, users + 1)])
        rows = []
        for i in range(1, users + 1):
            targets = [t for t in rng.sample(range(1, users + 1), min(follows + 1, users)) if t != i][:follows]
            rows.extend({"account_id": i, "target_id": t, "show_reblogs": True, "notify": False, "created_at": now}
                        for t in targets)
            if len(rows) >= 50_000:
                conn.execute(insert(Follow), rows)
                rows = []
        if rows:
            conn.execute(insert(Follow), rows)
        batch = []
        start = now - timedelta(days=30)
        for n in range(posts):
            author = rng.randint(1, users)
            body = f"bench post {n} from user{author}"
            batch.append({"account_id": author, "text": body, "content_html": f"<p>{body}</p>", "spoiler_text": "",
                          "sensitive": False, "visibility": "public", "created_at": start + timedelta(seconds=n),
                          "state": "published", "limited": False, "local_public": True, "replies_count": 0,
                          "reblogs_count": 0, "favourites_count": 0})
            if len(batch) >= 20_000:
                conn.execute(insert(Status), batch)
                batch = []
        if batch:
            conn.execute(insert(Status), batch)
        conn.execute(insert(OAuthToken), [
            {"token_hash": digest(t), "account_id": i + 1, "scopes": "read write follow", "created_at": now}
            for i, t in enumerate(tokens)])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('statuses','id'), (SELECT max(id) FROM statuses))"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('accounts','id'), (SELECT max(id) FROM accounts))"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"seeded {users:,} users, ~{users * follows:,} follows, {posts:,} posts in "
          f"{time.perf_counter() - started:.1f}s")
    return tokens


def kept_seed(keep: Path, workdir: Path, args: argparse.Namespace, readers: int) -> tuple[str, list[str]]:
    """A fresh copy of the SQLite database seeded once under `keep` (seeded now if it is missing or was
    seeded with other sizes), so every run starts from the same data without paying for the seeding."""
    keep.mkdir(parents=True, exist_ok=True)
    shape = {"users": args.users, "follows": args.follows, "posts": args.posts, "readers": readers}
    seeded, meta = keep / "seed.sqlite3", keep / "seed.json"
    if not seeded.exists() or not meta.exists() or json.loads(meta.read_text()).get("shape") != shape:
        seeded.unlink(missing_ok=True)
        url = f"sqlite:///{seeded}"
        upgrade(url)
        tokens = seed(url, args.users, args.follows, args.posts, readers=readers)
        meta.write_text(json.dumps({"shape": shape, "tokens": tokens}))
    else:
        print(f"reusing the database seeded in {keep}")
    copy = workdir / "bench.sqlite3"
    shutil.copyfile(seeded, copy)
    upgrade(f"sqlite:///{copy}")  # a database seeded before a later migration: brought up to date
    return f"sqlite:///{copy}", json.loads(meta.read_text())["tokens"]


def start_server(url: str, workers: int = 1, *, moderation: bool = True) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # posting limits off: the benchmarks measure throughput, and each client posts far more than 300 in 3 hours
    env = dict(os.environ, WARDEN_DATABASE_URL=url, WARDEN_RATE_LIMIT_STATUSES="off",
               WARDEN_BASE_URL=f"http://127.0.0.1:{port}",
               WARDEN_DETECTION="on" if moderation else "off", WARDEN_WORKER="1")
    log = open(os.path.join(tempfile.gettempdir(), f"warden-bench-server-{port}.log"), "wb")
    proc = subprocess.Popen([sys.executable, "-m", "warden.cli", "serve", "--port", str(port), "--no-migrate",
                             "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/api/v1/instance", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {log.name}")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process `pid` and its live children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def measured(server_pid: int, base: str, tokens: list[str], concurrency: int, seconds: float,
             make_request, connections: int = 1) -> tuple[list[float], float, int, float, float]:  # type: ignore[no-untyped-def]
    """`drive`, plus the CPU seconds the server and this load generator used meanwhile: on a machine with
    few cores the CPU per request, not the latency, is what decides the throughput."""
    server_before, own_before = process_cpu(server_pid), time.process_time()
    lat, elapsed, errors = asyncio.run(drive(base, tokens, concurrency, seconds, make_request, connections))
    return lat, elapsed, errors, process_cpu(server_pid) - server_before, time.process_time() - own_before


def report(name: str, latencies: list[float], elapsed: float, errors: int, server_cpu: float | None = None,
           client_cpu: float | None = None) -> None:
    latencies.sort()
    if not latencies:
        print(f"{name}: no successful requests ({errors} errors)")
        return

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"{name}: {len(latencies) / elapsed:,.0f}/s over {elapsed:.1f}s ({len(latencies):,} ok, {errors} errors); "
          f"latency p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
          f"mean {statistics.fmean(latencies) * 1000:.1f} ms")
    if server_cpu is not None and client_cpu is not None:
        done = len(latencies) + errors
        print(f"  CPU per request: server {server_cpu / done * 1000:.2f} ms, load generator "
              f"{client_cpu / done * 1000:.2f} ms ({os.cpu_count()} cores shared)")


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator shares the cores with the server, so it
    must cost as little CPU per request as possible (httpx costs several times more)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return status, payload


async def drive(base: str, tokens: list[str], concurrency: int, seconds: float, make_request,  # type: ignore[no-untyped-def]
                connections: int = 1) -> tuple[list[float], float, int]:
    """`concurrency` closed-loop clients for `seconds`. Each sends its requests over `connections`
    keep-alive connections in turn: with `warden serve --workers N` the kernel hashes each connection to
    one process, so with one connection a client the split (3-1 of 4, say) decides the throughput as
    much as the code does; with several, each client's requests spread over the processes, as many
    users' would."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    host, port = base.split("://", 1)[1].split(":")

    async def worker(n: int) -> None:
        nonlocal errors
        rng = random.Random(n)
        conns = [Connection(host, int(port)) for _ in range(connections)]
        turn = 0
        while time.perf_counter() < deadline:
            token = tokens[rng.randrange(len(tokens))]
            conn, turn = conns[turn % len(conns)], turn + 1
            started = time.perf_counter()
            status, _ = await make_request(conn, token, rng)
            if status == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies, time.perf_counter() - started, errors


async def create_post(conn: Connection, token: str, rng: random.Random) -> tuple[int, bytes]:
    body = f"status=benchmark+post+{rng.random()}+%23bench".encode()
    return await conn.request("POST", "/api/v1/statuses", {"Authorization": f"Bearer {token}",
                              "Content-Type": "application/x-www-form-urlencoded"}, body)


async def read_home(conn: Connection, token: str, rng: random.Random) -> tuple[int, bytes]:
    return await conn.request("GET", "/api/v1/timelines/home", {"Authorization": f"Bearer {token}"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--follows", type=int, default=100)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--post-clients", type=int, default=4)
    parser.add_argument("--read-clients", type=int, default=8)
    parser.add_argument("--what", choices=["both", "reads", "posts"], default="both", help="which phases to run")
    parser.add_argument("--connections", type=int, default=1, metavar="K",
                        help="keep-alive connections each client cycles through (spreads a client's requests over "
                             "the --workers processes; default 1)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (warden serve --workers)")
    parser.add_argument("--no-moderation", action="store_true",
                        help="serve with the allow-all gate (WARDEN_DETECTION=off): no detector, no policy")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="SQLite only: seed once into DIR and start every run from a copy of it")
    args = parser.parse_args()
    if args.keep and args.backend != "sqlite":
        parser.error("--keep works with --backend sqlite only")
    moderation = not args.no_moderation
    print(f"Warden platform benchmark on {args.backend}, {os.cpu_count()} cores, {args.workers} server process(es), "
          + ("moderation on (detector, default policy, in-process worker)" if moderation
             else "moderation off (allow-all gate)"))
    readers = min(args.users, 2000)
    with tempfile.TemporaryDirectory(prefix="warden-bench-") as tmp:
        if args.keep:
            (url, tokens), drop = kept_seed(args.keep, Path(tmp), args, readers), (lambda: None)
        else:
            url, drop = fresh_database(args.backend, Path(tmp))
        try:
            if not args.keep:
                upgrade(url)
                tokens = seed(url, args.users, args.follows, args.posts, readers=readers)
            proc, base = start_server(url, args.workers, moderation=moderation)
            try:
                asyncio.run(drive(base, tokens, 2, 2, read_home))  # warm up
                if args.what in ("both", "reads"):
                    result = measured(proc.pid, base, tokens, args.read_clients, args.seconds, read_home,
                                      args.connections)
                    report(f"home timeline reads ({args.read_clients} clients)", *result)
                if args.what in ("both", "posts"):
                    result = measured(proc.pid, base, tokens, args.post_clients, args.seconds, create_post,
                                      args.connections)
                    report(f"create posts ({args.post_clients} clients)", *result)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        finally:
            drop()


if __name__ == "__main__":
    main()
