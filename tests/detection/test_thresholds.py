"""Choosing the auto (precision) and review (recall) thresholds on validation scores."""
import numpy as np
import pytest

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

def test_gate_learns_what_the_encoder_would_score_high():
    """fit_gate regresses the encoder's logit on stage 1's features without labels: a feature that
    raises the encoder's logit gets a positive weight, one that does not stays near zero, and the
    floor keeps the far-negative tail from pulling the fit."""
    from scipy.sparse import csr_matrix

    from warden.detection.train import fit_gate

    rng = np.random.default_rng(7)
    n = 3000
    X = csr_matrix((rng.random((n, 20)) < 0.1).astype(np.float32))
    z = -6.0 + 5.0 * X[:, 0].toarray().ravel() + rng.normal(0, 0.3, n)
    cfg = {"gate": {"alpha": 1.0, "floor": -5.0, "length_weight": 0.75}}
    w, b = fit_gate(X, z, np.arange(n), cfg)
    assert w[0] > 3.0 and np.abs(w[1:]).max() < 0.5
    assert b == pytest.approx(-5.0, abs=0.3)  # the floor, not the -6 the rows without feature 0 sit at
    rows = np.arange(n // 2)  # only the given rows are fitted
    w_half, _ = fit_gate(X, z, rows, cfg)
    assert not np.allclose(w_half, w)


def test_gate_prefers_the_shorter_post_up_to_one_window():
    from warden.detection.detector import ONE_WINDOW_CHARS, gate_scores

    z = np.zeros(4)
    g = gate_scores(z, np.array([40, 400, ONE_WINDOW_CHARS, 10 * ONE_WINDOW_CHARS]), 0.75)
    assert g[0] > g[1] > g[2]
    assert g[1] - g[0] == pytest.approx(-0.75 * np.log(410 / 50))
    assert g[3] == g[2]  # a long post costs more windows, but its gate reads it chunk by chunk
    assert np.array_equal(gate_scores(z[:2], np.array([40, 4000]), 0.0), z[:2])


def test_gate_cut_settles_the_given_share_of_positives():
    from warden.detection.detector import settled_by_stage1
    from warden.detection.train import gate_cut

    rng = np.random.default_rng(3)
    y = rng.random(4000) < 0.05
    gate = rng.normal(0.0, 1.0, 4000) + 1.5 * y
    cut = gate_cut(gate[y], 0.2)
    settled = settled_by_stage1(gate, {"gate_below": cut})
    assert settled[y].mean() == np.floor(0.2 * y.sum()) / y.sum()
    assert settled[~y].mean() > settled[y].mean()        # the gate settles mostly negatives
    # no recall loss: nothing is settled
    assert gate_cut(gate[y], 0.0) is None
    assert not settled_by_stage1(gate, {"gate_below": None}).any()
