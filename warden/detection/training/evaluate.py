"""`warden eval`: per-set held-out tables for Warden and baselines, HateCheck behavioural report,
Parler flag rates, an obfuscation-robustness check and threats inside longer posts (padding).
Needs the `train` extra (scikit-learn, alt-profanity-check) for the baselines.
"""
from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import numpy as np

from . import datasets as ds
from . import definition_labels
from ..normalize import normalize_text
from .kind_probes import FALSE_ALARM_BAR, MISS_BAR, kind_probe_report
from .probes import (HOLD_AT, coded_probe_report, everyday_threat_report, political_probe_report, slur_probe_report,
                     thing_probe_report)
from .stats import average_precision, compare

LABELS = ds.LABELS

# held-out evaluation sets per label: (source, split)
EVAL_SETS = {
    "violence": [("ghc", "heldout"), ("hateval", "heldout"), ("edos", "test"), ("implicit_hate", "test"),
                 ("ethos", "test"), ("exemplars", "test")],
    "hate": [("ghc", "heldout"), ("tweeteval", "heldout"), ("parler", "heldout"), ("edos", "test"),
             ("implicit_hate", "test"), ("ethos", "test"), ("davidson", "test"), ("hatexplain", "test")],
    "harassment": [("ghc", "heldout"), ("davidson", "test"), ("hatexplain", "test")],
}
OUTSIDE = {"ghc", "hateval", "tweeteval", "parler"}  # sources never trained on

KEYWORDS = [
    "kill", "killed", "killing", "murder", "shoot", "shot", "stab", "hang", "hanged", "lynch", "behead", "slaughter",
    "exterminate", "massacre", "genocide", "bomb", "burn", "execute", "gas", "torture", "bullet", "gun", "guns",
    "knife", "die", "dead", "death", "rope", "noose", "attack", "beat", "destroy", "eliminate", "wipe out",
]
_KW = re.compile(r"\b(?:" + "|".join(re.escape(k) for k in KEYWORDS) + r")\b")

NH_FUNCS = ["counter_quote_nh", "counter_ref_nh", "negate_neg_nh", "ident_neutral_nh", "ident_pos_nh",
            "profanity_nh", "slur_homonym_nh", "slur_reclaimed_nh", "target_group_nh", "target_indiv_nh",
            "target_obj_nh"]
GATED_NH = ["counter_quote_nh", "counter_ref_nh", "negate_neg_nh"]


def require_train_extra() -> None:
    missing = []
    for mod in ("sklearn", "profanity_check"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise RuntimeError(
            "`warden eval` needs the train extra (missing: " + ", ".join(missing) + "). "
            "Install it with: pip install -e '.[train]'")


def keyword_scores(texts: list[str]) -> np.ndarray:
    return np.array([len(_KW.findall(t)) for t in texts], dtype=np.float64)


def metrics(p: np.ndarray, y: np.ndarray, t_auto: float, t_review: float) -> dict:
    from sklearn.metrics import roc_auc_score

    out = {"n": int(len(y)), "pos": int(y.sum())}
    if 0 < y.sum() < len(y):
        out["auprc"] = average_precision(y, p)
        out["roc_auc"] = float(roc_auc_score(y, p))
    for name, t in (("auto", t_auto), ("review", t_review)):
        f = p >= t
        tp = float((f & (y == 1)).sum())
        prec = tp / f.sum() if f.sum() else float("nan")
        rec = tp / y.sum() if y.sum() else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if prec == prec and rec == rec and prec + rec > 0 else 0.0
        out[name] = {"threshold": float(t), "precision": float(prec), "recall": float(rec), "f1": float(f1),
                     "flag_rate": float(f.mean()) if len(f) else float("nan")}
    return out


def _thresholds(p, y, cfg):
    from .train import threshold_for_precision, threshold_for_recall

    return (threshold_for_precision(p, y, cfg["auto_precision"]), threshold_for_recall(p, y, cfg["review_recall"]))


# --------------------------------------------------------------------------- obfuscation

_CONF = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "k": "к"}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def _hashtag(words: list[str], rng: random.Random) -> list[str]:
    """A run of two to four words, one of them a long one, written as one lower-case hashtag
    ("we should #hangthetraitors tonight"), as slogans are."""
    alpha = [i for i, w in enumerate(words) if w.isalpha()]
    if len(alpha) < 2:
        return words
    key = max(alpha, key=lambda i: (len(words[i]), rng.random()))
    lo, hi = key, key + 1
    size = rng.randint(2, 4)
    while hi - lo < size:
        if hi < len(words) and words[hi].isalpha() and (lo == 0 or not words[lo - 1].isalpha() or rng.random() < 0.5):
            hi += 1
        elif lo > 0 and words[lo - 1].isalpha():
            lo -= 1
        else:
            break
    if hi - lo < 2:
        return words
    return words[:lo] + ["#" + "".join(words[lo:hi]).lower()] + words[hi:]


