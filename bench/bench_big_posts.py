"""Big hostile posts against a real `warden serve` process (issue 29, item 6).

    python bench/bench_big_posts.py                  # SQLite, detection on, 10 s per phase
    python bench/bench_big_posts.py --seconds 5 --backend postgresql

Prints the time the server takes to refuse a 1 MB post (422, over the 500-character limit) and a 50 MB
body (413, announced by Content-Length: refused before it is sent), then the home-timeline latency of
four readers alone and while four other clients send 1 MB posts as fast as they are answered. Before
the fix a 1 MB post was scored by the detector before its length was checked (2.65 s each), so four
such clients starved every other request. The server and this load generator share the machine's
cores: say how many (and how loaded) when you report the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_platform import Connection, fresh_database, seed, start_server  # noqa: E402

from warden.store.migrate import upgrade  # noqa: E402

ONE_MB_POST = orjson.dumps({"status": "a" * 1_000_000})


async def refuse_one_mb(base: str, token: str, times: int) -> list[float]:
    host, port = base.split("://", 1)[1].split(":")
    conn = Connection(host, int(port))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    took = []
    for _ in range(times):
        started = time.perf_counter()
        status, _ = await conn.request("POST", "/api/v1/statuses", headers, ONE_MB_POST)
        took.append(time.perf_counter() - started)
        assert status == 422, status
    return took


def refuse_fifty_mb(base: str, token: str) -> float:
    host, port = base.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        started = time.perf_counter()
        sock.sendall(f"POST /api/v1/statuses HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n".encode())
        answer = sock.recv(4096)
        took = time.perf_counter() - started
    assert answer.split(b" ", 2)[1] == b"413", answer[:200]
    return took


async def phase(base: str, readers: list[str], posters: list[str], seconds: float) -> tuple[list[float], int]:
    """Home-timeline latencies of `readers` while `posters` send 1 MB posts; (latencies, big posts answered)."""
    host, port = base.split("://", 1)[1].split(":")
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    big = 0

    async def reader(token: str) -> None:
        conn = Connection(host, int(port))
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status, _ = await conn.request("GET", "/api/v1/timelines/home", {"Authorization": f"Bearer {token}"})
            assert status == 200, status
            latencies.append(time.perf_counter() - started)

    async def poster(token: str) -> None:
        nonlocal big
        conn = Connection(host, int(port))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            await conn.request("POST", "/api/v1/statuses", headers, ONE_MB_POST)
            big += 1

    await asyncio.gather(*(reader(t) for t in readers), *(poster(t) for t in posters))
    return latencies, big


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"median {statistics.median(ordered) * 1000:.1f} ms, p90 {ordered[int(len(ordered) * 0.9)] * 1000:.1f} ms "
            f"({len(ordered)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="warden-bench-big-") as workdir:
        url, drop = fresh_database(args.backend, Path(workdir))
        try:
            upgrade(url)
            tokens = seed(url, users=1000, follows=50, posts=20_000, readers=9)
            proc, base = start_server(url)
            try:
                refusals = asyncio.run(refuse_one_mb(base, tokens[8], 5))
                print(f"1 MB post refused (422) in {ms(refusals)}")
                print(f"50 MB body refused (413) in {refuse_fifty_mb(base, tokens[8]) * 1000:.1f} ms, unread")
                alone, _ = asyncio.run(phase(base, tokens[:4], [], args.seconds))
                print(f"home timeline, 4 readers alone: {ms(alone)}")
                loaded, big = asyncio.run(phase(base, tokens[:4], tokens[4:8], args.seconds))
                print(f"home timeline, 4 readers while 4 clients send 1 MB posts ({big} refused): {ms(loaded)}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
