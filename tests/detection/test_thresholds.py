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
