"""The cascade's veto and its whole reading of long posts (issue 32), and the bounds that keep its
memory flat however long the posts: batches, encoder groups and stage-1 pieces counted in
characters, not posts."""
import numpy as np
import pytest

from warden.detection import Detector, features
from warden.detection import detector as detector_mod
from warden.detection.detector import groups_by_chars, settled_by_stage1
from warden.detection.features import harm_words
from warden.detection.normalize import normalize_text

HARMFUL = ["bring molotovs to the courthouse", "beat them senseless", "waiting outside your office with my rifle",
           "they will end up in body bags", "euthanize them all", "i'm planning on breaking her legs",
           "these parasites should be extinguished", "we should kill them"]
HARMLESS = ["lovely morning, coffee and a long walk", "the bus was late again, classic monday",
            "my cat knocked the plant over", "reading a great book about bridges"]


@pytest.mark.parametrize("text", HARMFUL)
def test_harm_words_find_weapons_injuries_and_death_wishes(text):
    assert harm_words(normalize_text(text))


@pytest.mark.parametrize("text", HARMLESS)
def test_harm_words_leave_everyday_posts_alone(text):
    assert not harm_words(normalize_text(text))


def test_the_veto_keeps_posts_with_harm_words_from_being_settled():
    texts = ["bring molotovs to the courthouse", "lovely morning, coffee and a long walk", "a third post"]
    gate = np.array([-20.0, -20.0, 5.0])
    plain = {"gate_below": -7.0}
    assert settled_by_stage1(gate, plain).tolist() == [True, True, False]
    vetoed = {"gate_below": -7.0, "veto": True}
    assert settled_by_stage1(gate, vetoed, texts).tolist() == [False, True, False]
    assert settled_by_stage1(gate, vetoed, veto=np.array([True, False, True])).tolist() == [False, True, False]
    assert not settled_by_stage1(gate, {"gate_below": None, "veto": True}, texts).any()
    with pytest.raises(ValueError):
        settled_by_stage1(gate, vetoed)


def test_the_shipped_balanced_profile_sends_posts_with_harm_words_to_the_encoder(detector):
    assert detector.cascade.get("veto")
    for text in HARMFUL:
        assert detector.score(text).stage == "encoder", text


@pytest.mark.parametrize("lengths,max_chars,max_items,want", [
    ([], 10, None, []),
    ([3, 3, 3, 3], 6, None, [(0, 2), (2, 4)]),
    ([3, 20, 3], 6, None, [(0, 1), (1, 2), (2, 3)]),  # a long item alone
    ([1, 1, 1, 1, 1], 100, 2, [(0, 2), (2, 4), (4, 5)]),
])
def test_groups_by_chars(lengths, max_chars, max_items, want):
    assert list(groups_by_chars(lengths, max_chars, max_items)) == want


FILLER = "The council met on Tuesday to discuss the new bike lanes and the library budget. "


def test_a_long_post_is_read_wherever_stage_1_is_unsure(detector):
    """Under the balanced profile every window that stage 1 would not settle alone is read, beyond
    the two most suspicious: three threats far apart in one long post are all read."""
    from warden.detection.normalize import normalize

    threats = ["We should kill all the immigrants at the border tonight. ", "Bring molotovs to the courthouse. ",
               "I will shoot the mayor on Friday. "]
    post = FILLER * 8 + threats[0] + FILLER * 8 + threats[1] + FILLER * 8 + threats[2] + FILLER * 8
    text = normalize(post).text
    _, owner, spans = detector.encoder.windows_with_spans([text])
    keep = detector.suspicious_windows([text], owner, spans)
    read = [text[slice(*spans[k])] for k in np.flatnonzero(keep)]
    assert len(owner) > 10 and detector.cascade["read_unsure_windows"]
    for word in ("kill", "molotovs", "shoot"):
        assert any(word in w for w in read), word
    assert keep.sum() < len(owner)  # the everyday windows in between are not
    # the old rule read only two of them
    only_two = dict(detector.cascade, read_unsure_windows=False)
    assert detector.suspicious_windows([text], owner, spans, only_two).sum() == 2
    thorough = Detector.load(profile="thorough")
    assert detector.score(post).scores["violence"] == pytest.approx(thorough.score(post).scores["violence"], abs=1e-6)


def test_score_many_bounds_its_batches_by_characters(monkeypatch):
    det = Detector.load()
    det.cache.size = 0
    seen = []
    real = det._stage1

    def spy(texts):
        seen.append(sum(map(len, texts)))
        return real(texts)

    monkeypatch.setattr(det, "_stage1", spy)
    posts = [FILLER * 6, "we should kill them tonight", FILLER * 3, "hello", FILLER * 12, "bring your guns"]
    many = list(det.score_many(iter(posts), batch_chars=500))
    assert max(seen) <= max(500, max(len(normalize_text(p)) for p in posts))
    assert len(seen) >= 4
    batch = det.score_batch(posts, spans=False)
    assert [d.scores for d in many] == [d.scores for d in batch]


def test_encoder_groups_and_stage_1_pieces_give_the_same_scores_in_any_size(monkeypatch):
    det = Detector.load(profile="thorough")
    posts = [normalize_text(p) for p in (FILLER * 10 + "we should kill them all", "hang the traitors", FILLER * 4)]
    whole = det.encoder_logits(posts)
    lin = features.chunked_linear_logits(det.W, det.b, posts)
    monkeypatch.setattr(detector_mod, "ENCODER_GROUP_CHARS", 50)
    monkeypatch.setattr(features, "PIECE_CHARS", 300)
    assert np.allclose(det.encoder_logits(posts), whole, atol=1e-5)  # the head's products round by shape
    assert np.allclose(features.chunked_linear_logits(det.W, det.b, posts), lin, atol=1e-6)


def test_a_profile_cut_with_another_veto_word_list_is_refused(detector):
    from warden.detection.features import HARM_WORDS_DIGEST

    assert detector.cascade["veto_words"] == HARM_WORDS_DIGEST
    meta = {**detector.meta, "profiles": {**detector.meta["profiles"]}}
    meta["profiles"]["balanced"] = {**meta["profiles"]["balanced"],
                                    "cascade": {**detector.cascade, "veto_words": "000000000000"}}
    with pytest.raises(ValueError, match="another veto word list"):
        Detector(detector.model_dir, meta, {"W": detector.W, "b": detector.b}, detector.head, profile="balanced")
    Detector(detector.model_dir, meta, {"W": detector.W, "b": detector.b}, detector.head, profile="thorough")
