"""Benchmark detection through the pool (warden/detection/pool.py) against in-process detection.

    .venv/bin/python bench/bench_pool.py [--n 400] [--callers 1,8,32] [--broker nats://127.0.0.1:4222]

N caller threads, each scoring one post at a time as the write path does (``prescore`` in the
threadpool): in-process (``Detector.score``, the embedded default) and through ``PoolDetector`` with
one pool worker in a separate process (``run_pool_worker``), over NATS. Prints posts/s, p50/p99
latency per post, how many requests the callers' posts travelled in (the client's batching), and
the resident memory of an API node with and without the pool (the pool's API node never loads the
encoder). Needs a NATS server. The score cache is off, so every post is scored. On a machine where
the load generator, the API side and the worker share the cores, the figures say how the pieces
behave, not what separate machines would reach.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["WARDEN_DETECTION_CACHE"] = "0"

WORKER = """
import sys, threading, signal
sys.path.insert(0, {root!r})
from warden.config import Settings
from warden.detection import Detector
from warden.detection.pool import run_pool_worker
det = Detector.load(); det.encoder_logits(["warm up the encoder"])
stop, ready = threading.Event(), threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
threading.Thread(target=lambda: (ready.wait(), print("ready", flush=True)), daemon=True).start()
run_pool_worker(Settings(broker_url={url!r}, broker_namespace={ns!r}), det, stop, ready=ready)
"""

MEMORY = """
import json, sys
sys.path.insert(0, {root!r})
from warden.detection import Detector
texts = json.loads(sys.stdin.read())
det = Detector.load()
if {pool!r}:
    [det.first_stage([t]) for t in texts]     # what an API node of the pool runs
else:
    [det.score(t) for t in texts]
st = dict(l.split(':', 1) for l in open('/proc/self/status'))
print(int(st['VmRSS'].split()[0]) // 1024, int(st['VmHWM'].split()[0]) // 1024)
"""


def run_callers(score, texts: list[str], callers: int) -> tuple[float, list[float], int]:
    """Score ``texts`` one at a time from ``callers`` threads; (wall seconds, latencies in ms, how
    many came back unscored)."""
    lat: list[float] = []
    unscored = [0]
    lock = threading.Lock()
    it = iter(texts)

    def caller() -> None:
        while True:
            with lock:
                t = next(it, None)
            if t is None:
                return
            s = time.perf_counter()
            stage = score(t).stage
            took = (time.perf_counter() - s) * 1000
            with lock:
                lat.append(took)
                unscored[0] += stage == "unavailable"

    threads = [threading.Thread(target=caller) for _ in range(callers)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0, lat, unscored[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400, help="posts per run")
    ap.add_argument("--callers", default="1,8,32", help="concurrent callers, comma-separated")
    ap.add_argument("--broker", default=os.environ.get("WARDEN_BROKER_URL", "nats://127.0.0.1:4222"))
    args = ap.parse_args()

    import numpy as np
    from bench_detection import corpus, cpu_description

    from warden.detection import Detector
    from warden.detection.pool import PoolClient, PoolDetector

    texts, origin = corpus(args.n)
    local = Detector.load()
    local.score_batch(texts[:16])  # loads the encoder
    to_encoder = sum(d.stage == "encoder" for d in local.score_batch(texts, spans=False))
    print(f"cpus: {os.cpu_count()} ({cpu_description()}), model {local.version}; the machine may be shared")
    print(f"corpus: {len(texts)} posts, {origin}; {to_encoder} of them reach the encoder")

    ns = f"bench-pool-{secrets.token_hex(3)}"
    worker = subprocess.Popen([sys.executable, "-c", WORKER.format(root=str(ROOT), url=args.broker, ns=ns)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready", "pool worker did not start"
        api_side = Detector.load()
        pooled = PoolDetector(api_side, PoolClient(args.broker, ns, api_side.version, timeout=10))
        time.sleep(0.2)
        pooled.score_batch(texts[:16])  # warm up the connection
        for callers in [int(c) for c in args.callers.split(",")]:
            for name, score in (("in-process", local.score), ("pool", pooled.score)):
                before = pooled.client.requests
                wall, lat, missed = run_callers(score, texts, callers)
                a = np.array(lat)
                extra = f", {to_encoder} encoder posts in {pooled.client.requests - before} requests" \
                    if name == "pool" else ""
                unavailable = f", {missed} unavailable" if missed else ""
                print(f"{callers:3d} callers, {name:10s}: {len(texts) / wall:7.0f} posts/s, "
                      f"p50 {np.percentile(a, 50):6.2f} ms, p99 {np.percentile(a, 99):7.2f} ms{extra}{unavailable}")
        pooled.close()
    finally:
        worker.terminate()
        worker.wait(15)

    for pool in (False, True):
        r = subprocess.run([sys.executable, "-c", MEMORY.format(root=str(ROOT), pool=pool)],
                           input=json.dumps(texts[:300]), capture_output=True, text=True, check=True)
        cur, peak = r.stdout.split()
        what = "API node with the pool (stage 1 only)" if pool else "API node in-process (both stages)"
        print(f"resident memory, {what}: {cur} MB now, {peak} MB peak")


if __name__ == "__main__":
    main()