def _broken(word: str, rng: random.Random) -> str:
    """A violent word broken in two or three by a hyphen, dot, underscore, tilde, apostrophe or
    space ("k-ill", "mur der", "ki'll", "k-il-l")."""
    from ..features import violent_act

    core = word.strip(".,!?;:\"'()").lower()
    if len(core) < 3 or not core.isalpha() or not violent_act(core):
        return word
    first = word.lower().index(core)
    cuts = sorted(rng.sample(range(1, len(core)), 2 if len(core) >= 5 and rng.random() < 0.3 else 1))
    sep = rng.choice("-._ '~")
    out, prev = [], 0
    for c in cuts:
        out.append(word[prev:first + c])
        prev = first + c
    out.append(word[prev:])
    return sep.join(out)


def _spaced_run(words: list[str], rng: random.Random) -> list[str]:
    """Two or three words in a row, one of them a long one, spelled out letter by letter as one
    run ("k i l l t h e m"), where a filter would see no word at all."""
    alpha = [i for i, w in enumerate(words) if w.isalpha()]
    if not alpha:
        return words
    key = max(alpha, key=lambda i: (len(words[i]), rng.random()))
    lo, hi = key, key + 1
    size = rng.randint(2, 3)
    while hi - lo < size and hi < len(words) and words[hi].isalpha():
        hi += 1
    return words[:lo] + [" ".join("".join(words[lo:hi]))] + words[hi:]


