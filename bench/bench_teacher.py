"""The fine-tuned teacher (all-mpnet-base-v2, `warden train --teacher`) against the shipped serving
model: held-out violence AUPRC on the same rows, and what the teacher costs per post on the CPU.

    python bench/bench_teacher.py [--teacher data/teacher/mpnet-ft] [--negatives 600] [--threads 2]

Rows: the held-out violence sets `warden eval` reports (training.evaluate.EVAL_SETS), HatEval and
ETHOS on the definition's labels (definition_labels). Encoding every held-out post with a 12-layer
768-d model takes hours on two cores, so each set is cut to a fixed seeded subset: every positive
and at most ``--negatives`` negatives (``--negatives 0``: the whole set). A subset keeps its
positives and drops negatives, so its AUPRC is higher than the whole set's; the two systems are
compared on the same rows (stats.compare: paired stratified bootstrap). The shipped model scores as
the `thorough` profile (every window read); the teacher reads the first ``max_len`` word pieces.

Speed: single-post latency (p50, p99 over ``--posts`` posts of held-out text, one at a time) of the
teacher in torch fp32 and, exported to int8 ONNX as the serving encoder is (export.export_encoder),
in onnxruntime, beside the shipped model's `balanced` and `thorough` `score` on the same posts.
Needs the train extra and the teacher packages (a venv with torch; nothing is downloaded).
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def heldout_rows(examples, definitions, negatives: int, seed: int = 7) -> dict[str, tuple[list[int], np.ndarray]]:
    """Per held-out violence set: (row indices, labels) of every positive and a seeded sample of at
    most ``negatives`` negatives (every row when ``negatives`` is 0), in data order."""
    from warden.detection.training.evaluate import EVAL_SETS

    out = {}
    for source, sp in EVAL_SETS["violence"]:
        name = f"{source}/{sp}"
        rows = [i for i, e in enumerate(examples) if e.source == source and e.split == sp
                and e.labels.get("violence") is not None]
        if name in definitions:
            y = definitions[name].labels([examples[i].text for i in rows]).astype(int)
        else:
            y = np.array([examples[i].labels["violence"] for i in rows], dtype=int)
        pos = [r for r, v in zip(rows, y) if v == 1]
        neg = [r for r, v in zip(rows, y) if v == 0]
        if negatives and len(neg) > negatives:
            neg = random.Random(f"{seed}-{name}").sample(neg, negatives)
        keep = sorted(pos + neg)
        label = dict(zip(rows, y))
        out[name] = (keep, np.array([label[r] for r in keep], dtype=int))
    return out


def percentiles(ms: list[float]) -> str:
    a = np.asarray(ms)
    return f"p50 {np.percentile(a, 50):6.1f} ms  p99 {np.percentile(a, 99):6.1f} ms"


def onnx_session(teacher, folder: Path, threads: int):
    """The teacher's encoder exported to int8 ONNX (as the serving encoder is) and an onnxruntime
    session on ``threads`` threads; with its tokenizer."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from warden.detection.training.export import export_encoder

    onnx_path = export_encoder(folder, teacher.model, tokenizer=teacher.tokenizer_json)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.enable_truncation(teacher.max_len)
    return sess, tok, onnx_path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teacher", type=Path, default=ROOT / "data" / "teacher" / "mpnet-ft")
    ap.add_argument("--negatives", type=int, default=600, help="negatives kept per set (0: every row)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--posts", type=int, default=200, help="posts timed one at a time")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--skip-auprc", action="store_true")
    ap.add_argument("--skip-onnx", action="store_true")
    args = ap.parse_args()

    import torch

    from warden.detection.detector import Detector
    from warden.detection.normalize import normalize_text
    from warden.detection.training import datasets as ds
    from warden.detection.training import definition_labels
    from warden.detection.training.stats import compare
    from warden.detection.training.teacher import Teacher

    torch.set_num_threads(args.threads)
    teacher = Teacher.load(args.teacher)
    print(f"teacher {args.teacher} ({teacher.digest}, max_len {teacher.max_len}); torch threads {args.threads}")
    thorough = Detector.load(profile="thorough")
    print(f"shipped {thorough.version}")
    examples = ds.load_all(None, include_eval=True)
    sets = heldout_rows(examples, definition_labels.load(), args.negatives)

    if not args.skip_auprc:
        print(f"\nheld-out violence AUPRC (subset: every positive, <= {args.negatives or 'all'} negatives; "
              f"95 % paired bootstrap, {args.boot} resamples)")
        print(f"{'set':22} {'n':>5} {'pos':>4}  {'teacher':>22}  {'shipped thorough':>22}  {'teacher / shipped':>20}  s/post")
        for name, (rows, y) in sets.items():
            texts = [examples[i].text for i in rows]
            t0 = time.time()
            p_t = teacher.score([normalize_text(t) for t in texts])[:, 0]
            per = (time.time() - t0) / len(rows)
            p_s = np.array([d.scores["violence"] for d in thorough.score_batch(texts, spans=False)])
            c = compare(y, p_t, p_s, n_boot=args.boot)
            print(f"{name:22} {len(y):5d} {int(y.sum()):4d}  {c['a']:.3f} [{c['a_ci'][0]:.3f}-{c['a_ci'][1]:.3f}]  "
                  f"{c['b']:.3f} [{c['b_ci'][0]:.3f}-{c['b_ci'][1]:.3f}]  "
                  f"{c['ratio']:.2f} [{c['ratio_ci'][0]:.2f}-{c['ratio_ci'][1]:.2f}]  {per:.3f}", flush=True)

    # single-post latency on held-out posts, one at a time
    pool = [examples[i].text for rows, _ in sets.values() for i in rows]
    posts = random.Random(3).sample(pool, min(args.posts, len(pool)))
    norm = [normalize_text(t) for t in posts]
    print(f"\nsingle post, {len(posts)} held-out posts (mean {np.mean([len(t) for t in posts]):.0f} characters), "
          f"{args.threads} threads")
    # fresh detectors: the ones above have scored these posts already
    for name, det in (("shipped balanced", Detector.load(profile="balanced")),
                      ("shipped thorough", Detector.load(profile="thorough"))):
        det.score(posts[0])
        ms = []
        for t in posts:
            t0 = time.perf_counter()
            det.score(t)
            ms.append((time.perf_counter() - t0) * 1000)
        print(f"  {name:28} {percentiles(ms)}")
    teacher.score(norm[:1])
    ms = []
    for t in norm:
        t0 = time.perf_counter()
        teacher.score([t])
        ms.append((time.perf_counter() - t0) * 1000)
    print(f"  {'teacher, torch fp32':28} {percentiles(ms)}")
    if not args.skip_onnx:
        with tempfile.TemporaryDirectory() as td:
            t0 = time.time()
            sess, tok, onnx_path = onnx_session(teacher, Path(td), args.threads)
            print(f"  (teacher exported to int8 ONNX in {time.time() - t0:.0f}s, {onnx_path.stat().st_size / 1e6:.0f} MB)")
            ms = []
            for t in norm:
                t0 = time.perf_counter()
                e = tok.encode(t)
                ids = np.array([e.ids], dtype=np.int64)
                h = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
                _ = h.mean(1) @ teacher.W.T + teacher.b
                ms.append((time.perf_counter() - t0) * 1000)
            print(f"  {'teacher, onnxruntime int8':28} {percentiles(ms)}")


if __name__ == "__main__":
    main()
