"""`warden eval --decisions`: how far the model agrees with moderators, period by period (drift).

The model (the artefacts given, by default the shipped ones, with their default profile) scores each
example's evidence text (moderators.read: the post as it was decided on); it *flags* a post at or
above its review threshold for the label. Against the moderators' label, per period (ISO week or
calendar month of the decision) and overall: n, the agreement rate with its 95 % Wilson interval,
Cohen's kappa, and the model's precision and recall taking the moderators as the truth. A period
*drifts* when its whole interval lies below the overall agreement rate. ``seen`` counts the
examples the model trained on (its meta.json's ``moderators``: decisions up to ``through``, not held
out), whose agreement flatters it.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

from .moderators import ModeratorExample

PERIODS = ("week", "month")
Z95 = 1.959964


def period_of(moment: datetime, by: str) -> str:
    """"2026-03" for a month, "2026-W09" (ISO week) for a week."""
    if by == "month":
        return f"{moment.year:04d}-{moment.month:02d}"
    if by == "week":
        year, week, _ = moment.isocalendar()
        return f"{year:04d}-W{week:02d}"
    raise ValueError(f"period {by!r}: use one of {', '.join(PERIODS)}")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two binary raters (nan where chance agreement is total: both constant and equal)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if len(a) == 0:
        return float("nan")
    observed = float((a == b).mean())
    chance = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return float("nan") if chance >= 1.0 else (observed - chance) / (1 - chance)


def agreement(model: np.ndarray, moderators: np.ndarray) -> dict[str, Any]:
    """n, agreement (and its interval), kappa, and the model's precision and recall against moderators."""
    model, moderators = np.asarray(model, dtype=bool), np.asarray(moderators, dtype=bool)
    n = len(model)
    agree = int((model == moderators).sum())
    tp = int((model & moderators).sum())
    flagged, positives = int(model.sum()), int(moderators.sum())
    return {"n": n, "agreement": agree / n if n else float("nan"), "agreement_ci": list(wilson(agree, n)),
            "kappa": cohen_kappa(model, moderators), "model_flagged": flagged, "moderator_positives": positives,
            "precision": tp / flagged if flagged else float("nan"), "recall": tp / positives if positives else float("nan")}


def report(examples: list[ModeratorExample], scores: Iterable[float], *, threshold: float, by: str = "month",
           label: str = "violence", model: str = "", trained_through: datetime | None = None) -> dict[str, Any]:
    """The whole report as one JSON-ready object; ``scores`` are the model's for ``examples``' texts."""
    if by not in PERIODS:
        raise ValueError(f"period {by!r}: use one of {', '.join(PERIODS)}")
    p = np.asarray(list(scores), dtype=np.float64)
    y = np.array([e.labels[label] for e in examples], dtype=bool)
    flags = p >= threshold
    seen = np.array([trained_through is not None and e.split == "train" and e.decided_at <= trained_through
                     for e in examples], dtype=bool)
    overall = {**agreement(flags, y), "seen": int(seen.sum())}
    periods = [period_of(e.decided_at, by) for e in examples]
    rows = []
    for name in sorted(set(periods)):
        m = np.array([q == name for q in periods])
        row = {"period": name, **agreement(flags[m], y[m]), "seen": int(seen[m].sum())}
        row["drift"] = bool(row["agreement_ci"][1] < overall["agreement"])
        rows.append(row)
    return {"model": model, "label": label, "threshold": threshold, "by": by, "overall": overall, "periods": rows,
            "trained_through": trained_through.isoformat() if trained_through else None}


def _pct(x: float) -> str:
    return "  -  " if x != x else f"{x:.1%}"


def _num(x: float) -> str:
    return "  -  " if x != x else f"{x:.2f}"


def format_report(res: dict[str, Any]) -> str:
    lines = [f"Model {res['model']} against moderators' decisions ({res['label']}, flagged at the review "
             f"threshold {res['threshold']:.3f}), by {res['by']}",
             "", "| period | n | seen | agreement [95 % interval] | kappa | precision | recall | drift |",
             "|---|---|---|---|---|---|---|---|"]
    for row in [*res["periods"], {**res["overall"], "period": "overall", "drift": False}]:
        lo, hi = row["agreement_ci"]
        lines.append(f"| {row['period']} | {row['n']} | {row['seen']} | {_pct(row['agreement'])} [{_pct(lo)}, {_pct(hi)}] | "
                     f"{_num(row['kappa'])} | {_pct(row['precision'])} | {_pct(row['recall'])} | "
                     f"{'DRIFT' if row['drift'] else ''} |")
    if res["trained_through"]:
        lines += ["", f"seen: examples this model trained on (decisions up to {res['trained_through']}); "
                      "agreement on them flatters it."]
    drifting = [r["period"] for r in res["periods"] if r["drift"]]
    if drifting:
        lines += ["", "Drift: agreement below the overall rate beyond the period's interval in "
                      + ", ".join(drifting) + "."]
    return "\n".join(lines)
