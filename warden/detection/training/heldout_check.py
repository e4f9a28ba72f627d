"""The held-out check of `warden train --with-decisions`: a model that learnt from moderators replaces
the current one only if no evaluation set gets worse.

The new model is trained into a staging folder beside ``--out`` (a copy of it, so ``--keep-encoder``
finds the encoder there). Both models then score every evaluation set of `warden eval`
(evaluate.EVAL_SETS: each label's held-out test splits and outside sources) with the default
cascade, as `warden eval` does, and each set's AUPRC is compared with ``stats.compare`` (a
stratified paired bootstrap, 300 resamples). A set *regresses* when the new model's AUPRC falls
below the lower end of the current model's 95 % interval on that set: worse by more than resampling
the set's posts moves the current model's own figure. (The paired ratio new ÷ current and its
interval are shown too; a drop of a percent or two can lie wholly below 1 there, since both models
rank most posts alike, and retraining moves AUPRC that much from the seed alone.) Any regression
keeps the current artefacts unless ``force``; otherwise the staged files replace them, one file at
a time with ``os.replace``.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .stats import compare

#: Per evaluation set (e.g. "violence: ghc/heldout"): (labels, scores).
SetScores = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SetCheck:
    name: str
    n: int
    pos: int
    current: float
    current_ci: tuple[float, float]
    new: float
    ratio: float
    ratio_ci: tuple[float, float]

    @property
    def regressed(self) -> bool:
        return self.new < self.current_ci[0]


class Regressed(Exception):
    """The new model is worse on at least one evaluation set: its artefacts were not written."""

    def __init__(self, checks: list[SetCheck]) -> None:
        self.checks = checks
        names = ", ".join(f"{c.name} (AUPRC {c.new:.3f}, below the current model's {c.current:.3f} "
                          f"[{c.current_ci[0]:.3f}, {c.current_ci[1]:.3f}])" for c in checks if c.regressed)
        super().__init__(f"the model trained with moderators' decisions regresses on: {names}. "
                         "The current model is kept; pass --force to write the new one anyway.")


def check_sets(current: SetScores, new: SetScores, n_boot: int = 300, seed: int = 0) -> list[SetCheck]:
    """Every set both models scored, with both classes present: AUPRCs and the paired ratio."""
    out = []
    for name, (y, p_current) in current.items():
        if name not in new:
            continue
        y_new, p_new = new[name]
        if not np.array_equal(y, y_new):
            raise ValueError(f"{name}: the two models were scored on different rows")
        y = np.asarray(y)
        if not 0 < y.sum() < len(y):
            continue
        c = compare(y, np.asarray(p_new), np.asarray(p_current), n_boot=n_boot, seed=seed)
        out.append(SetCheck(name=name, n=len(y), pos=int(y.sum()), current=c["b"], current_ci=(c["b_ci"][0], c["b_ci"][1]),
                            new=c["a"], ratio=c["ratio"], ratio_ci=(c["ratio_ci"][0], c["ratio_ci"][1])))
    return out


def format_checks(checks: list[SetCheck]) -> str:
    lines = ["| evaluation set | n / pos | current AUPRC [95 % interval] | new AUPRC | new ÷ current [95 % interval] | |",
             "|---|---|---|---|---|---|"]
    for c in checks:
        lines.append(f"| {c.name} | {c.n} / {c.pos} | {c.current:.3f} [{c.current_ci[0]:.3f}, {c.current_ci[1]:.3f}] | "
                     f"{c.new:.3f} | {c.ratio:.2f} "
                     f"[{c.ratio_ci[0]:.2f}, {c.ratio_ci[1]:.2f}] | {'REGRESSED' if c.regressed else 'ok'} |")
    return "\n".join(lines)


def eval_set_scorer(data_dir: Path | None, use_cache: bool = True, log: Callable[[str], None] = print,
                    examples: list | None = None) -> Callable[[Path], SetScores]:
    """A function scoring every evaluation set with the model in a folder (the rows are read once;
    `examples`: these rows instead of the data folder's)."""
    from . import datasets as ds
    from ..normalize import normalize_text
    from .evaluate import EVAL_SETS

    if examples is None:
        examples = ds.load_all(data_dir, include_eval=True)
    wanted = {pair for sets in EVAL_SETS.values() for pair in sets}
    rows = [e for e in examples if (e.source, e.split) in wanted]
    norm = [normalize_text(e.text) for e in rows]
    src = np.array([e.source for e in rows])
    split = np.array([e.split for e in rows])

    def score(model_dir: Path) -> SetScores:
        from ..detector import Detector
        from .evaluate import component_scores, profile_scores

        det = Detector.load(model_dir)
        log(f"scoring {len(rows)} evaluation rows with {det.version}")
        _settled, p_cas = profile_scores(det, component_scores(det, norm, use_cache, log))
        out: SetScores = {}
        for j, lab in enumerate(det.labels):
            y_all = np.array([np.nan if e.labels.get(lab) is None else e.labels[lab] for e in rows])
            for source, sp in EVAL_SETS.get(lab, []):
                m = (src == source) & (split == sp) & ~np.isnan(y_all)
                if m.any():
                    out[f"{lab}: {source}/{sp}"] = (y_all[m].astype(int), p_cas[m, j])
        return out

    return score


def install(staging: Path, out_dir: Path) -> None:
    """Move every staged file over the one of the same name in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(staging.iterdir()):
        if path.is_file():
            os.replace(path, out_dir / path.name)


def train_checked(train_into: Callable[[Path], object], score: Callable[[Path], SetScores], *, out_dir: Path,
                  current_dir: Path, force: bool = False, log: Callable[[str], None] = print) -> list[SetCheck]:
    """Train into a staging copy of ``out_dir``, compare it with the model in ``current_dir`` on every
    evaluation set, and install it in ``out_dir`` unless a set regressed (``Regressed``) and not
    ``force``. The staging folder is removed either way."""
    out_dir = Path(out_dir)
    staging = out_dir.parent / f".{out_dir.name}.with-decisions"
    shutil.rmtree(staging, ignore_errors=True)
    if out_dir.is_dir():
        shutil.copytree(out_dir, staging)
    else:
        staging.mkdir(parents=True)
    try:
        train_into(staging)
        checks = check_sets(score(Path(current_dir)), score(staging))
        log("held-out check against the current model:\n" + format_checks(checks))
        if any(c.regressed for c in checks):
            if not force:
                raise Regressed(checks)
            log("--force: writing the new model although it regresses")
        install(staging, out_dir)
        return checks
    finally:
        shutil.rmtree(staging, ignore_errors=True)
