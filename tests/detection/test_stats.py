"""AUPRC and its bootstrap intervals (warden/detection/training/stats.py), used by `warden eval`."""
import numpy as np
import pytest

from warden.detection.training.stats import average_precision, compare


def _reference_ap(y, p):
    """AP from the definition: sum over distinct thresholds t (high to low) of
    (recall(t) - recall(previous t)) * precision(t)."""
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(p), reverse=True):
        flagged = [yi for yi, pi in zip(y, p) if pi >= t]
        recall = sum(flagged) / sum(y)
        ap += (recall - prev_recall) * (sum(flagged) / len(flagged))
        prev_recall = recall
    return ap


def test_average_precision_hand_computed():
    assert average_precision([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == pytest.approx(1.0)
    # positives at ranks 1 and 3: 1/2 * 1 + 1/2 * 2/3
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(5 / 6)
    # positives ranked last: 1/2 * 1/3 + 1/2 * 2/4
    assert average_precision([0, 0, 1, 1], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(5 / 12)


def test_tied_scores_are_one_threshold_whatever_the_row_order():
    assert average_precision([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert average_precision([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert average_precision([0, 1, 1, 0], [0.3, 0.3, 0.9, 0.1]) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_average_precision_matches_the_definition_on_random_scores():
    rng = np.random.default_rng(3)
    for _ in range(20):
        y = (rng.random(60) < 0.2).astype(int)
        y[0] = 1
        p = np.round(rng.random(60) + 0.5 * y, 1)  # rounded: many ties
        assert average_precision(y, p) == pytest.approx(_reference_ap(list(y), list(p)))


def test_no_positives_has_no_average_precision():
    assert np.isnan(average_precision([0, 0, 0], [0.1, 0.2, 0.3]))


def _scores(n, rng, signal):
    y = rng.random(n) < 0.1
    return y, rng.random(n) + signal * y


def test_compare_a_system_with_itself_is_exactly_one():
    y, p = _scores(500, np.random.default_rng(0), 0.5)
    c = compare(y, p, p, n_boot=50)
    assert c["ratio"] == 1.0 and c["ratio_ci"] == [1.0, 1.0]
    assert c["a"] == c["b"] and c["a_ci"][0] <= c["a"] <= c["a_ci"][1]


def test_compare_separates_a_strong_system_from_a_weak_one_and_narrows_with_data():
    rng = np.random.default_rng(1)
    y, strong = _scores(400, rng, 1.0)
    weak = rng.random(len(y)) + 0.2 * y
    small = compare(y, strong, weak, n_boot=200)
    assert small["ratio"] > 1 and small["ratio_ci"][0] > 1
    assert small["a_ci"][0] <= small["a"] <= small["a_ci"][1]
    y2, strong2 = _scores(4000, rng, 1.0)
    weak2 = rng.random(len(y2)) + 0.2 * y2
    big = compare(y2, strong2, weak2, n_boot=200)
    width = lambda c: c["ratio_ci"][1] - c["ratio_ci"][0]  # noqa: E731
    assert width(big) < width(small)


def test_compare_is_reproducible():
    y, p = _scores(300, np.random.default_rng(2), 0.3)
    q = np.random.default_rng(4).random(len(y))
    assert compare(y, p, q, n_boot=40) == compare(y, p, q, n_boot=40)


def test_compare_difference_and_its_interval():
    rng = np.random.default_rng(3)
    y = np.r_[np.ones(200), np.zeros(2000)]
    strong = np.r_[rng.normal(2, 1, 200), rng.normal(0, 1, 2000)]
    weak = np.r_[rng.normal(0.5, 1, 200), rng.normal(0, 1, 2000)]
    c = compare(y, strong, weak)
    assert c["diff"] == pytest.approx(c["a"] - c["b"])
    assert 0 < c["diff_ci"][0] <= c["diff"] <= c["diff_ci"][1]
    same = compare(y, strong, strong)
    assert same["diff"] == 0 and same["diff_ci"] == [0.0, 0.0]


def _cascade_sets(n_pos: int, n_neg: int, rng):
    from warden.detection.training.evaluate import EVAL_SETS

    source, split = EVAL_SETS["violence"][0]
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    thorough = np.r_[rng.uniform(0.5, 1, n_pos), rng.uniform(0, 0.6, n_neg)]
    return np.full(len(y), source), np.full(len(y), split), y, thorough, f"{source}/{split}"


def test_cascade_gap_verdicts():
    from warden.detection.training.evaluate import cascade_gap

    rng = np.random.default_rng(5)
    # the same scores: met, with a zero gap
    src, split, y, thorough, name = _cascade_sets(150, 3000, rng)
    g = cascade_gap(src, split, y, thorough, thorough.copy())[name]
    assert g["gap"] == 0 and g["verdict"] == "met" and g["positives"] == 150
    # a third of the positives settled at the bottom of a large set: clearly worse
    balanced = thorough.copy()
    balanced[:50] = 0.0
    g = cascade_gap(src, split, y, thorough, balanced)[name]
    assert g["gap"] > 0.1 and g["ci"][0] > 0.005 and g["verdict"] == "not met"
    # one of 20 positives settled in a small set: a gap of hundredths the set cannot resolve
    src, split, y, thorough, name = _cascade_sets(20, 150, rng)
    balanced = thorough.copy()
    balanced[int(np.argmax(thorough[:20]))] = 0.0
    g = cascade_gap(src, split, y, thorough, balanced)[name]
    assert g["gap"] > 0.005 and g["ci"][0] <= 0.005 and g["verdict"] == "not met (the interval spans the bar)"
