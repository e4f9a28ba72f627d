"""Unit costs for capacity planning: CPU time per API request, post write, detection and worker event.

    python bench/unit_costs.py                          # SQLite
    python bench/unit_costs.py --backend postgresql     # PostgreSQL; also the database's own CPU per operation

Wall-clock throughput on a shared machine says more about the neighbours than about Warden, so this
counts CPU seconds instead: it reads the processes' user + system time from /proc before and after
a batch of one kind of operation and divides by the batch size. The server (`warden serve`, one
process), the outbox worker (`warden worker`, its own process) and, on PostgreSQL, the backends
serving this database are measured separately. Detection is measured in this process, one post at a
time as the write path scores it, split by the cascade stage that settled the post.

docs/scaling.md turns these figures into sizes for 10k, 1M and 15M-user networks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import Connection, fresh_database, seed  # noqa: E402

from warden.store.migrate import upgrade  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (all their threads), from /proc/<pid>/stat."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


def texts(n: int) -> list[str]:
    from surge_model import load_corpus

    corpus = load_corpus()
    rng = random.Random(5)
    return [rng.choice(corpus.violent) if rng.random() < 0.05 else rng.choice(corpus.benign) for _ in range(n)]


def detection_costs(sample: list[str]) -> dict[str, Any]:
    """CPU ms per post, one post at a time (the write path's call), by the stage that settled it."""
    os.environ["WARDEN_DETECTION_CACHE"] = "0"
    from warden.detection import Detector

    detector = Detector.load()
    detector.score(sample[0])  # loads the encoder
    by_stage: dict[str, list[float]] = {}
    for post in sample:
        c0 = time.process_time()
        stage = detector.score(post).stage
        by_stage.setdefault(stage, []).append((time.process_time() - c0) * 1000)
    everything = [x for v in by_stage.values() for x in v]
    # a server scores posts as they arrive, with gaps between them: what does a post cost then?
    # (onnxruntime's intra-op threads spin after each run unless session.intra_op.allow_spinning=0)
    spaced = sample[:200]
    c0 = time.process_time()
    for post in spaced:
        detector.score(post)
        time.sleep(0.02)
    spaced_ms = (time.process_time() - c0) / len(spaced) * 1000
    return {"posts": len(everything), "cpu_ms_per_post": round(sum(everything) / len(everything), 2),
            "cpu_ms_per_post_one_every_20ms": round(spaced_ms, 2),
            "by_stage": {stage: {"share": round(len(v) / len(everything), 3), "cpu_ms": round(sum(v) / len(v), 2)}
                         for stage, v in sorted(by_stage.items())}}


class Server:
    def __init__(self, url: str, detection: bool, workdir: Path) -> None:
        from bench_surge import _free_port

        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, WARDEN_DATABASE_URL=url, WARDEN_RATE_LIMIT_STATUSES="off", WARDEN_BASE_URL=self.base, WARDEN_WORKER="0",
                   WARDEN_DETECTION="on" if detection else "off")
        self.serve = subprocess.Popen([sys.executable, "-m", "warden.cli", "serve", "--port", str(self.port),
                                       "--no-migrate"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=open(workdir / f"serve-{self.port}.log", "wb"))
        self.worker = subprocess.Popen([sys.executable, "-m", "warden.cli", "worker"], env=env,
                                       stdout=subprocess.DEVNULL, stderr=open(workdir / f"worker-{self.port}.log", "wb"))
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/api/v1/instance", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise SystemExit(f"server did not start; see {workdir}")

    def stop(self) -> None:
        for proc in (self.serve, self.worker):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def database_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to this database (empty on SQLite)."""
    if not url.startswith("postgresql"):
        return []
    name = url.rsplit("/", 1)[1]
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = [row[0] for row in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d "
                                                    "AND pid <> pg_backend_pid()"), {"d": name})]
    engine.dispose()
    return pids


async def batch(base: str, n: int, clients: int, make) -> int:  # type: ignore[no-untyped-def]
    host, port = base.split("://", 1)[1].split(":")
    counter = iter(range(n))
    ok = 0

    async def client(c: int) -> None:
        nonlocal ok
        conn = Connection(host, int(port))
        for i in counter:
            method, path, headers, body = make(i)
            status, _ = await conn.request(method, path, headers, body)
            ok += status == 200

    await asyncio.gather(*(client(c) for c in range(clients)))
    return ok


def wait_drained(url: str, timeout: float = 300) -> None:
    from warden.store.models import OutboxEvent
    from warden.store.moderation_models import ConsumerPosition

    engine = create_engine(url)
    deadline = time.time() + timeout
    with engine.connect() as conn:
        while time.time() < deadline:
            last = conn.scalar(select(func.max(OutboxEvent.id))) or 0
            position = conn.scalar(select(ConsumerPosition.position).where(ConsumerPosition.name == "moderation")) or 0
            if position >= last:
                break
            conn.rollback()
            time.sleep(0.2)
    engine.dispose()


def measure(server: Server, url: str, name: str, n: int, clients: int, make, results: dict[str, Any],  # type: ignore[no-untyped-def]
            worker_too: bool = False) -> None:
    asyncio.run(batch(server.base, min(50, n), clients, make))  # warm up this path (and its connections)
    if worker_too:
        wait_drained(url)
    db = database_pids(url)
    s0, w0, d0 = cpu_seconds([server.serve.pid]), cpu_seconds([server.worker.pid]), cpu_seconds(db)
    t0 = time.perf_counter()
    ok = asyncio.run(batch(server.base, n, clients, make))
    wall = time.perf_counter() - t0
    if worker_too:
        wait_drained(url)
    db = sorted(set(db) | set(database_pids(url)))
    row = {"n": ok, "server_cpu_ms": round((cpu_seconds([server.serve.pid]) - s0) / max(ok, 1) * 1000, 3),
           "wall_s": round(wall, 2)}
    if worker_too:
        row["worker_cpu_ms_per_event"] = round((cpu_seconds([server.worker.pid]) - w0) / max(ok, 1) * 1000, 3)
    if db:
        row["database_cpu_ms"] = round((cpu_seconds(db) - d0) / max(ok, 1) * 1000, 3)
    results[name] = row
    print(f"  {name}: {json.dumps(row)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=1000, help="operations per measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "unit_costs")
    args = parser.parse_args()
    print(f"Warden unit costs on {args.backend}, {os.cpu_count()} cores (CPU seconds per operation)", flush=True)
    sample = texts(args.n)
    results: dict[str, Any] = {"backend": args.backend, "cores": os.cpu_count()}
    results["detection"] = detection_costs(sample)
    print(f"  detection: {json.dumps(results['detection'])}", flush=True)
    with tempfile.TemporaryDirectory(prefix="warden-units-") as tmp:
        url, drop = fresh_database(args.backend, Path(tmp))
        try:
            upgrade(url)
            tokens = seed(url, 2000, 100, 20_000, readers=2000)
            rng = random.Random(9)

            def auth(i: int) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[rng.randrange(len(tokens))]}"}

            def post(i: int) -> tuple[str, str, dict[str, str], bytes]:
                return ("POST", "/api/v1/statuses", {**auth(i), "Content-Type": "application/x-www-form-urlencoded"},
                        f"status={quote_plus(sample[i % len(sample)])}".encode())

            for detection in (False, True):
                server = Server(url, detection, Path(tmp))
                try:
                    if not detection:
                        measure(server, url, "instance (bare request)", args.n, args.clients,
                                lambda i: ("GET", "/api/v1/instance", {}, b""), results)
                        measure(server, url, "home timeline read", args.n, args.clients,
                                lambda i: ("GET", "/api/v1/timelines/home", auth(i), b""), results)
                        measure(server, url, "post write, detection off", args.n, args.clients, post, results,
                                worker_too=True)
                    else:
                        measure(server, url, "post write, detection on", args.n, args.clients, post, results,
                                worker_too=True)
                finally:
                    server.stop()
        finally:
            drop()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.backend}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
