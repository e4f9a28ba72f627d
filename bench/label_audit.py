"""What two held-out sets' violence labels count: a hand audit against the model card's definition.

`warden eval` scores violence on HatEval's AG ("aggressive") label and on ETHOS's `violence` column.
This script reads the hand judgements in ``bench/label_audit.json`` (does a post encourage, incite,
threaten or glorify physical violence, by the model card's definition?) and prints:

- HatEval: a seeded random sample of AG positives and negatives, the share of each that is violence
  by the definition (Wilson 95 % interval) and what that share is across the set;
- ETHOS: its whole test split (every positive judged, negatives judged where they name violence),
  the model's AUPRC on ETHOS's labels and on the definition's, and the AUPRC that a model following
  the definition exactly would get on ETHOS's labels: every violent post first, in random order,
  and the rest either in random order or, at best, ETHOS's other positives next.

    python bench/label_audit.py [--data ../shared/data] [--profile balanced]

The judgements name posts by a hash of their text, so no data-set text is copied into the repo.
Results of 2026-12-01: docs/model-card.md ("What two held-out sets' labels count").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warden.detection.training.datasets import default_data_dir, load_ethos, load_hateval  # noqa: E402
from warden.detection.detector import Detector  # noqa: E402
from warden.detection.training.stats import average_precision  # noqa: E402

JUDGEMENTS = Path(__file__).with_name("label_audit.json")


def text_id(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def judged(table: dict, text: str) -> str:
    return table.get(text_id(text), ["no"])[0]


def count_line(name: str, verdicts: list[str]) -> str:
    n = len(verdicts)
    yes, border = verdicts.count("yes"), verdicts.count("borderline")
    lo, hi = wilson(yes, n)
    return (f"  {name}: {n} judged, {yes} violence ({100 * yes / n:.1f} %, 95 % interval "
            f"{100 * lo:.1f}-{100 * hi:.1f} %), {border} borderline")


def hateval(data: Path, det: Detector, spec: dict) -> None:
    examples = load_hateval(data)
    pos = [e for e in examples if e.labels["violence"] == 1]
    neg = [e for e in examples if e.labels["violence"] == 0]
    rng = random.Random(spec["seed"])
    sample_pos, sample_neg = rng.sample(pos, spec["positives"]), rng.sample(neg, spec["negatives"])
    table = spec["judged"]
    ids = {text_id(e.text) for e in sample_pos + sample_neg}
    missing = set(table) - ids
    if missing:
        raise SystemExit(f"label_audit: HatEval judgements for posts not in the sample: {sorted(missing)}")
    vp = [judged(table, e.text) for e in sample_pos]
    vn = [judged(table, e.text) for e in sample_neg]
    print(f"HatEval (AG label): {len(pos)} positives, {len(neg)} negatives")
    print(count_line("AG positives", vp))
    print(count_line("AG negatives", vn))
    yes_p, yes_n = vp.count("yes") / len(vp), vn.count("yes") / len(vn)
    print(f"  across the set: about {yes_p * len(pos):.0f} AG positives and {yes_n * len(neg):.0f} AG negatives "
          f"are violence by the definition; {100 * (1 - yes_p):.0f} % of the AG positives are not")
    y = np.array([e.labels["violence"] for e in examples])
    p = np.array([d.scores["violence"] for d in det.score_many([e.text for e in examples])])
    score = {text_id(e.text): s for e, s in zip(examples, p)}
    for e in sample_pos + sample_neg:
        if judged(table, e.text) != "no":
            print(f"    {text_id(e.text)}  AG={e.labels['violence']}  {judged(table, e.text):10s}  "
                  f"violence {score[text_id(e.text)]:.3f}  ({table[text_id(e.text)][1]})")
    print(f"  model AUPRC on the AG label: {average_precision(y, p):.3f}")


def ethos(data: Path, det: Detector, rng: np.random.Generator, draws: int, table: dict) -> None:
    examples = [e for e in load_ethos(data) if e.split == "test" and e.labels["violence"] is not None]
    y = np.array([e.labels["violence"] for e in examples])
    verdict = np.array([judged(table, e.text) for e in examples])
    unjudged = [text_id(e.text) for e, v in zip(examples, y) if v and text_id(e.text) not in table]
    if unjudged:
        raise SystemExit(f"label_audit: ETHOS positives without a judgement: {unjudged}")
    print(f"\nETHOS (test split): {y.sum()} positives, {len(y) - y.sum()} negatives")
    print(count_line("positives", list(verdict[y == 1])))
    print(f"    {(verdict[y == 1] == 'no').sum()} positives name no violence")
    print(count_line("negatives", list(verdict[y == 0])))
    p = np.array([d.scores["violence"] for d in det.score_batch([e.text for e in examples], spans=False)])
    print(f"  model AUPRC on ETHOS's labels: {average_precision(y, p):.3f}")
    keep = verdict != "borderline"
    print(f"  model AUPRC on the definition's (borderline posts left out, {keep.sum()} posts): "
          f"{average_precision((verdict[keep] == 'yes').astype(int), p[keep]):.3f}")
    violent = verdict == "yes"
    for label, best in (("the rest in random order", False), ("ETHOS's other positives next, at best", True)):
        aps = []
        for _ in range(draws):
            s = rng.random(len(y)) + 2.0 * violent
            if best:
                s = s + 1.0 * ((y == 1) & ~violent)
            aps.append(average_precision(y, s))
        aps = np.array(aps)
        lo, hi = np.percentile(aps, [2.5, 97.5])
        print(f"  a model following the definition exactly, {label}: AUPRC {aps.mean():.3f} "
              f"(95 % of orders {lo:.3f}-{hi:.3f}; {100 * (aps >= 0.85).mean():.0f} % reach 0.85)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--profile", default="balanced")
    ap.add_argument("--draws", type=int, default=5000)
    args = ap.parse_args()
    spec = json.loads(JUDGEMENTS.read_text(encoding="utf-8"))
    det = Detector.load(profile=args.profile)
    print(f"model {det.version}, profile {args.profile}\n")
    hateval(args.data, det, spec["hateval_sample"])
    ethos(args.data, det, np.random.default_rng(0), args.draws, spec["ethos_test"]["judged"])


if __name__ == "__main__":
    main()
