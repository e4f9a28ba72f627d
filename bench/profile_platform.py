"""Where a request's CPU goes: the hot endpoints under cProfile, in-process, with no HTTP server.

    python bench/bench_platform.py --keep /tmp/warden-bench --seconds 1   # seed once (SQLite)
    python bench/profile_platform.py --keep /tmp/warden-bench              # home reads, posts, the worker
    python bench/profile_platform.py --keep /tmp/warden-bench --what home --top 40
    python bench/profile_platform.py --keep /tmp/warden-bench --no-moderation

On a machine with few cores, CPU per request is what decides throughput, and unlike latency it is
hardly changed by other work on the machine. This calls the ASGI app directly (the full middleware,
routing, dependency and serialisation stack, without uvicorn's HTTP parsing), one request at a time,
on a copy of the database `bench_platform.py --keep` seeded. Work the server hands to the threadpool
(the detector, post writes) runs inline here so the profile sees it. The moderation worker does not
run during the requests: its cost per post is measured afterwards, by draining the outbox the posts
left. Prints CPU milliseconds per request and the functions that cost the most (cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def call(app: Any, method: str, path: str, token: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI app; returns (status, body)."""
    path, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()),
               (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/x-www-form-urlencoded"))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8080)}
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, required=True, metavar="DIR",
                        help="the directory `bench_platform.py --keep DIR` seeded")
    parser.add_argument("--what", choices=["home", "post", "all"], default="all")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=30, help="how many functions to list")
    parser.add_argument("--sort", choices=["cumulative", "tottime"], default="cumulative", help="how to order them")
    parser.add_argument("--no-moderation", action="store_true", help="the allow-all gate (WARDEN_DETECTION=off)")
    parser.add_argument("--no-profiler", action="store_true",
                        help="time the requests without cProfile (its overhead is not the same for every function); "
                             "for instruction counts run this under valgrind --tool=callgrind, once with --requests 0")
    parser.add_argument("--save", type=Path, metavar="PREFIX",
                        help="also write each profile to PREFIX-<kind>.prof (for pstats or snakeviz)")
    args = parser.parse_args()
    meta = args.keep / "seed.json"
    if not meta.exists():
        raise SystemExit(f"{args.keep} holds no seeded database: run bench_platform.py --keep {args.keep} first")
    tokens: list[str] = json.loads(meta.read_text())["tokens"]
    with tempfile.TemporaryDirectory(prefix="warden-profile-") as tmp:
        shutil.copyfile(args.keep / "seed.sqlite3", Path(tmp) / "bench.sqlite3")
        from warden.store.migrate import upgrade

        upgrade(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")  # seeded before a later migration: brought up to date
        os.environ.update(WARDEN_RATE_LIMIT_STATUSES="off", WARDEN_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                          WARDEN_DETECTION="off" if args.no_moderation else "on", WARDEN_WORKER="0")
        asyncio.run(session(args, tokens))


async def session(args: argparse.Namespace, tokens: list[str]) -> None:
    from warden.api import deps
    from warden.api.app import create_app
    from warden.api.routes import statuses as status_routes
    from warden.cases.worker import ModerationWorker

    async def inline(fn: Any, *a: Any, **kw: Any) -> Any:
        return fn(*a, **kw)

    status_routes.offload = inline  # type: ignore[assignment]  # so the profile sees the write path
    deps.offload = inline  # type: ignore[assignment]
    app = create_app(worker=False)
    rng = random.Random(7)
    n = args.requests
    print(f"moderation {'off' if args.no_moderation else 'on'}; {n} requests of each kind, one at a time")

    class Unprofiled:
        def enable(self) -> None: ...
        def disable(self) -> None: ...

    def profiler() -> Any:
        return Unprofiled() if args.no_profiler else cProfile.Profile()

    def show(profile: Any, kind: str) -> None:
        if args.no_profiler:
            return
        if args.save:
            profile.dump_stats(f"{args.save}-{kind}.prof")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)

    async def run_profiled(label: str, requests: list[tuple[str, str, str, bytes]]) -> None:
        for method, path, token, body in requests[:20] if requests else []:  # warm caches (token, accounts, statements)
            await call(app, method, path, token, body)
        profile = profiler()
        cpu = time.process_time()
        profile.enable()
        for method, path, token, body in requests:
            status, payload = await call(app, method, path, token, body)
            if status != 200:
                raise SystemExit(f"{method} {path} -> {status}: {payload[:200]!r}")
        profile.disable()
        cpu = time.process_time() - cpu
        print(f"\n== {label}: {cpu / len(requests) * 1000:.2f} ms CPU each ({len(requests)} requests, "
              f"{cpu:.2f} s CPU, profiler {'off' if args.no_profiler else 'on'}) ==")
        show(profile, "home" if "home" in label else "post")

    if args.what in ("home", "all"):
        await run_profiled("GET /api/v1/timelines/home",
                           [("GET", "/api/v1/timelines/home", rng.choice(tokens), b"") for _ in range(n)])
    if args.what in ("post", "all"):
        await run_profiled("POST /api/v1/statuses", [
            ("POST", "/api/v1/statuses", rng.choice(tokens), f"status=benchmark+post+{rng.random()}+%23bench".encode())
            for _ in range(n)])
        services = app.state.services
        engine = services.extras["moderation"]
        worker = ModerationWorker(services.db, services.settings, engine.store, engine.detector)
        profile = profiler()
        cpu = time.process_time()
        profile.enable()
        handled = 0
        while True:
            count = worker.consumer.poll()
            handled += count
            if not count:
                break
        profile.disable()
        cpu = time.process_time() - cpu
        print(f"\n== moderation worker: {cpu / max(handled, 1) * 1000:.2f} ms CPU per event ({handled} events "
              f"handled, profiler {'off' if args.no_profiler else 'on'}) ==")
        show(profile, "worker")


if __name__ == "__main__":
    main()
