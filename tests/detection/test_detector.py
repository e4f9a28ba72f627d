"""Behaviour of the shipped detection model (loads the committed artefacts; no training)."""
import json
import subprocess
import sys
import threading

from dataclasses import replace

import numpy as np
import pytest

from warden.detection import Detection, Detector, Span, get_detector

CALLS = [
    "We should kill all the immigrants at the border tonight. Bring your guns.",
    "Someone needs to put a bullet in the mayor's head.",
    "I know where you live and I'm coming to kill you.",
    "All of them deserve to be hanged, every last one.",
]
BENIGN_TRICKY = [
    "I'll kill for a coffee right now",
    "Calls to kill immigrants are disgusting and everyone should condemn them.",
    "Police said the suspect shot two people outside the bank on Monday.",
    "We destroyed them 5-0 last night, what a game!",
    "In the novel, the knight kills the dragon in the final chapter.",
]


def test_interface(detector):
    d = detector.score("hello world")
    assert isinstance(d, Detection)
    assert set(d.scores) == {"violence", "hate", "harassment"}
    assert all(0.0 <= p <= 1.0 for p in d.scores.values())
    assert d.model.startswith("warden-violence-")
    assert d.stage in ("linear", "encoder")  # "empty" only for a post without words
    for lab in ("violence", "hate", "harassment"):
        t = detector.thresholds[lab]
        assert 0.0 < t["review"] <= t["auto"] < 1.0


@pytest.mark.parametrize("text", CALLS)
def test_calls_to_violence_reach_review(detector, text):
    d = detector.score(text)
    assert d.scores["violence"] >= detector.thresholds["violence"]["review"], (text, d.scores)
    assert d.stage == "encoder"


@pytest.mark.parametrize("text", BENIGN_TRICKY)
def test_idioms_news_condemnation_below_auto(detector, text):
    d = detector.score(text)
    assert d.scores["violence"] < detector.thresholds["violence"]["auto"], (text, d.scores)


def test_calls_outscore_their_benign_twins(detector):
    call = detector.score("we should kill all the immigrants").scores["violence"]
    idiom = detector.score("I'd kill for a coffee").scores["violence"]
    assert call > idiom


def test_a_threat_in_a_reply_or_a_hashtag_scores_as_the_plain_threat(detector):
    plain = detector.score("I am going to kill you tomorrow").scores["violence"]
    assert plain >= detector.thresholds["violence"]["review"]
    for dressed in ("@bob@mastodon.social I am going to kill you tomorrow",
                    "RT @news: I am going to kill you tomorrow https://example.com/x",
                    "#IAmGoingToKillYouTomorrow", "#iamgoingtokillyoutomorrow"):
        assert detector.score(dressed).scores["violence"] == pytest.approx(plain, abs=0.05), dressed


def test_spans_point_into_the_original_text(detector):
    text = "We should k1ll them all tonight, bring the 🔫"
    d = detector.score(text)
    assert d.scores["violence"] >= detector.thresholds["violence"]["review"]
    vio = [s for s in d.spans if s.label == "violence"]
    assert vio and all(isinstance(s, Span) and 0 <= s.start < s.end <= len(text) for s in vio)
    assert any("k1ll" in text[s.start:s.end] for s in vio), [text[s.start:s.end] for s in vio]


def test_batch_matches_single_and_keeps_order(detector):
    texts = CALLS + BENIGN_TRICKY
    batch = detector.score_batch(texts)
    assert len(batch) == len(texts)
    for t, b in zip(texts, batch):
        assert b.scores == pytest.approx(detector.score(t).scores, abs=1e-3)
    assert detector.score_batch([]) == []


