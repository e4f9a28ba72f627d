"""Obfuscated copies of violent posts score close to the originals (normalisation works end to end)."""
import random

import numpy as np

from warden.detection.training.evaluate import EVERYDAY_POSTS, OBF_KINDS, obfuscate, pad_among
from warden.detection.training.exemplars import exemplars


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


def test_threats_padded_with_everyday_posts_still_reach_review(detector):
    """Burying a threat in filler must not hide it: the cascade gate weighs a post's length (the
    encoder's cost), but stage 1 reads a long post chunk by chunk, so the chunk with the threat
    still scores, and the encoder is fine-tuned on padded posts too. (The shipped model: the 169
    test-split exemplar threats padded with 12 filler sentences, 100 % at or above review; 97 %
    before the padded fine-tune.)"""
    rng = random.Random(11)
    pos = rng.sample([t for t, v in exemplars() if v == 1], 40)
    padded = [pad_among(t, [rng.choice(EVERYDAY_POSTS[:6]) for _ in range(12)], rng) for t in pos]
    review = detector.thresholds["violence"]["review"]
    got = detector.score_batch(padded, spans=False)
    assert np.mean([d.scores["violence"] >= review for d in got]) >= 0.85


def _test_split_padded(detector, label: int, n_others: int, rng: random.Random):
    """Detections of the exemplar test split's posts with violence ``label``, each placed among
    ``n_others`` everyday sentences (never trained on)."""
    from warden.detection.training import datasets as ds

    posts = [pad_among(e.text, [rng.choice(EVERYDAY_POSTS[:6]) for _ in range(n_others)], rng)
             for e in ds.load_exemplars() if e.split == "test" and e.labels["violence"] == label]
    return detector.score_batch(posts, spans=False)


def test_held_out_threats_among_everyday_posts_are_held_by_the_default_policy(detector):
    """The encoder is fine-tuned on padded copies too (finetune.padded_copies), so a threat among
    six everyday sentences is not averaged away: the default policy holds from 0.2
    (warden/policy/default.yaml). Exemplars of the test split only, never trained on. (The
    shipped model: 88 % of 169 held, hard negatives so padded 9 %; `29e41215`, whose gate read no
    sentences, 85 % and 7 %; `c92567f5`, which read no short chunks, 78 % and 3 %; 28 % held before
    padded copies were trained on.)"""
    rng = random.Random(11)
    threats, benign = [np.array([d.scores["violence"] for d in _test_split_padded(detector, label, 6, rng)])
                       for label in (1, 0)]
    assert len(threats) > 100 and len(benign) > 100
    assert (threats >= 0.2).mean() >= 0.65
    assert (benign >= 0.2).mean() <= 0.10


def test_pad_among_places_the_post_whole_among_the_others_in_order():
    rng = random.Random(2)
    others = ["one.", "two.", "three."]
    seen = set()
    for _ in range(50):
        out = pad_among("the post", others, rng)
        assert out.replace("the post", "").split() == others       # the others, in their order
        seen.add(out.split().index("the"))
    assert seen == {0, 1, 2, 3}                                     # every position is used
    assert pad_among("alone", [], rng) == "alone"


def test_a_threat_among_many_everyday_posts_is_not_settled_at_stage_1(detector):
    """A long post costs the encoder more, so the cascade gate lets fewer long posts through; but
    the gate also reads 160-character chunks and each sentence (features.gate_pieces), so a threat
    among twelve everyday sentences reaches the encoder, and a case opens (0.1) for most of them.
    (The shipped model, `8289ac30`: of the 169 test-split threats 0.6 % settled at stage 1, 73 %
    at 0.1 and 50 % held at 0.2, hard negatives 3.4 % and 1.1 %; `cf83c2a2`, trained with Latent
    Hatred's calls to deport as violence, 5 % settled, 93 % and 74 %, hard negatives 9.5 % and
    6 %; `29e41215`, whose gate read no sentences, 15 % settled and 68 % held; `c92567f5`, which
    read only 400-character chunks, 39 % and 55 %.)"""
    rng = random.Random(11)
    got, got_benign = [_test_split_padded(detector, label, 12, rng) for label in (1, 0)]
    threats, settled = np.array([d.scores["violence"] for d in got]), np.array([d.stage == "linear" for d in got])
    benign = np.array([d.scores["violence"] for d in got_benign])
    assert len(threats) > 100 and len(benign) > 100
    assert settled.mean() <= 0.10
    assert (threats >= 0.1).mean() >= 0.65 and (threats >= 0.2).mean() >= 0.45
    assert (benign >= 0.1).mean() <= 0.10


def test_a_one_line_threat_among_everyday_sentences_reaches_the_encoder(detector):
    """In a 160-character chunk a one-line threat still shares the gate's estimate with the sentences
    beside it; read as a sentence of its own it does not, and the post opens a case (0.1). (`29e41215`
    settled both at stage 1, at 0.06 and 0.05; the shipped model reads both, at 0.19 and 0.18, 0.91
    and 0.92 alone; `cf83c2a2` at 0.51 and 0.12.)"""
    filler = [*EVERYDAY_POSTS[:6], *EVERYDAY_POSTS[:6]]
    detector = type(detector).load()  # a detector of its own: the session's may have these cached ("cached")
    for threat in ("Hang the traitors.", "I am going to kill you tomorrow."):
        d = detector.score(" ".join([*filler[:6], threat, *filler[6:]]))
        assert d.stage == "encoder", threat
        assert d.scores["violence"] >= 0.1, threat


