"""Streaming benchmark: post -> open stream delivery latency on the embedded default.

    python bench/bench_streaming.py                          # SQLite, 50 followers, 10 posts/s for 10 s
    python bench/bench_streaming.py --backend postgresql --followers 200 --rate 20 --seconds 20

It starts `warden serve` in its own process on a fresh database, creates one author and N followers,
opens a `user` stream (WebSocket) for each follower, posts at a steady rate and prints, over every
(post, follower) pair, the time from sending the POST to the `update` frame's arrival: p50/p90/p99/max,
and how many frames never came. The outbox tail polls every 50 ms, which bounds the floor.
The server and the load generator share this machine's cores: say how many when you report figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_platform import fresh_database, start_server  # noqa: E402

from warden.platform import accounts, auth  # noqa: E402
from warden.platform.auth import hash_password  # noqa: E402
from warden.store.db import Database  # noqa: E402
from warden.store.migrate import upgrade  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def make_users(url: str, followers: int) -> tuple[tuple[int, str], list[str]]:
    """The author (id, token) and the followers' tokens, each follower following the author."""
    from warden.store.models import Follow

    db = Database(url)
    password = hash_password("bench-password")
    tokens: list[str] = []
    with db.write() as session:
        author = accounts.register(session, username="author", email="author@bench.test", password="bench-password",
                                   password_hash=password)
        author_token = auth.issue_token(session, app_id=None, account_id=author.id, scopes="read write").access_token
        for i in range(followers):
            reader = accounts.register(session, username=f"reader{i}", email=f"reader{i}@bench.test", password="bench-password",
                                       password_hash=password)
            session.add(Follow(account_id=reader.id, target_id=author.id))
            tokens.append(auth.issue_token(session, app_id=None, account_id=reader.id, scopes="read").access_token)
    db.dispose()
    return (author.id, author_token), tokens


async def collect_updates(ws: websockets.ClientConnection, arrivals: list[tuple[str, float]]) -> None:
    """Append (status id, arrival time) for every `update` frame on `ws` until it closes."""
    async for message in ws:
        frame = json.loads(message)
        if frame.get("event") == "update":
            arrivals.append((json.loads(frame["payload"])["id"], time.perf_counter()))


async def run(base: str, author_token: str, tokens: list[str], rate: float, seconds: float) -> None:
    ws_url = base.replace("http://", "ws://") + "/api/v1/streaming?stream=user"
    sent: dict[str, float] = {}
    #: (status id, arrival time): a frame may arrive before the POST's response does
    arrivals: list[tuple[str, float]] = []
    sockets = [await websockets.connect(ws_url, additional_headers={"Authorization": f"Bearer {t}"},
                                        max_queue=None) for t in tokens]

    listeners = [asyncio.create_task(collect_updates(ws, arrivals)) for ws in sockets]
    posts = int(rate * seconds)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {author_token}"},
                                 timeout=30) as http:
        started = time.perf_counter()
        for n in range(posts):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            t0 = time.perf_counter()
            response = await http.post("/api/v1/statuses", data={"status": f"bench post {n} #bench"})
            sent[response.json()["id"]] = t0
    expected = posts * len(tokens)
    deadline = time.perf_counter() + 15.0  # stragglers: until all arrived, or nothing came for 15 s
    while len(arrivals) < expected and time.perf_counter() < deadline:
        before = len(arrivals)
        await asyncio.sleep(0.5)
        if len(arrivals) > before:
            deadline = time.perf_counter() + 15.0
    for task in listeners:
        task.cancel()
    for ws in sockets:
        await ws.close()
    latencies = [arrived - sent[status_id] for status_id, arrived in arrivals if status_id in sent]
    ms = [v * 1000 for v in latencies]
    print(f"post -> stream ({len(tokens)} followers, {rate:g} posts/s, {posts} posts): "
          f"p50 {pct(ms, 0.5):.1f} ms  p90 {pct(ms, 0.9):.1f} ms  p99 {pct(ms, 0.99):.1f} ms  "
          f"max {max(ms, default=float('nan')):.1f} ms  delivered {len(latencies)}/{expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warden-bench-streaming-") as workdir:
        url, drop = fresh_database(args.backend, Path(workdir))
        upgrade(url)
        (_author_id, author_token), tokens = make_users(url, args.followers)
        proc, base = start_server(url)
        try:
            asyncio.run(run(base, author_token, tokens, args.rate, args.seconds))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            drop()


if __name__ == "__main__":
    main()