def test_everyday_posts_settled_by_stage_one(detector):
    # (the gate weighs a post's cost too: a short post such as "I love my cat" is cheap enough that
    # the balanced profile, which settles only what stage 1 is sure of, sends it to the encoder)
    for text in ("Just finished reading a great book about the history of bridges in the north of England.",
                 "Lovely morning, coffee and a long walk.", "Does anyone know a good plumber in town?",
                 "The bus was late again this morning and I missed the start of the meeting, classic monday."):
        d = detector.score(text)
        assert d.stage == "linear", text
        assert d.scores["violence"] < detector.thresholds["violence"]["review"], text


def test_long_text_is_read_in_full(detector):
    filler = "The council met on Tuesday to discuss the new bike lanes and the library budget. " * 40
    threat = "We should kill all the immigrants at the border tonight. Bring your guns."
    assert detector.score(filler).scores["violence"] < detector.thresholds["violence"]["review"]
    assert detector.score(filler + threat).scores["violence"] >= detector.thresholds["violence"]["review"]


def test_window_spans_cover_the_text_in_overlapping_windows(detector):
    from warden.detection.normalize import normalize

    text = normalize("The council met on Tuesday to discuss the new bike lanes. " * 30).text
    wins, owner, spans = detector.encoder.windows_with_spans([text, "hello world"])
    plain_wins, plain_owner = detector.encoder.windows([text, "hello world"])
    assert wins == plain_wins and owner.tolist() == plain_owner.tolist()
    long_spans = [sp for sp, o in zip(spans, owner) if o == 0]
    assert len(long_spans) > 4 and spans[-1] == (0, len("hello world"))
    assert long_spans[0][0] == 0 and long_spans[-1][1] == len(text)
    assert all(a[0] < b[0] < a[1] for a, b in zip(long_spans, long_spans[1:]))  # each overlaps the next


def test_encoder_reads_the_most_suspicious_windows_of_a_long_post(detector):
    from warden.detection.normalize import normalize

    filler = "The council met on Tuesday to discuss the new bike lanes and the library budget. " * 20
    threat = "We should kill all the immigrants at the border tonight. Bring your guns. "
    post = filler + threat + filler
    text = normalize(post).text
    _, owner, spans = detector.encoder.windows_with_spans([text])
    keep = detector.suspicious_windows([text], owner, spans)
    assert len(owner) > 6 and keep.sum() == detector.cascade["read_windows"] == 2
    assert all("kill" in text[slice(*spans[k])] for k in keep.nonzero()[0])
    # the threat's window gives the post's score: the same as reading every window
    thorough = Detector.load(profile="thorough")
    assert thorough.reads_every_window and not detector.reads_every_window
    got, every = detector.score(post), thorough.score(post)
    assert got.stage == every.stage == "encoder"
    assert got.scores["violence"] == pytest.approx(every.scores["violence"], abs=1e-6)
    assert got.scores["violence"] >= detector.thresholds["violence"]["review"]


def test_settled_violence_score_reads_the_gates_estimate_of_the_encoder(detector):
    """A post stage 1 settles is scored by Platt scaling of its violence logit and the gate's
    estimate of the encoder's logit (only violence reads the gate)."""
    from warden.detection.normalize import normalize

    text = "Just finished reading a great book about the history of bridges in the north of England."
    d = Detector.load().score(text)  # a detector of its own: the session's may have it cached ("cached")
    assert d.stage == "linear"
    z = detector._linear([normalize(text).text])
    cal = detector.meta["calibration"]
    assert cal["violence"]["linear"]["a_gate"] > 0 and "a_gate" not in cal["hate"]["linear"]
    v = cal["violence"]["linear"]
    expected = 1 / (1 + np.exp(-(v["a"] * z[0, 0] + v["a_gate"] * z[0, -1] + v["c"])))
    assert d.scores["violence"] == pytest.approx(expected, abs=1e-6)
    without = detector.stage1_probabilities(np.concatenate([z[:, :-1], z[:, -1:] - 3.0], axis=1))
    assert without[0, 0] < d.scores["violence"]          # a lower estimate, a lower score
    assert without[0, 1] == pytest.approx(d.scores["hate"], abs=1e-6)


