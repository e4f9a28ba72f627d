"""Choosing the auto (precision) and review (recall) thresholds on validation scores."""
import numpy as np

from warden.detection.train import threshold_for_precision, threshold_for_recall


def test_precision_threshold_is_the_lowest_cut_that_reaches_the_target():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 1, 1, 0, 1, 0])
    assert threshold_for_precision(p, y, 1.0) == 0.7
    assert threshold_for_precision(p, y, 0.8) == 0.5      # 4 of 5 at or above 0.5
    assert threshold_for_precision(p, y, 0.5, min_flagged=1) == 0.4


def test_precision_threshold_never_splits_tied_scores():
    p = np.array([0.9, 0.8, 0.8, 0.1])
    y = np.array([1, 1, 0, 0])
    # at 0.8 both tied rows are flagged: precision 2/3, so only 0.9 reaches 100 %
    assert threshold_for_precision(p, y, 1.0) == 0.9


def test_unreachable_precision_falls_back_to_the_best_cut_that_still_acts():
    # a negative on top keeps precision under 95 % all the way down
    p = np.linspace(1.0, 0.0, 40)
    y = np.array([0] + [1] * 17 + [0] + [1] * 5 + [0] * 16)
    t = threshold_for_precision(p, y, 0.95)
    flagged = p >= t
    assert flagged.sum() >= 10                           # it acts on something
    assert y[flagged].mean() == max(y[:k].mean() for k in range(10, 41))
    assert t == p[17]                                    # 17 of the top 18


def test_recall_threshold_keeps_the_target_share_of_positives():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 1])
    t = threshold_for_recall(p, y, 0.5)
    assert (p[y == 1] >= t).mean() >= 0.5
    assert t == 0.5


# --------------------------------------------------------------------------- the cascade gate

LABELS = ("violence", "hate", "harassment")


def _gate_data(hate_informative: bool, n: int = 4000, seed: int = 3):
    """Calibrated stage-1 logits of a synthetic validation split: violence positives get a higher
    violence logit; where ``hate_informative`` their hate logit is higher too."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.05
    z = rng.normal(0.0, 1.0, (n, 3))
    z[:, 0] += 1.5 * y
    if hate_informative:
        z[:, 1] += 2.0 * y
    return z, np.ones(n, dtype=bool), y


def test_gate_counts_the_hate_logit_only_when_it_tells_positives_apart():
    from warden.detection.train import choose_gate

    cfg = {"profiles": {"balanced": 0.15, "fast": 0.35, "thorough": 0.0}, "gate_hate_weights": [0.0, 0.3, 1.0]}
    z, val, y = _gate_data(hate_informative=True)
    assert choose_gate(z, val, y, cfg) > 0
    z, val, y = _gate_data(hate_informative=False)
    assert choose_gate(z, val, y, cfg) == 0.0


def test_gate_cut_settles_the_given_share_of_positives():
    from warden.detection.detector import settled_by_stage1
    from warden.detection.train import gate_cut

    z, _, y = _gate_data(hate_informative=True)
    cut = gate_cut(z[y, 0] + 0.3 * z[y, 1], 0.2)
    cascade = {"hate_weight": 0.3, "gate_below": cut}
    settled = settled_by_stage1(z, LABELS, cascade)
    assert settled[y].mean() == np.floor(0.2 * y.sum()) / y.sum()
    assert settled[~y].mean() > settled[y].mean()        # the gate settles mostly negatives
    # no recall loss: nothing is settled
    assert gate_cut(z[y, 0], 0.0) is None
    assert not settled_by_stage1(z, LABELS, {"hate_weight": 0.3, "gate_below": None}).any()