def test_coded_probe_is_never_trained_on_and_its_twins_stay_below_the_hold_point(detector):
    """The coded-incitement probe (probes.py) measures what the model learnt of coded language
    elsewhere, so none of it may be among the exemplars, coded or not. The shipped model leaves
    most coded calls to the policy's lists, but reads 38 % of them (`cf83c2a2`, which counted
    Latent Hatred's calls to deport as violence: 54 %) and none of the twins that share their
    words (highest 0.02) at the default policy's holding point."""
    from warden.detection.training.exemplars import coded_exemplars
    from warden.detection.training.probes import CODED_CALLS, CODED_TWINS, HOLD_AT, coded_probe_report

    written = {t.lower() for t, _ in exemplars() + coded_exemplars()}
    assert not written & {t.lower() for t in CODED_CALLS + CODED_TWINS}
    report = coded_probe_report(detector)
    assert report["calls"]["n"] == len(CODED_CALLS) and report["twins"]["n"] == len(CODED_TWINS)
    assert report["calls"]["at_hold"] >= 0.35
    assert report["twins"]["at_hold"] == 0.0 and report["twins"]["max"] < HOLD_AT


def test_heated_politics_is_not_refused_as_violence(detector):
    """Calls to deport, jail or ban (probes.py, never trained on) are politics, not violence: the
    default policy must not refuse them. (The shipped model: 1 of 20 at `auto`, 25 % at 0.2;
    `cf83c2a2`, trained with Latent Hatred's calls to deport as violence: 20 % and 90 %.)"""
    from warden.detection.training.probes import POLITICAL_CALLS, political_probe_report

    assert not {t.lower() for t, _ in exemplars()} & {t.lower() for t in POLITICAL_CALLS}
    report = political_probe_report(detector)
    assert report["n"] == len(POLITICAL_CALLS)
    assert report["at_auto"] <= 0.10 and report["at_hold"] <= 0.40


def test_violent_words_aimed_at_things_score_below_the_same_words_aimed_at_people(detector):
    """A patient's post about beating cancer, a joke about Mondays, pests, board games (probes.py)
    are not threats; the same words aimed at people are. The shipped model tells them apart on
    average but still refuses 5 of the 25 posts about things at `auto` and holds 13 at 0.2 (model
    card, Known failure modes). The exemplars written to teach it (`thing_exemplars`) are not trained
    on, and their fillers leave out the probe's words, so that the probe can measure them."""
    from warden.detection.training import exemplars as ex
    from warden.detection.training.probes import PERSON_TWINS, THING_POSTS, thing_probe_report

    probe = {t.lower() for t in THING_POSTS + PERSON_TWINS}
    assert not {t.lower() for t, _ in exemplars() + ex.thing_exemplars()} & probe
    assert not {t.lower() for t, _ in ex.thing_exemplars()} & {t.lower() for t, _ in exemplars()}
    aimed_at = [*ex.THING_NEG_TEMPLATES, *ex.ILLNESS, *ex.OBJECT, *ex.SEASON, *ex.PEST, *ex.CHORE]
    for word in ("cancer", "monday", "alarm clock", "wasps", "slugs", "chess", "scrabble", "inbox", "migraine"):
        assert not any(word in t for t in aimed_at), word
    report = thing_probe_report(detector)
    things, people = report["things"], report["people"]
    assert things["n"] == len(THING_POSTS) and people["n"] == len(PERSON_TWINS)
    assert people["at_hold"] >= 0.9
    assert people["mean"] - things["mean"] >= 0.3


def test_threats_in_everyday_speech_score_above_their_twins(detector):
    """Threats to one person in everyday speech ("imma pull up and fuck u up", probes.py) are a known
    failure: the shipped model holds only 2 of the 14 at the default policy's holding point (model
    card, Known failure modes). The probe is written apart from the informal templates of
    `exemplars.py`, which are not trained on; it must still rank the threats above their twins, and
    hold none of the twins."""
    from warden.detection.training import exemplars as ex
    from warden.detection.training.probes import EVERYDAY_THREATS, EVERYDAY_TWINS, everyday_threat_report

    probe = {t.lower() for t in EVERYDAY_THREATS + EVERYDAY_TWINS}
    assert not {t.lower() for t, _ in exemplars() + ex.informal_exemplars()} & probe
    assert not {t.lower() for t, _ in ex.informal_exemplars()} & {t.lower() for t, _ in exemplars()}
    report = everyday_threat_report(detector)
    threats, twins = report["threats"], report["twins"]
    assert threats["n"] == len(EVERYDAY_THREATS) == twins["n"] == len(EVERYDAY_TWINS)
    assert twins["at_hold"] == 0.0 and threats["at_hold"] > 0.0
    assert threats["mean"] - twins["mean"] >= 0.05