def test_get_detector_is_a_thread_safe_singleton():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_detector())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(d) for d in seen}) == 1
    assert isinstance(seen[0], Detector)


def test_runtime_imports_no_training_libraries():
    code = ("import sys, warden.detection as d; d.get_detector().score_batch(['we should kill them', 'hi']);"
            "bad=[m for m in ('torch','transformers','sklearn') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_head_runs_on_one_blas_thread_and_restores_the_setting():
    from threadpoolctl import threadpool_info

    from warden.detection.detector import head_logits

    def blas_threads() -> list[int]:
        # numpy's own BLAS, the one the head's products run on; scipy's or torch's, loaded by other
        # tests after the detector was imported, are not the head's
        libs = [i for i in threadpool_info() if i["user_api"] == "blas"]
        own = [i for i in libs if "numpy" in i["filepath"]]
        return [i["num_threads"] for i in own or libs]

    seen: list[list[int]] = []

    class Probe:  # stands in for W1: records the BLAS threads while the head multiplies by it
        __array_ufunc__ = None  # numpy defers `x @ probe` to __rmatmul__

        def __init__(self, w):
            self.w = w

        def __rmatmul__(self, x):
            seen.append(blas_threads())
            return x @ self.w

    rng = np.random.default_rng(0)
    head = {"mu": np.zeros(8, np.float32), "sd": np.ones(8, np.float32), "W1": rng.normal(size=(8, 4)),
            "b1": np.zeros(4), "W2": rng.normal(size=(4, 1)), "b2": np.zeros(1)}
    X = rng.normal(size=(5, 8))
    before = blas_threads()
    expected = head_logits(head, X)
    got = head_logits({**head, "W1": Probe(head["W1"])}, X)
    assert seen and seen[0] and all(n == 1 for n in seen[0])
    assert np.array_equal(got, expected)
    assert blas_threads() == before  # the limit is scoped to the call


def test_repeated_posts_are_scored_once_and_keep_their_scores():
    det = Detector.load()
    scored: list[int] = []
    real = det._stage1  # both score_batch and score_many start the cascade here
    det._stage1 = lambda texts: scored.append(len(texts)) or real(texts)
    raid = "We should k1ll them all tonight"
    first = det.score_batch([raid, "hello world", raid.upper(), "we should kill them all tonight"])
    assert scored == [2]  # three spellings of one normalised text, and one other post
    assert first[0].scores == first[2].scores == first[3].scores
    assert first[0].stage == first[2].stage
    assert first[2].spans and all(raid.upper()[s.start:s.end].isupper() for s in first[2].spans)  # its own text
    again = det.score_batch(["hello world", raid])
    assert scored == [2]  # nothing new to score
    assert [d.scores for d in again] == [first[1].scores, first[0].scores]
    many = list(det.score_many(iter([raid, "Does anyone know a good plumber in town?", raid])))
    assert [d.stage for d in many] == ["cached", "linear", "cached"]  # scored before this call: "cached"
    assert many == [det.score_batch([raid], spans=False)[0],
                    replace(det.score_batch(["Does anyone know a good plumber in town?"], spans=False)[0], stage="linear"),
                    det.score_batch([raid], spans=False)[0]]
    assert scored == [2, 1]
    assert det.cache.hits >= 4 and len(det.cache) == 3


@pytest.mark.parametrize("profile", ["balanced", "thorough"])
def test_a_post_without_words_scores_zero_and_runs_no_model(profile):
    det = Detector.load(profile=profile)
    scored: list[list[str]] = []
    real = det._stage1
    det._stage1 = lambda texts: scored.append(texts) or real(texts)
    wordless = ["", "@bob", "@bob@mastodon.social https://example.com/x", "...!!", "🙂🙂", " _ "]
    got = det.score_batch(wordless + ["hello world"])
    assert scored == [["hello world"]]  # neither stage ran for the wordless posts
    for d in got[:-1]:
        assert d.stage == "empty" and d.spans == []
        assert d.scores == {"violence": 0.0, "hate": 0.0, "harassment": 0.0}
    assert got[-1].stage != "empty"
    many = list(det.score_many(iter(wordless + ["🔫 at dawn", "日本語のテキスト"])))
    assert [d.stage for d in many[:-2]] == ["empty"] * len(wordless)
    assert all(d.stage != "empty" for d in many[-2:])  # a weapon emoji reads as a word; any script counts
    assert many[-2].scores["violence"] > 0


def test_score_cache_keeps_the_most_recently_used(monkeypatch):
    from warden.detection.detector import ScoreCache

    cache = ScoreCache(2)
    keys = [ScoreCache.key(t) for t in ("a", "b", "c")]
    rows = np.arange(9, dtype=np.float64).reshape(3, 3)
    cache.put(keys[:2], rows[:2], np.array([True, False]))
    assert cache.get([keys[0]])[0][1] is True            # "a" used: "b" is now the oldest
    cache.put(keys[2:], rows[2:], np.array([False]))
    got = cache.get(keys)
    assert got[1] is None and np.array_equal(got[0][0], rows[0]) and np.array_equal(got[2][0], rows[2])
    off = ScoreCache(0)
    off.put(keys, rows, np.zeros(3, dtype=bool))
    assert len(off) == 0 and off.get(keys) == [None, None, None]
    monkeypatch.setenv("WARDEN_DETECTION_CACHE", "0")
    det = Detector.load()
    det.score_batch(["hello world"])
    assert len(det.cache) == 0


def test_profiles_trade_speed_for_recall():
    fast = Detector.load(profile="fast")
    balanced = Detector.load(profile="balanced")
    careful = Detector.load(profile="careful")
    assert fast.cascade["length_weight"] == balanced.cascade["length_weight"]  # one gate, three cuts
    assert fast.cascade["gate_below"] >= balanced.cascade["gate_below"] > careful.cascade["gate_below"]
    # the write path's default still settles everyday short posts; careful sends more on to the encoder
    everyday = ["Anyone watching the match tonight?", "good morning everyone, coffee time"]
    assert all(d.stage == "linear" for d in balanced.score_batch(everyday))
    assert sum(d.stage == "linear" for d in careful.score_batch(everyday)) < len(everyday)
    texts = ["Just finished reading a great book about bridges.", "We should kill all the immigrants tonight.",
             "Anyone watching the match tonight?", "The bus was late again"]
    settled_fast = sum(d.stage == "linear" for d in fast.score_batch(texts))
    settled_bal = sum(d.stage == "linear" for d in balanced.score_batch(texts))
    assert settled_fast >= settled_bal
    with pytest.raises(ValueError):
        Detector.load(profile="nope")


def test_thorough_profile_sends_every_post_to_the_encoder():
    thorough = Detector.load(profile="thorough")
    texts = CALLS + BENIGN_TRICKY + ["Anyone watching the match tonight?"]
    got = thorough.score_batch(texts)
    assert all(d.stage == "encoder" for d in got)
    forced = Detector.load(use_cascade=False).score_batch(texts)
    assert [d.scores for d in got] == [d.scores for d in forced]


def test_scores_without_spans_are_the_same(detector):
    texts = CALLS + BENIGN_TRICKY
    with_spans = detector.score_batch(texts)
    bare = detector.score_batch(texts, spans=False)
    assert [d.scores for d in bare] == [d.scores for d in with_spans]
    assert all(d.spans == [] for d in bare)
    assert any(d.spans for d in with_spans)


def test_score_many_matches_score_batch_in_order(detector):
    texts = (CALLS + BENIGN_TRICKY) * 3 + ["hello world"]
    many = list(detector.score_many(iter(texts), batch_size=4))  # several batches, the last one short
    # the same up to float rounding (onnxruntime may split a batch's windows over threads differently)
    for d, b in zip(many, detector.score_batch(texts), strict=True):
        assert d.scores == pytest.approx(b.scores, abs=1e-4)
    assert [d.stage for d in many] == [d.stage for d in detector.score_batch(texts)]
    assert all(d.spans == [] for d in many)
    assert list(detector.score_many([])) == []


def test_score_many_shortens_the_switch_interval_while_it_runs_and_restores_it(detector):
    from warden.detection.detector import SCORE_MANY_SWITCH_INTERVAL

    before = sys.getswitchinterval()
    assert before > SCORE_MANY_SWITCH_INTERVAL  # CPython's default, 5 ms
    first = detector.score_many(iter(CALLS), batch_size=1)
    second = detector.score_many(iter(BENIGN_TRICKY), batch_size=1)
    next(first)
    assert sys.getswitchinterval() == pytest.approx(SCORE_MANY_SWITCH_INTERVAL)
    next(second)  # two overlapping runs: the interval comes back only when both have ended
    assert list(first) and sys.getswitchinterval() == pytest.approx(SCORE_MANY_SWITCH_INTERVAL)
    assert list(second)
    assert sys.getswitchinterval() == before
    with pytest.raises(ZeroDivisionError):  # a run that fails restores it too
        list(detector.score_many(1 / 0 if i else t for i, t in enumerate(CALLS)))
    assert sys.getswitchinterval() == before


def test_version_names_the_shipped_weights_and_cascade(detector):
    from warden.detection.training.train import model_digest, scoring_of

    scoring = scoring_of(detector.meta)
    assert detector.version.endswith("-" + model_digest(detector.model_dir, scoring))
    # reading posts in other windows changes their scores: the version too
    assert model_digest(detector.model_dir, {**scoring, "encoder_windows": [128, 32]}) != \
        model_digest(detector.model_dir, {**scoring, "encoder_windows": [64, 32]})
    # another cut in a profile changes final scores, so it must change the version too, and so
    # must another reading of the post by the encoder
    moved = json.loads(json.dumps(scoring))
    moved["profiles"]["balanced"]["cascade"]["gate_below"] += 0.5
    assert model_digest(detector.model_dir, moved) != model_digest(detector.model_dir, scoring)
    assert model_digest(detector.model_dir, {**scoring, "encoder_reading": None}) != \
        model_digest(detector.model_dir, scoring)


def test_the_encoder_reads_slurs_as_the_groups_they_name_and_stage_1_reads_them_as_written():
    from warden.detection.slurs import SLUR_GROUPS, encoder_reading, reader_for

    read_slurs_as_groups = reader_for(encoder_reading())
    assert read_slurs_as_groups("gas the kikes") == "gas the jews"
    assert read_slurs_as_groups("beat that tranny's ass, and the spics too") == \
        "beat that trans woman's ass, and the mexicans too"
    assert read_slurs_as_groups("i'm going to kill that bitch") == "i'm going to kill that woman"
    for kept in ("spicy food", "coon hunting season", "out of fags, going to the shop", "a cocoon", "pakistani food",
                 "grab a hoe and chop the thistles down", "stop bitching"):
        assert read_slurs_as_groups(kept) == kept
    assert reader_for(None)("gas the kikes") == "gas the kikes"  # models before the reading
    assert reader_for({"slurs_as_groups": {"kikes": "people"}})("gas the kikes") == "gas the people"
    with pytest.raises(ValueError):
        reader_for({"something_else": {}})
    assert encoder_reading() == {"slurs_as_groups": SLUR_GROUPS}


def test_calls_to_violence_aimed_at_a_slur_score_as_the_same_calls_naming_the_group(detector):
    """The fine-tuned encoder learnt that a slur makes a post less violent ("gas the kikes" 0.19,
    "gas the jews" 0.71). Reading the slur as the group (slurs.py), a call aimed at a slur scores
    about as its twin naming the group; without that reading, far lower."""
    from warden.detection.training.probes import GROUP_TWINS, SLUR_CALLS, slur_probe_report

    report = slur_probe_report(detector)
    slurs, groups = report["slurs"], report["groups"]
    assert slurs["n"] == len(SLUR_CALLS) and groups["n"] == len(GROUP_TWINS)
    assert groups["mean"] - slurs["mean"] <= 0.05 and slurs["at_hold"] >= 0.8
    meta = {k: v for k, v in detector.meta.items() if k != "encoder_reading"}  # as models before it
    plain = Detector(detector.model_dir, meta, {"W": detector.W, "b": detector.b}, detector.head,
                     encoder=detector.encoder)
    unread = slur_probe_report(plain)["slurs"]
    assert slurs["mean"] - unread["mean"] >= 0.1 and unread["at_hold"] <= 0.7
    # stage 1 reads the slurs: the hate score of a slur post is stage 1's and the head's together,
    # and what stage 1 reads of it is unchanged
    z_read = detector._linear(["gas the kikes"])
    assert np.array_equal(z_read, plain._linear(["gas the kikes"]))


def test_everyday_posts_with_a_slur_are_not_made_violent_by_reading_it_as_a_group(detector):
    """"life's a bitch" must not read as a threat to women: none of ``EVERYDAY_SLURS`` reaches the
    holding point."""
    from warden.detection.training.probes import EVERYDAY_SLURS, slur_probe_report

    everyday = slur_probe_report(detector)["everyday"]
    assert everyday["n"] == len(EVERYDAY_SLURS) and everyday["at_hold"] == 0.0


def test_gate_reads_a_long_posts_short_chunks_but_a_settled_score_does_not(detector):
    """A threat among everyday sentences: read as a whole and in 400-char chunks, stage 1's
    estimate of the encoder falls below the cut and the post would be settled; one of its
    160-char chunks lifts the gate above it, so the encoder reads the post. A settled post's
    probability keeps the estimate without the short chunks (``gate_estimate``)."""
    from warden.detection.detector import gate_estimate, gate_scores
    from warden.detection.training.evaluate import EVERYDAY_POSTS
    from warden.detection.normalize import normalize

    filler = " ".join(EVERYDAY_POSTS[:6])
    text = f"{filler} I am going to kill you tomorrow. {filler}"
    norm = [normalize(text).text]
    z = detector._linear(norm)
    n_chars = np.array([len(norm[0])])
    plain = gate_scores(z[:, -1], n_chars, detector.cascade["length_weight"])
    assert plain[0] < detector.cascade["gate_below"] <= detector.gate(z, norm)[0]
    assert detector.score(text).stage == "encoder"
    assert gate_estimate(detector.W, detector.b, z[:, -1], ["a short post"])[0] == z[0, -1]  # nothing to lift
    benign = f"{filler} {filler}"
    d = detector.score(benign)
    assert d.stage == "linear"
    zb = detector._linear([normalize(benign).text])
    assert d.scores["violence"] == pytest.approx(detector.stage1_probabilities(zb)[0, 0], abs=1e-6)


def test_score_stage1_answers_at_once_what_stage_1_settles_and_leaves_the_encoder_to_rest():
    staged, whole = Detector.load(), Detector.load()
    everyday = "Anyone watching the match tonight?"
    settled, rest = staged.score_stage1(everyday)
    assert settled is not None and settled.stage == "linear" and rest() is settled
    assert settled.scores == whole.score(everyday).scores
    pending, rest = staged.score_stage1(CALLS[1])
    assert pending is None  # the encoder has not run: that is for `rest`, in a thread
    got = rest()
    assert got.stage == "encoder" and got.scores == whole.score(CALLS[1]).scores
    again, _ = staged.score_stage1(CALLS[1])  # scored once: from the cache now, at once
    assert again is not None and again.stage == "cached" and again.scores == got.scores
