"""Ranking metrics with their uncertainty, for `warden eval` (numpy only).

Held-out violence positives are few (28 in ETHOS's test split, 154 in Gab's whole corpus), so an
AUPRC on its own says little about whether one system beats another. ``compare`` resamples the
posts (positives and negatives separately, so every resample keeps the set's base rate) and
scores both systems on the same resample, which gives an interval for their ratio.
"""
from __future__ import annotations

import numpy as np


def cuts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every way to flag the rows scored at or above a threshold, high to low, one cut per distinct
    score (tied scores are flagged together): (the threshold, true positives, rows flagged)."""
    order = np.argsort(-p, kind="mergesort")
    p, y = p[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]  # last row of each group of tied scores
    return p[last], np.cumsum(y)[last], last + 1


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the precision-recall curve as a step sum, AP = sum_n (R_n - R_{n-1}) P_n over
    distinct score thresholds (tied scores are one threshold), as scikit-learn computes it."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if y.sum() == 0:
        return float("nan")
    _, tp, flagged = cuts(y, p)
    precision = tp / flagged
    recall = tp / tp[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def compare(y: np.ndarray, p_a: np.ndarray, p_b: np.ndarray, n_boot: int = 300, seed: int = 0,
            level: float = 0.95) -> dict:
    """AUPRC of systems a and b on one set, a ÷ b and a - b, each with a stratified paired bootstrap
    interval at ``level``."""
    y = np.asarray(y).astype(bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    ap_a, ap_b = average_precision(y, p_a), average_precision(y, p_b)
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, 2))
    for k in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boot[k] = average_precision(y[idx], p_a[idx]), average_precision(y[idx], p_b[idx])
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    ratio = boot[:, 0] / np.maximum(boot[:, 1], 1e-12)
    return {"a": ap_a, "a_ci": [float(x) for x in np.percentile(boot[:, 0], [lo, hi])],
            "b": ap_b, "b_ci": [float(x) for x in np.percentile(boot[:, 1], [lo, hi])],
            "ratio": ap_a / ap_b if ap_b > 0 else float("inf"),
            "ratio_ci": [float(x) for x in np.percentile(ratio, [lo, hi])],
            "diff": ap_a - ap_b, "diff_ci": [float(x) for x in np.percentile(boot[:, 0] - boot[:, 1], [lo, hi])],
            "n_boot": n_boot}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion of ``k`` in ``n`` (95 % at the default ``z``); it
    stays inside [0, 1] and is not empty at k = 0, where a normal interval would be."""
    if n <= 0:
        raise ValueError("wilson: n must be positive")
    if not 0 <= k <= n:
        raise ValueError(f"wilson: k={k} is outside 0..{n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary labellings of the same rows: their agreement beyond what their
    base rates give by chance (1 = the same, 0 = chance, below 0 = worse than chance)."""
    a = np.asarray(a).astype(bool)
    b = np.asarray(b).astype(bool)
    observed = float((a == b).mean())
    chance = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return 1.0 if chance == 1.0 else (observed - chance) / (1 - chance)
