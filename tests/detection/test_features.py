"""Stage-1 features: the batched hashing must give exactly the features of each text on its own."""
import numpy as np

from warden.detection.features import (GATE_CHUNK_CHARS, GATE_CHUNK_STEP, N_BUCKETS, batch_indices, chunked_linear_logits,
                                       feature_indices, gate_pieces, sentences, short_chunk_logits,
                                       text_chunks)
from warden.detection.normalize import normalize_text

TEXTS = [
    "we should kill them all tonight",
    "",
    "a",
    "ok",
    "i'd kill for a coffee",
    "ünïcode 🔫 and emoji",
    "x" * 2500,  # longer than the 2000 characters stage 1 reads
    "the council met on tuesday. " * 30,
    "k i l l",
    "we should kill them all tonight",  # a duplicate row stays its own row
]


def test_batch_indices_equal_per_text_features():
    texts = [normalize_text(t) for t in TEXTS]
    idx, indptr = batch_indices(texts)
    assert len(indptr) == len(texts) + 1 and indptr[0] == 0 and indptr[-1] == len(idx)
    for i, t in enumerate(texts):
        row = idx[indptr[i]:indptr[i + 1]]
        assert np.array_equal(row, feature_indices(t)), TEXTS[i][:30]
        assert np.all(np.diff(row) > 0) and row.min() >= 0 and row.max() < N_BUCKETS


def test_a_texts_features_do_not_depend_on_its_batch():
    texts = [normalize_text(t) for t in TEXTS]
    alone = [batch_indices([t]) for t in texts]
    idx, indptr = batch_indices(texts)
    for i, (a_idx, _) in enumerate(alone):
        assert np.array_equal(idx[indptr[i]:indptr[i + 1]], a_idx)


def test_empty_batch():
    idx, indptr = batch_indices([])
    assert len(idx) == 0 and list(indptr) == [0]


def test_linear_logits_of_a_batch_equal_single_texts():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(N_BUCKETS, 3)).astype(np.float32)
    b = np.array([0.1, -0.2, 0.3], dtype=np.float32)
    texts = [normalize_text(t) for t in TEXTS]
    z = chunked_linear_logits(W, b, texts)
    for i, t in enumerate(texts):
        assert np.allclose(z[i], chunked_linear_logits(W, b, [t])[0], atol=1e-5)



def test_short_chunk_logits_are_the_max_over_short_chunks_of_a_long_text():
    """The cascade gate also reads a long post in 160-char chunks (detector.gate_estimate), so a
    one-sentence threat among everyday sentences is not outweighed by them."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=N_BUCKETS).astype(np.float32)
    filler = "the bus was late again and the coffee was cold but the walk was nice. " * 8
    texts = [normalize_text(t) for t in ("we should burn their houses down tonight",
                                         filler + "we should burn their houses down tonight. " + filler)]
    z = short_chunk_logits(w, 0.3, texts)
    assert z[0] == -np.inf  # a short text has no short chunks
    chunks = text_chunks(texts[1], GATE_CHUNK_CHARS, GATE_CHUNK_STEP)
    assert len(chunks) > 8 and all(len(c) <= GATE_CHUNK_CHARS for c in chunks)
    assert any("burn their houses down tonight" in c for c in chunks)  # the sentence whole in one chunk
    pieces = gate_pieces(texts[1])
    assert pieces[:len(chunks)] == chunks and "we should burn their houses down tonight." in pieces  # and sentences
    by_piece = chunked_linear_logits(w[:, None], np.array([0.3], dtype=np.float32), pieces)[:, 0]
    assert np.isclose(z[1], by_piece.max(), atol=1e-5)


def test_gate_pieces_add_a_long_posts_sentences_to_its_chunks():
    """A one-line threat shares a 160-char chunk with the sentences around it; on its own it is a
    piece of the gate's reading too."""
    text = ("lovely morning, coffee and a long walk. anyone watching the match tonight? hang the traitors. "
            "new blog post about our garden is up! the bus was late again, classic monday. mr. smith said hi.")
    assert sentences(text) == ["lovely morning, coffee and a long walk.", "anyone watching the match tonight?",
                               "hang the traitors.", "new blog post about our garden is up!",
                               "the bus was late again, classic monday.", "smith said hi."]  # "mr." is too short
    pieces = gate_pieces(text)
    assert pieces[:-6] == text_chunks(text, GATE_CHUNK_CHARS, GATE_CHUNK_STEP) and pieces[-6:] == sentences(text)
    assert gate_pieces("hang the traitors. " * 10) != [] and gate_pieces("hang the traitors.") == []
    long_sentence = "and " * 50 + "so on."
    assert long_sentence not in gate_pieces("short one here. " + long_sentence)  # the chunks cover it


def test_structure_patterns_grouped_by_first_letter_match_what_the_plain_alternatives_match():
    import re

    from warden.detection import features
    from warden.detection.training.exemplars import coded_exemplars, exemplars, thing_exemplars

    assert features.by_first_letter(r"kill\w*|knife|murder|\w+s|a?b|(?:c|d)e|cut") == \
        r"k(?:ill\w*|nife)|murder|cut|\w+s|a?b|(?:c|d)e"
    sources = {"act": features._ACT, "call": features._CALL, "target": features._TARGET, "time": features._TIME,
               "place": features._PLACE, "meta": features._META}
    texts = [normalize_text(t) for t, _ in exemplars() + coded_exemplars() + thing_exemplars()] + TEXTS + [
        "at 5 outside the mall", "i'm gonna hunt him down", "police said he was shot", "run them over at dawn"]
    for name, alternatives in sources.items():
        plain = re.compile(r"\b(?:" + alternatives + r")\b")
        grouped = features._RE[name]
        assert grouped.pattern != plain.pattern
        hits = [bool(plain.search(t)) for t in texts]
        assert 0 < sum(hits) < len(texts), name  # the comparison means something
        assert [bool(grouped.search(t)) for t in texts] == hits, name
    words = {w for t in texts for w in re.findall(r"[a-z']+", t)}
    plain_act = re.compile(r"\b(?:" + features._ACT + r")\b")
    assert {w for w in words if features.violent_act(w)} == {w for w in words if plain_act.fullmatch(w)}
