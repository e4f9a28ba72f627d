"""Obfuscated copies of violent posts score close to the originals (normalisation works end to end)."""
import random

import numpy as np

from warden.detection.evaluate import OBF_KINDS, obfuscate
from warden.detection.exemplars import exemplars


def test_obfuscated_positives_score_within_0_1(detector):
    rng = random.Random(3)
    pos = [t for t, v in exemplars() if v == 1]
    sample = rng.sample(pos, 40) + [
        "We should kill all the immigrants at the border tonight. Bring your guns.",
        "Someone needs to put a bullet in the mayor's head.",
    ]
    base = np.array([d.scores["violence"] for d in detector.score_batch(sample)])
    for kind in OBF_KINDS:
        obf = [obfuscate(t, kind, rng) for t in sample]
        assert obf != sample
        s = np.array([d.scores["violence"] for d in detector.score_batch(obf)])
        assert np.abs(s - base).mean() <= 0.1, kind