def obfuscate(text: str, kind: str, rng: random.Random) -> str:
    words = text.split(" ")
    if kind == "hashtag":
        return " ".join(_hashtag(words, rng))
    if kind == "broken":  # every violent word, the ones a filter would key on
        return " ".join(_broken(w, rng) for w in words)
    if kind == "spaced_run":
        return " ".join(_spaced_run(words, rng))
    # obfuscate the longer words, the ones a filter would key on
    cand = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    pick = set(rng.sample(cand, max(1, len(cand) // 2))) if cand else set()
    out = []
    for i, w in enumerate(words):
        if i in pick:
            if kind == "spacing":
                w = " ".join(w)
            elif kind == "leet":
                w = "".join(_LEET.get(c, c) if c.islower() else c for c in w)
            elif kind == "confusables":
                w = "".join(_CONF.get(c, c) for c in w)
            elif kind == "zero_width":
                w = "\u200b".join(w)
            elif kind == "brackets":
                w = "".join(f"({c})" for c in w)
        out.append(w)
    return " ".join(out)


OBF_KINDS = ("spacing", "leet", "confusables", "zero_width", "hashtag", "broken", "spaced_run", "brackets")

# everyday sentences (written for Warden) to bury a post among: a threat inside a longer post
EVERYDAY_POSTS = ("Lovely morning, coffee and a long walk.", "Anyone watching the match tonight?",
                  "New blog post about our garden is up!", "The bus was late again, classic monday.",
                  "Reading a great book about the history of bridges.", "My cat knocked the plant over again.",
                  "Can't believe how expensive groceries are now.", "Happy birthday to my little sister!",
                  "Does anyone know a good plumber in town?", "The new season of that show is great.")


def pad_among(text: str, others: list[str], rng: random.Random) -> str:
    """``text`` placed at a random point among ``others`` (joined by spaces, in their order)."""
    k = rng.randint(0, len(others))
    return " ".join([*others[:k], text, *others[k:]])


def padding_report(det, examples, rng: random.Random, n_gab_negatives: int = 1500) -> dict:
    """Violence scores of held-out posts placed among other posts, per number of others: the
    exemplar test split among ``EVERYDAY_POSTS``, and Gab's calls for violence with a sample of its
    other posts, each among other Gab posts (real text around real text). AUPRC, the positives'
    mean score and their share at or above review and auto, the negatives' share at review."""
    thr = det.thresholds["violence"]
    ex_test = [e for e in examples if e.source == "exemplars" and e.split == "test" and e.labels.get("violence") is not None]
    gab = [e for e in examples if e.source == "ghc" and e.labels.get("violence") is not None]
    gab_neg = [e for e in gab if e.labels["violence"] == 0]
    gab_rows = [e for e in gab if e.labels["violence"] == 1] + rng.sample(gab_neg, min(n_gab_negatives, len(gab_neg)))
    gab_fill = [e.text for e in rng.sample(gab_neg, min(3000, len(gab_neg))) if len(e.text) <= 200]
    out = {}
    for name, rows, counts, others in (
            ("exemplars/test among everyday posts", ex_test, (0, 3, 6, 12),
             lambda k: [rng.choice(EVERYDAY_POSTS) for _ in range(k)]),
            ("ghc/heldout among other Gab posts", gab_rows, (0, 2, 5), lambda k: rng.sample(gab_fill, k))):
        y = np.array([e.labels["violence"] for e in rows])
        for k in counts:
            texts = [pad_among(e.text, others(k), rng) for e in rows]
            p = np.array([d.scores["violence"] for d in det.score_batch(texts, spans=False)])
            out.setdefault(name, {})[str(k)] = {
                "n": len(rows), "pos": int(y.sum()), "auprc": average_precision(y, p),
                "pos_mean": float(p[y == 1].mean()), "pos_review": float((p[y == 1] >= thr["review"]).mean()),
                "pos_auto": float((p[y == 1] >= thr["auto"]).mean()), "neg_review": float((p[y == 0] >= thr["review"]).mean())}
    return out


# --------------------------------------------------------------------------- main


class Components:
    """Every text's cascade components, by the same math as run time (``component_scores``):
    stage 1's probabilities (``p_lin``), stage 2's reading every window as ``thorough`` does
    (``p_enc``), the cascade gate's score (``gate``) and the veto (``veto``: harm words in the post,
    ``features.harm_words``); ``cascade(profile)`` gives what a profile settles and scores."""

    def __init__(self, det, zl, p_lin, p_enc, gate, veto, z, owner, spans, enc_norm, wordless):
        self.det, self.zl, self.p_lin, self.p_enc, self.gate, self.veto = det, zl, p_lin, p_enc, gate, veto
        self._z, self._owner, self._spans, self._enc_norm, self._wordless = z, owner, spans, enc_norm, wordless

    def settled(self, cascade: dict | None) -> np.ndarray:
        """What a profile's ``cascade`` (None: encoder only) settles at stage 1."""
        from ..detector import settled_by_stage1

        if cascade is None:
            return np.zeros(len(self.gate), dtype=bool)
        return settled_by_stage1(self.gate, cascade, veto=self.veto)

    def read_probabilities(self, cascade: dict | None) -> np.ndarray:
        """Stage 2's probabilities reading the windows the profile lets the encoder read
        (``suspicious_windows``: differs from ``p_enc`` only for long posts)."""
        from ..detector import window_max

        if cascade is None or cascade.get("read_windows") is None:
            return self.p_enc
        keep = self.det.suspicious_windows(self._enc_norm, self._owner, self._spans, cascade)
        p = self.det.stage2_probabilities(window_max(self._z[keep], self._owner[keep], len(self.gate)), self.zl)
        p[self._wordless] = 0.0
        return p

    def cascade(self, cascade: dict | None) -> tuple[np.ndarray, np.ndarray]:
        """(settled mask, probabilities) under a profile's ``cascade`` (None: encoder only)."""
        settled = self.settled(cascade)
        return settled, np.where(settled[:, None], self.p_lin, self.read_probabilities(cascade))


#: the cascade bar: `balanced` within this much AUPRC of `thorough` on every violence set
CASCADE_GAP_BAR = 0.005


def cascade_gap(src: np.ndarray, split: np.ndarray, y: np.ndarray, p_thorough: np.ndarray,
                p_balanced: np.ndarray) -> dict:
    """Per violence set, how much AUPRC `balanced` gives up against `thorough` (thorough - balanced),
    with a stratified paired bootstrap interval, and whether that meets ``CASCADE_GAP_BAR``. A set
    with few positives cannot tell a gap of 0.005 from none: one positive settled at stage 1 moves
    ETHOS's AUPRC by several hundredths. The verdict says so where the interval spans the bar."""
    out = {}
    for source, sp in EVAL_SETS["violence"]:
        m = (src == source) & (split == sp) & ~np.isnan(y)
        if not (y[m] == 1).any():
            continue
        c = compare(y[m], p_thorough[m], p_balanced[m])
        gap, (lo, hi) = c["diff"], c["diff_ci"]
        if gap <= CASCADE_GAP_BAR:
            verdict = "met"
        elif lo <= CASCADE_GAP_BAR:
            verdict = "not met (the interval spans the bar)"
        else:
            verdict = "not met"
        out[f"{source}/{sp}"] = {"gap": gap, "ci": [lo, hi], "positives": int((y[m] == 1).sum()), "verdict": verdict}
    return out


def profile_scores(det, comp: Components) -> tuple[np.ndarray, np.ndarray]:
    """(settled by stage 1, probabilities) as the model scores under its own profile: what `warden eval`
    reports and the held-out check of `warden train --with-decisions` compares."""
    return comp.cascade(det.cascade if det.use_cascade else None)


def component_scores(det, norm: list[str], use_cache: bool = True, log=print) -> Components:
    """By the same math as run time, for every normalised text: stage 1's probabilities; stage 2's
    (stacked) reading every window, as ``thorough`` does; the window logits that the profiles with a
    cut read from; the cascade gate's score and the veto. The window embeddings come from the
    training cache under data/cache when it can."""
    from ..detector import has_words, window_max
    from ..features import harm_words

    z_all = det._linear(norm)
    zl = z_all[:, :len(det.labels)]
    gate = det.gate(z_all, norm)
    enc_norm, wins, owner, spans = det.encoder_windows(norm)  # what the encoder reads (slurs.py)
    emb = None
    if use_cache:
        try:
            from .embcache import EmbCache, file_digest

            cache = EmbCache(Path(__file__).resolve().parents[3] / "data" / "cache", det.encoder,
                             file_digest(det.model_dir / det.meta["encoder"]["file"]))
            cache.ensure(enc_norm, log=log)
            emb, cached_owner = cache.get(enc_norm)
            assert np.array_equal(cached_owner, owner)
        except Exception as exc:  # pragma: no cover - fall back to the encoder directly
            log(f"embedding cache unavailable ({exc}); running the encoder")
            emb = None
    if emb is None:
        emb = det.encoder.embed_windows(wins)
    z = det.window_logits(emb, enc_norm, owner)
    zh_all = window_max(z, owner, len(norm))
    p_lin, p_enc = det.stage1_probabilities(z_all), det.stage2_probabilities(zh_all, zl)
    wordless = np.array([not has_words(t) for t in norm], dtype=bool)
    for p in (p_lin, p_enc):  # as at run time: a text without words scores 0 for every label
        p[wordless] = 0.0
    veto = np.array([harm_words(t) for t in norm], dtype=bool)
    return Components(det, zl, p_lin, p_enc, gate, veto, z, owner, spans, enc_norm, wordless)


def tfidf_features(norm: list[str], is_train: np.ndarray):
    """The TF-IDF baseline's features for every text (word 1-2-grams and character 3-5-grams),
    fitted on the training rows only."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    wv = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200000, sublinear_tf=True)
    cv = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, max_features=300000, sublinear_tf=True)
    tr_texts = [norm[i] for i in np.flatnonzero(is_train)]
    wv.fit(tr_texts)
    cv.fit(tr_texts)
    return hstack([wv.transform(norm), cv.transform(norm)]).tocsr()


def tfidf_scores(X, y_all: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The TF-IDF baseline's probability for every row: a logistic regression fitted on ``train``."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
    clf.fit(X[train], y_all[train])
    return clf.predict_proba(X)[:, 1]


def held_out_results(examples, lab: str, y_all: np.ndarray, sys_scores: dict, thr: dict, settled: np.ndarray,
                     definitions: dict) -> dict:
    """Every system's metrics on each held-out set of ``lab`` (``EVAL_SETS``), against Warden
    (cascade) with TF-IDF's ratio. A set in ``definitions`` (definition_labels: HatEval and ETHOS
    for violence) is scored against the definition's labels; its own labels' figures are kept
    under ``_definition`` for reference only, with the pool, the estimate of what the pool misses
    and how the two labellings agree."""
    split = np.array([e.split for e in examples])
    src = np.array([e.source for e in examples])
    known = ~np.isnan(y_all)
    out = {}
    for source, sp in EVAL_SETS[lab]:
        name = f"{source}/{sp}"
        m = (src == source) & (split == sp) & known
        if m.sum() == 0:
            continue
        y = y_all[m]
        ref = None
        if name in definitions:
            texts = [examples[i].text for i in np.flatnonzero(m)]
            dset = definitions[name]
            ref = {"pool": len(dset.pool), "k": dset.k, "scorers": len(dset.scorers),
                   "positives": int(dset.labels(texts).sum()), "missed": dset.missed(),
                   "agreement": dset.agreement(texts, y),
                   "original": {sys_name: {"n": int(len(y)), "pos": int(y.sum()),
                                           "auprc": average_precision(y, p[m]) if 0 < y.sum() < len(y) else None}
                                for sys_name, p in sys_scores.items()}}
            y = dset.labels(texts).astype(np.float64)
        row = {sys_name: metrics(p[m], y, *thr[sys_name]) for sys_name, p in sys_scores.items()}
        row["_settled_frac"] = float(settled[m].mean())
        row["_settled_pos"] = int((settled[m] & (y == 1)).sum())
        row["_outside"] = source in OUTSIDE
        if ref is not None:
            row["_definition"] = ref
        if 0 < y.sum() < len(y):
            row["_vs_tfidf"] = compare(y, sys_scores["warden (cascade)"][m], sys_scores["tf-idf + LR"][m])
        out[name] = row
    return out


def run_eval(data_dir: Path | None = None, model_dir: Path | None = None, out_json: Path | None = None,
             use_cache: bool = True, robustness_sample: int = 400, log=print) -> dict:
    require_train_extra()
    from profanity_check import predict_prob

    from ..detector import Detector
    from .train import CONFIG, TRAIN_SOURCES

    t0 = time.time()
    det = Detector.load(model_dir)
    examples = ds.load_all(data_dir, include_eval=True)
    norm = [normalize_text(e.text) for e in examples]
    log(f"{len(examples)} rows; scoring with {det.version}")

    comp = component_scores(det, norm, use_cache, log)
    p_lin, p_enc = comp.p_lin, comp.p_enc
    settled, p_cas = profile_scores(det, comp)

    # baselines, trained in this run on the same training rows
    split = np.array([e.split for e in examples])
    src = np.array([e.source for e in examples])
    is_train = (split == "train") & np.isin(src, list(TRAIN_SOURCES))
    is_val = (split == "val") & np.isin(src, list(TRAIN_SOURCES))
    log("baselines: TF-IDF word+char n-grams + LR, alt-profanity-check, keywords")
    Xt = tfidf_features(norm, is_train)
    raw = [e.text for e in examples]
    p_prof = np.asarray(predict_prob(raw), dtype=np.float64)
    p_kw = keyword_scores(norm)

    definitions = definition_labels.load()  # HatEval's and ETHOS's violence labels by the definition
    systems = {"warden (cascade)": p_cas, "warden encoder-only": p_enc, "warden linear-only": p_lin}
    results: dict = {"model": det.version, "labels": {}, "cascade_settled_frac": {}}
    for j, lab in enumerate(LABELS):
        y_all = np.array([np.nan if e.labels.get(lab) is None else e.labels[lab] for e in examples])
        known = ~np.isnan(y_all)
        p_tfidf = tfidf_scores(Xt, y_all, is_train & known)
        sys_scores = {**{k: v[:, j] for k, v in systems.items()}, "tf-idf + LR": p_tfidf,
                      "alt-profanity-check": p_prof, "keyword list": p_kw}
        v = is_val & known
        thr = {}
        for name, p in sys_scores.items():
            if name == "warden (cascade)":
                thr[name] = (det.thresholds[lab]["auto"], det.thresholds[lab]["review"])
            else:
                thr[name] = _thresholds(p[v], y_all[v], CONFIG)
        lab_res = held_out_results(examples, lab, y_all, sys_scores, thr, settled,
                                   definitions if lab == "violence" else {})
        results["labels"][lab] = {"thresholds": {k: list(t) for k, t in thr.items()}, "sets": lab_res}

        # HateCheck behavioural report
        if lab in ("violence", "hate"):
            hc = {}
            funcs = np.array([e.meta.get("functionality", "") for e in examples])
            for f in sorted(set(funcs[src == "hatecheck"])):
                m = (src == "hatecheck") & (funcs == f)
                hc[f] = {name: {"n": int(m.sum()), "flag_auto": float((sys_scores[name][m] >= thr[name][0]).mean()),
                                "flag_review": float((sys_scores[name][m] >= thr[name][1]).mean())}
                         for name in ("warden (cascade)", "warden encoder-only", "tf-idf + LR")}
            results["labels"][lab]["hatecheck"] = hc
        # Parler flag rates (no violence labels: how much of a real platform would be actioned)
        m = src == "parler"
        results["labels"][lab]["parler_flag_rate"] = {
            "auto": float((p_cas[m, j] >= det.thresholds[lab]["auto"]).mean()),
            "review": float((p_cas[m, j] >= det.thresholds[lab]["review"]).mean())}
    results["cascade_settled_frac"] = {s: float(settled[src == s].mean()) for s in sorted(set(src))}

    # what the cascade costs: every profile (and encoder-only) on the violence sets
    yv_own = np.array([np.nan if e.labels.get("violence") is None else e.labels["violence"] for e in examples])
    yv = definition_labels.relabel([f"{e.source}/{e.split}" for e in examples], raw, yv_own, definitions)
    jv = LABELS.index("violence")
    stream = np.isin(src, ["parler", "ghc", "davidson", "hatexplain", "tweeteval"])
    prof_res = {}
    options = {name: pr for name, pr in det.meta.get("profiles", {}).items()}
    options["encoder-only"] = None
    scored = {}
    for name, pr in options.items():
        st, p = comp.cascade(None if pr is None else pr["cascade"])
        p = scored[name] = p[:, jv]
        thr_r = None if pr is None else pr["thresholds"]["violence"]["review"]
        row = {"settled_stream": float(st[stream].mean()), "sets": {}}
        for source, sp in EVAL_SETS["violence"]:
            m = (src == source) & (split == sp) & ~np.isnan(yv)
            pos = m & (yv == 1)
            r = {"auprc": average_precision(yv[m], p[m]), "settled_pos": int(st[pos].sum()),
                 "settled_pos_frac": float(st[pos].mean()) if pos.any() else float("nan")}
            if f"{source}/{sp}" in definitions:  # the set's own labels, for reference only
                r["auprc_original"] = average_precision(yv_own[m], p[m])
            if thr_r is not None:
                r["recall_review"] = float((p[m & (yv == 1)] >= thr_r).mean())
            row["sets"][f"{source}/{sp}"] = r
        if thr_r is not None:
            row["parler_review_rate"] = float((p[src == "parler"] >= thr_r).mean())
        prof_res[name] = row
    results["profiles"] = prof_res
    if "balanced" in scored and "thorough" in scored:
        results["cascade_gap"] = cascade_gap(src, split, yv, scored["thorough"], scored["balanced"])

    # robustness: obfuscated copies of violence positives
    rng = random.Random(5)
    pos_idx = [i for i, e in enumerate(examples) if e.labels.get("violence") == 1 and e.split in ("test", "heldout")]
    sample = rng.sample(pos_idx, min(robustness_sample, len(pos_idx)))
    texts = [examples[i].text for i in sample]
    base = np.array([d.scores["violence"] for d in det.score_batch(texts)])
    rob = {}
    for kind in OBF_KINDS:
        obf = [obfuscate(t, kind, rng) for t in texts]
        s = np.array([d.scores["violence"] for d in det.score_batch(obf)])
        rob[kind] = {"mean_abs_diff": float(np.abs(s - base).mean()), "n": len(texts)}
    results["robustness"] = rob
    results["padding"] = padding_report(det, examples, random.Random(11))
    results["coded_probe"] = coded_probe_report(det)
    results["political_probe"] = political_probe_report(det)
    results["thing_probe"] = thing_probe_report(det)
    results["slur_probe"] = slur_probe_report(det)
    results["everyday_threats"] = everyday_threat_report(det)
    results["kind_probes"] = kind_probe_report(det)
    results["seconds"] = round(time.time() - t0, 1)
    if out_json:
        Path(out_json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


def _f(x):
    return "  -  " if x is None or x != x else f"{x:.3f}"


def _bar_table(sets: dict) -> list[str]:
    """Warden (cascade) against TF-IDF per set, with paired bootstrap 95 % intervals, and the
    issue's bar: AUPRC at least 1.5x TF-IDF's, or at least 0.95."""
    rows = [(name, r["_vs_tfidf"]) for name, r in sets.items() if "_vs_tfidf" in r]
    if not rows:
        return []
    lines = [f"Warden (cascade) against TF-IDF + LR, 95 % intervals from {rows[0][1]['n_boot']} stratified paired "
             "bootstrap resamples of each set; bar: ratio >= 1.5 or AUPRC >= 0.95.", "",
             "| set | Warden AUPRC | TF-IDF AUPRC | ratio | bar |", "|---|---|---|---|---|"]
    for name, c in rows:
        met = c["ratio"] >= 1.5 or c["a"] >= 0.95
        unsure = "" if (c["ratio_ci"][0] >= 1.5 or c["a_ci"][0] >= 0.95 or
                        (c["ratio_ci"][1] < 1.5 and c["a_ci"][1] < 0.95)) else " (interval spans the bar)"
        lines.append(f"| {name}{' **outside**' if sets[name]['_outside'] else ''}"
                     f"{' (definition labels)' if '_definition' in sets[name] else ''} | {c['a']:.3f} "
                     f"[{c['a_ci'][0]:.3f}, {c['a_ci'][1]:.3f}] | {c['b']:.3f} [{c['b_ci'][0]:.3f}, {c['b_ci'][1]:.3f}] | "
                     f"{c['ratio']:.2f}x [{c['ratio_ci'][0]:.2f}, {c['ratio_ci'][1]:.2f}] | "
                     f"{'met' if met else 'not met'}{unsure} |")
    lines.append("")
    return lines


def definition_lines(d: dict) -> list[str]:
    """What a set scored on definition labels says about them: the pool, what it misses, how the
    set's own labels agree, and every system's AUPRC on those labels (for reference only)."""
    ms, ag = d["missed"], d["agreement"]
    if ms["rest"] == 0:
        missed = "definition positives outside the pool: 0 (every post is in the pool)"
    elif ms["sample"] == ms["rest"]:
        missed = f"definition positives outside the pool: {ms['sample_positives']} (every post outside it judged)"
    else:
        missed = (f"definition positives outside the pool: {ms['estimate']:.0f} (95 % CI {ms['ci'][0]:.0f}-{ms['ci'][1]:.0f}; "
                  f"{ms['sample_positives']} of a random {ms['sample']} of the {ms['rest']} posts outside it)")
    orig = d["original"]
    first = next(iter(orig.values()))
    lines = [f"Scored on definition labels (warden/detection/training/definition_labels.json): a pool of "
             f"{d['pool']} posts (each of {d['scorers']} scorers' top {d['k']}) judged by the model card's "
             f"definition, {d['positives']} positives; posts outside the pool count as negative; {missed}.",
             f"Agreement with the set's own labels: {ag['both']} positive in both, {ag['original_only']} only in "
             f"the original, {ag['definition_only']} only by the definition, {ag['neither']} in neither "
             f"(kappa {ag['kappa']:.2f}).",
             f"Original labels (reference only, {first['pos']} positives of {first['n']}), AUPRC: "
             + ", ".join(f"{name} {_f(r['auprc'])}" for name, r in orig.items()) + ".", ""]
    return lines


def cascade_gap_lines(gaps: dict) -> list[str]:
    """The cascade bar's table: per set, thorough - balanced AUPRC with its interval and verdict."""
    lines = [f"The cascade bar, `balanced` within {CASCADE_GAP_BAR} AUPRC of `thorough` (thorough - balanced, "
             "95 % stratified paired bootstrap interval, 300 resamples):", "",
             "| set | positives | thorough - balanced | interval | bar |", "|---|---|---|---|---|"]
    for name, g in gaps.items():
        lines.append(f"| {name} | {g['positives']} | {g['gap']:+.4f} | [{g['ci'][0]:+.4f}, {g['ci'][1]:+.4f}] | {g['verdict']} |")
    lines.append("")
    return lines


def format_report(res: dict) -> str:
    lines = [f"# warden eval — {res['model']}", ""]
    for lab, lr in res["labels"].items():
        lines.append(f"## {lab}")
        lines.append("")
        lines.extend(_bar_table(lr["sets"]))
        for setname, rows in lr["sets"].items():
            tag = "outside source, never trained on" if rows["_outside"] else "held-out test split"
            first = next(iter(v for k, v in rows.items() if not k.startswith('_')))
            labels_used = "; definition labels" if "_definition" in rows else ""
            lines.append(f"### {lab} — {setname} ({tag}{labels_used}); n={first['n']}, pos={first['pos']}, "
                         f"settled by stage 1: {rows['_settled_frac']:.1%}")
            lines.append("")
            if "_definition" in rows:
                lines.extend(definition_lines(rows["_definition"]))
            lines.append("| system | AUPRC | ROC AUC | P@auto | R@auto | F1@auto | P@review | R@review | F1@review |")
            lines.append("|---|---|---|---|---|---|---|---|---|")
            for name, m in rows.items():
                if name.startswith("_"):
                    continue
                lines.append(f"| {name} | {_f(m.get('auprc'))} | {_f(m.get('roc_auc'))} | {_f(m['auto']['precision'])} | "
                             f"{_f(m['auto']['recall'])} | {_f(m['auto']['f1'])} | {_f(m['review']['precision'])} | "
                             f"{_f(m['review']['recall'])} | {_f(m['review']['f1'])} |")
            lines.append("")
        if "hatecheck" in lr:
            lines.append(f"### HateCheck flag rates — {lab} (auto / review threshold)")
            lines.append("")
            lines.append("| functionality | n | warden cascade | warden encoder-only | tf-idf + LR |")
            lines.append("|---|---|---|---|---|")
            for f, r in lr["hatecheck"].items():
                cells = [f"{r[s]['flag_auto']:.1%} / {r[s]['flag_review']:.1%}"
                         for s in ("warden (cascade)", "warden encoder-only", "tf-idf + LR")]
                lines.append(f"| {f} | {r['warden (cascade)']['n']} | " + " | ".join(cells) + " |")
            lines.append("")
        pf = lr["parler_flag_rate"]
        lines.append(f"Parler (unlabelled for {lab}): flagged {pf['auto']:.1%} at auto, {pf['review']:.1%} at review.")
        lines.append("")
    if "profiles" in res:
        lines.append("## What the cascade costs (violence AUPRC per profile; stream = Parler+Gab+Twitter posts)")
        lines.append("")
        sets = list(next(iter(res["profiles"].values()))["sets"])
        lines.append("| profile | settled by stage 1 (stream) | " + " | ".join(sets) + " | Parler review rate |")
        lines.append("|---|---|" + "---|" * len(sets) + "---|")
        for name, row in res["profiles"].items():
            cells = [f"{row['sets'][s_]['auprc']:.3f}" + (f" (own labels {row['sets'][s_]['auprc_original']:.3f})"
                                                        if "auprc_original" in row["sets"][s_] else "") for s_ in sets]
            pr = row.get("parler_review_rate")
            lines.append(f"| {name} | {row['settled_stream']:.1%} | " + " | ".join(cells) + f" | {'-' if pr is None else f'{pr:.1%}'} |")
        lines.append("")
        lines.append("Violence positives settled by stage 1 (count, share of the set's positives); bar: `balanced` "
                     "within 0.005 AUPRC of `thorough` on every set.")
        lines.append("")
        lines.append("| profile | " + " | ".join(sets) + " |")
        lines.append("|---|" + "---|" * len(sets))
        for name, row in res["profiles"].items():
            if name == "encoder-only":
                continue
            lines.append(f"| {name} | " + " | ".join(f"{row['sets'][s_]['settled_pos']} ({row['sets'][s_]['settled_pos_frac']:.0%})"
                                                    for s_ in sets) + " |")
        lines.append("")
        if "cascade_gap" in res:
            lines.extend(cascade_gap_lines(res["cascade_gap"]))
    lines.append("## Robustness (violence positives, obfuscated copies): mean |score change|")
    lines.append("")
    for k, v in res["robustness"].items():
        lines.append(f"- {k}: {v['mean_abs_diff']:.3f} (n={v['n']})")
    lines.append("")
    if "padding" in res:
        lines.append("## Threats inside longer posts (violence, default profile): each post among k others")
        lines.append("")
        lines.append("| set | k | n / pos | AUPRC | positives: mean score | at review | at auto | negatives at review |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for name, by_k in res["padding"].items():
            for k, r in by_k.items():
                lines.append(f"| {name} | {k} | {r['n']} / {r['pos']} | {r['auprc']:.3f} | {r['pos_mean']:.2f} | "
                             f"{r['pos_review']:.1%} | {r['pos_auto']:.1%} | {r['neg_review']:.1%} |")
        lines.append("")
    sections = []  # the probes (probes.py): (title, bullet lines)
    if "coded_probe" in res:
        c, t = res["coded_probe"]["calls"], res["coded_probe"]["twins"]
        sections.append(("Coded incitement (violence, default profile; warden/detection/probes.py, never trained on)", [
            f"- {c['n']} coded calls: {c['at_hold']:.0%} at {HOLD_AT} (the default policy's hold), "
            f"{c['at_0.5']:.0%} at 0.5, {c['at_auto']:.0%} at auto; mean score {c['mean']:.2f}",
            f"- {t['n']} benign twins sharing their words: {t['at_hold']:.0%} at {HOLD_AT}; highest {t['max']:.2f}"]))
    if "political_probe" in res:
        p = res["political_probe"]
        sections.append(("Heated politics that is not violence (violence, default profile; probes.py, never trained on)", [
            f"- {p['n']} calls to deport, jail or ban: {p['at_auto']:.0%} at auto (refused by the default "
            f"policy), {p['at_hold']:.0%} at {HOLD_AT}; mean score {p['mean']:.2f}, highest {p['max']:.2f}"]))
    def rates(r: dict, what: str, note: str = "") -> str:
        return (f"- {r['n']} {what}: {r['at_auto']:.0%} at auto{note}, {r['at_hold']:.0%} at {HOLD_AT}; "
                f"mean score {r['mean']:.2f}")

    if "thing_probe" in res:
        th, pe = res["thing_probe"]["things"], res["thing_probe"]["people"]
        sections.append(("Violent words aimed at things, not people (violence, default profile; probes.py)", [
            rates(th, "posts about illness, machines, days, pests and games", " (refused by the default policy)"),
            rates(pe, "twins aimed at people")]))
    if "slur_probe" in res:
        sl, gr = res["slur_probe"]["slurs"], res["slur_probe"]["groups"]
        sections.append(("Calls to violence aimed at a slur (violence, default profile; probes.py)", [
            rates(sl, "calls aimed at a slur"), rates(gr, "twins naming the group"),
            rates(res["slur_probe"]["everyday"], "everyday posts with those slurs, no call to violence")]))
    if "everyday_threats" in res:
        ev = res["everyday_threats"]
        sections.append(("Threats in everyday speech (violence, default profile; probes.py)", [
            rates(ev["threats"], "threats to one person in everyday speech (\"imma pull up and fuck u up\")"),
            rates(ev["twins"], "twins sharing their words, no threat")]))
    if "kind_probes" in res:
        kp = res["kind_probes"]
        sections.append(("The outside evaluation's miss and false-alarm kinds (violence, default profile; kind_probes.py, "
                         "never trained on)", [
            *[f"- miss, {name}: {r['n']} posts, {r['at_hold']:.0%} at {HOLD_AT} (bar >= {MISS_BAR:.0%}: "
              f"{'met' if r['met'] else 'not met'}), {r['at_review']:.0%} at review, {r['at_auto']:.0%} at auto; "
              f"mean score {r['mean']:.2f}" for name, r in kp["miss"].items()],
            *[f"- false alarm, {name}: {r['n']} posts, {r['at_auto']:.0%} at auto (bar <= {FALSE_ALARM_BAR:.0%}: "
              f"{'met' if r['met'] else 'not met'}), {r['at_hold']:.0%} at {HOLD_AT}; mean score {r['mean']:.2f}"
              for name, r in kp["false_alarm"].items()]]))
    for title, bullets in sections:
        lines.extend([f"## {title}", "", *bullets, ""])
    lines.append(f"eval took {res['seconds']}s")
    return "\n".join(lines)
