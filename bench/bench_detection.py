"""Benchmark the detection cascade: batch throughput, single-post latency, resident memory.

    .venv/bin/python bench/bench_detection.py [--n 4000] [--single 500] [--threads N] [--long 1200]

The post stream is a seeded sample of real posts from ../shared/data (Parler, Gab, Twitter sets),
or, without the data, Warden's own exemplars mixed with everyday filler posts.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb() -> tuple[float, float]:
    cur = peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                cur = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return cur, peak


def cpu_description() -> str:
    """The CPU's model and the vector instructions int8 inference runs on: onnxruntime's int8 matrix
    products are several times faster with VNNI (AVX-512 or AVX) than with AVX2 alone, so a figure
    means little without it."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model == "unknown CPU":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        return model
    isa = [f for f in ("amx_int8", "avx512_vnni", "avx_vnni", "avx512f", "avx2") if f in flags]
    vnni = "with VNNI" if {"avx512_vnni", "avx_vnni"} & flags else "no VNNI"
    return f"{model}; {', '.join(isa) or 'no AVX2'} ({vnni})"


def corpus(n: int, seed: int = 1) -> tuple[list[str], str]:
    rng = random.Random(seed)
    try:
        from warden.detection.training import datasets as ds

        root = ds.default_data_dir()
        texts = [e.text for fn in (ds.load_parler, ds.load_ghc, ds.load_davidson, ds.load_hatexplain, ds.load_tweeteval)
                 for e in fn(root)]
        return rng.sample(texts, n), f"real posts from {root} (Parler, Gab, Twitter)"
    except Exception:
        from warden.detection.training.exemplars import exemplars

        ex = [t for t, _ in exemplars()]
        filler = ["Lovely morning, coffee and a long walk.", "Anyone watching the match tonight?",
                  "New blog post about our garden is up!", "The bus was late again, classic monday.",
                  "Reading a great book about the history of bridges."]
        return [rng.choice(ex) if rng.random() < 0.1 else rng.choice(filler) for _ in range(n)], "synthetic"


def long_posts() -> dict[str, str]:
    """Three posts of about 5,000 characters: everyday talk (stage 1 settles it), the same with one
    threat in the middle, and a news report full of violent words, which the encoder reads whole."""
    benign = ("The council met on Tuesday to discuss bike lanes and the library budget. " * 70)[:5000]
    threat = benign[:2500] + " I am going to shoot the mayor at the next meeting. " + benign[2500:4950]
    news = ("Police said the gunman shot three people outside the station before officers killed him; "
            "the victims were taken to hospital with stab and gunshot wounds. ") * 40
    return {"everyday": benign, "one threat inside": threat, "violent news": news[:5000]}


def long_stream(texts: list[str], n_chars: int, n: int) -> list[str]:
    """``n`` posts of about ``n_chars`` characters, each made of the bench's posts run together."""
    rng = random.Random(7)
    out = []
    for _ in range(n):
        parts, size = [], 0
        while size < n_chars:
            parts.append(rng.choice(texts))
            size += len(parts[-1]) + 1
        out.append(" ".join(parts)[:n_chars])
    return out


