"""Choosing the auto (precision) and review (recall) thresholds on validation scores."""
import re

import numpy as np
import pytest

from warden.detection.training.train import threshold_for_precision, threshold_for_recall


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

    from warden.detection.training.train import fit_gate

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
    from warden.detection.training.train import gate_cut

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


# --------------------------------------------------------------------------- fine-tune data

def test_padded_copies_place_a_row_among_everyday_posts_and_keep_its_labels():
    from warden.detection.training.finetune import padded_copies

    texts = [f"post number {i} says something" for i in range(400)]
    Y = np.zeros((400, 3), dtype=np.float32)
    Y[::7, 0] = 1
    M = np.ones((400, 3), dtype=np.float32)
    M[::5, 2] = 0
    fillers = ["lovely morning.", "anyone watching the match?", "the bus was late again.", "new blog post is up!",
               "my cat knocked the plant over."]
    everyday = re.compile("(?:" + "|".join(re.escape(f) for f in fillers) + ")(?: (?:" + "|".join(re.escape(f) for f in fillers) + "))*")
    idx = list(range(0, 400, 2))
    t2, Y2, M2, idx2 = padded_copies(texts, Y, M, idx, fillers, rate=0.3, counts=(1, 3), max_chars=70, seed=5)
    assert t2[:400] == texts and idx2[:len(idx)] == idx            # the originals stay as they were
    new = idx2[len(idx):]
    assert new == list(range(400, len(t2)))
    assert 0.2 * len(idx) < len(new) < 0.4 * len(idx)              # about `rate` of the given rows
    for k in new:
        (orig,) = [i for i in idx if texts[i] in t2[k]]            # exactly one row, among fillers
        assert t2[k] != texts[orig] and len(t2[k]) <= 70
        before, after = t2[k].split(texts[orig])
        assert (before + after).strip()
        assert all(everyday.fullmatch(part.strip()) for part in (before, after) if part.strip())
        assert np.array_equal(Y2[k], Y[orig]) and np.array_equal(M2[k], M[orig])
    again = padded_copies(texts, Y, M, idx, fillers, rate=0.3, counts=(1, 3), max_chars=70, seed=5)
    assert again[0] == t2                                          # seeded: training is reproducible