def encoder_floor(det) -> None:
    """The least the encoder can take to read each long post, on this machine: the word pieces it
    reads times what one piece costs in a window on one thread (64-piece windows as the detector
    cuts long posts; 128-piece windows, the cheapest per piece, for reading every piece once),
    spread over the encoder's threads with no overhead at all. Where that floor plus stage 1 is
    above the 5,000-character bar (40 ms), no reading of the whole post by this encoder meets it."""
    import statistics

    import numpy as np

    from warden.detection.encoder import _session
    from warden.detection.normalize import normalize_text

    enc = det.encoder
    one = _session(enc._path, 1)
    posts = long_posts()
    read, wins, owner, spans = det.encoder_windows([normalize_text(posts["violent news"])])
    ids = [p for w in wins for p in w[1:-1]]
    per_piece = {}
    for size in (64, 128):
        window = [wins[0][0], *ids[:size - 2], wins[0][-1]]
        for _ in range(5):
            enc._run_one(one, window)
        took = []
        for _ in range(40):
            s = time.perf_counter()
            enc._run_one(one, window)
            took.append(time.perf_counter() - s)
        per_piece[size] = statistics.median(took) / size * 1000
    print(f"encoder on one thread: {per_piece[64] * 1000:.0f} us a word piece in 64-piece windows, "
          f"{per_piece[128] * 1000:.0f} us in 128-piece windows; {enc.threads} threads")
    for what, post in posts.items():
        read, wins, owner, spans = det.encoder_windows([normalize_text(post)])
        pieces = len(enc.tokenizer.encode(read[0], add_special_tokens=False).ids)
        keep = np.ones(len(wins), dtype=bool) if det.reads_every_window else det.suspicious_windows(read, owner, spans)
        read_pieces = sum(len(w) for w, k in zip(wins, keep) if k)
        print(f"    {what}: {pieces} word pieces in {len(wins)} windows; if stage 1 does not settle it, "
              f"{det.profile} reads {int(keep.sum())} windows ({read_pieces} pieces): the encoder's floor "
              f"{read_pieces * per_piece[64] / enc.threads:.0f} ms; every piece read once, in 128-piece windows: "
              f"{(pieces + 2 * -(-pieces // 126)) * per_piece[128] / enc.threads:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--single", type=int, default=500)
    ap.add_argument("--batch", type=int, default=1024, help="posts per batch (as `warden classify --batch-size`)")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: min(4, cpus))")
    ap.add_argument("--long", type=int, default=1200,
                    help="posts of 5,000 characters (and a quarter as many of 20,000) scored in a fresh process "
                         "for the memory of long texts")
    args = ap.parse_args()
    if args.threads:
        os.environ["WARDEN_DETECTION_THREADS"] = str(args.threads)
    # every post is scored: the cache of recent scores is measured on its own, on a stream with copies
    os.environ["WARDEN_DETECTION_CACHE"] = "0"

    import numpy as np

    from warden.detection import Detector
    from warden.detection.encoder import default_threads

    texts, origin = corpus(args.n)
    det = Detector.load()
    det.score_batch(texts[:32])  # warm up: loads the encoder
    print(f"cpus: {os.cpu_count()} ({cpu_description()}), onnxruntime threads: {default_threads()}, "
          f"model: {det.version}; load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())} (other processes)")
    print(f"corpus: {len(texts)} posts, {origin}, mean {np.mean([len(t) for t in texts]):.0f} chars")

    for name in det.meta.get("profiles", {det.profile: None}):
        prof = Detector.load(profile=name)
        prof._encoder = det.encoder
        t0, c0 = time.perf_counter(), time.process_time()
        stages = [d.stage for d in prof.score_many(texts, batch_size=args.batch)]
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        settled = float(np.mean([s == "linear" for s in stages]))
        tag = " (default)" if name == det.profile else ""
        print(f"cascade batch, profile {name}{tag}: {len(texts) / dt:8.0f} posts/s  (stage 1 settled {settled:.1%}; "
              f"{cpu:.2f} s of CPU for {dt:.2f} s; score_many, as `warden classify`)")
        t0 = time.perf_counter()
        for b in range(0, len(texts), args.batch):
            prof.score_batch(texts[b:b + args.batch])
        dt = time.perf_counter() - t0
        print(f"    score_batch per {args.batch} with highlight spans: {len(texts) / dt:8.0f} posts/s")

    # a raid: 30 % of the posts, one at a time as the write path sends them, are copies of 20 posts
    # that reach the encoder; ScoreCache scores each text once
    from warden.detection.detector import ScoreCache

    rng = random.Random(3)
    to_encoder = [t for t, d in zip(texts, det.score_batch(texts, spans=False)) if d.stage == "encoder"]
    raid = rng.sample(to_encoder, min(20, len(to_encoder)))
    stream = [rng.choice(raid) if rng.random() < 0.3 else t for t in texts[:1000]]
    for size in (4096, 0):
        prof = Detector.load()
        prof._encoder, prof.cache = det.encoder, ScoreCache(size)
        t0 = time.perf_counter()
        for t in stream:
            prof.score(t)
        dt = time.perf_counter() - t0
        print(f"single posts, 30 % of them copies of 20 that reach the encoder: {dt / len(stream) * 1000:.2f} ms "
              f"per post (score cache of {size} posts{', off' if not size else ''})")

    print(f"single-post latency below uses the default profile ({det.profile})")

    lat = []
    for t in texts[: args.single]:
        s = time.perf_counter()
        det.score(t)
        lat.append((time.perf_counter() - s) * 1000)
    lat = np.array(lat)
    print(f"single post latency: p50 {np.percentile(lat, 50):.2f} ms, p99 {np.percentile(lat, 99):.2f} ms, "
          f"max {lat.max():.2f} ms (n={len(lat)})")
    for what, long in long_posts().items():
        lat_long, stage = [], ""
        for _ in range(20):
            s = time.perf_counter()
            stage = det.score(long).stage
            lat_long.append((time.perf_counter() - s) * 1000)
        print(f"single {len(long)}-char post, {what}: p50 {np.percentile(lat_long, 50):.1f} ms, "
              f"p99 {np.percentile(lat_long, 99):.1f} ms (stage {stage})")
    encoder_floor(det)
    # memory of a fresh process that only loads the model and scores posts (the bench process
    # above also holds the data sets it sampled from)
    import json
    import subprocess

    code = ("import json, sys; sys.path.insert(0, %r); from warden.detection import get_detector; "
            "texts = json.loads(sys.stdin.read()); d = get_detector(); "
            "[d.score_batch(texts[i:i + 256]) for i in range(0, len(texts), 256)]; [d.score(t) for t in texts[:50]]; "
            "st = dict(l.split(':', 1) for l in open('/proc/self/status')); "
            "print(int(st['VmRSS'].split()[0]) / 1024, int(st['VmHWM'].split()[0]) / 1024)") % str(Path(__file__).resolve().parents[1])
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts[:1000]), capture_output=True, text=True,
                       check=True)
    cur, peak = map(float, r.stdout.split())
    print(f"resident memory (fresh process, model loaded, 1000 posts scored): {cur:.0f} MB now, {peak:.0f} MB peak")
    # long texts through score_many with the default batch (as `warden classify`): memory must not
    # grow with the posts' length
    for n_chars in (5000, 20000):
        code = ("import json, sys; sys.path.insert(0, %r); from warden.detection import get_detector; "
                "texts = json.loads(sys.stdin.read()); d = get_detector(); n = sum(1 for _ in d.score_many(texts)); "
                "st = dict(l.split(':', 1) for l in open('/proc/self/status')); "
                "print(n, int(st['VmRSS'].split()[0]) / 1024, int(st['VmHWM'].split()[0]) / 1024)") % str(Path(__file__).resolve().parents[1])
        posts = long_stream(texts, n_chars, args.long if n_chars == 5000 else max(1, args.long // 4))
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", code], input=json.dumps(posts), capture_output=True, text=True, check=True)
        n, cur, peak = r.stdout.split()
        print(f"resident memory, {n} posts of {n_chars:,} characters through score_many (default batch; "
              f"{time.perf_counter() - t0:.0f} s): {float(cur):.0f} MB now, {float(peak):.0f} MB peak")


if __name__ == "__main__":
    main()
