"""Run-time detector: normalise -> stage 1 (hashed n-gram linear model) -> stage 2 (int8 MiniLM +
MLP head, only for texts stage 1 does not settle) -> calibrated probabilities + highlight spans.

Only numpy, onnxruntime, tokenizers and threadpoolctl are imported here, and Warden's metric
definitions (prometheus-client): each stage's time is observed once per batch (``_stage1``,
``_stage2``, ``score_batch`` for a batch answered from the cache), never per post, so the cost is
two clock reads a batch.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import numpy as np
from threadpoolctl import ThreadpoolController

from warden.observability.metrics import DETECTION_POSTS, DETECTION_SECONDS

from .features import HARM_WORDS_DIGEST, chunked_linear_logits, harm_words, short_chunk_logits, structure_flags, word_spans
from .normalize import Normalized, normalize
from .slurs import reader_for

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "model"


@dataclass(frozen=True)
class Span:
    """A span of the ORIGINAL text that drove a label's score."""
    start: int
    end: int
    label: str
    weight: float


@dataclass(frozen=True)
class Detection:
    scores: dict[str, float]
    spans: list[Span]
    model: str
    #: Which stage settled the post: "linear", "encoder", "empty" (nothing to read: see ``has_words``),
    #: "cached" (scored before, ``ScoreCache``) or "unavailable" (it needed the encoder, which did not
    #: answer: a detection pool that is down or slow, warden/detection/pool.py; ``scores`` is then empty).
    stage: str
    #: The post as the detector read it (with the offset map to what was written), so that the
    #: policy's keyword and list rules, which match the same reading, need not normalise it again.
    normalized: Normalized | None = field(default=None, compare=False, repr=False)


_WORD_CHAR = re.compile(r"[^\W_]")


def has_words(norm_text: str) -> bool:
    """Whether normalised text holds a letter or digit (in any script). A post without one (only
    mentions, links, punctuation or emoji other than the weapons that are read as words; an image
    post without a caption) says nothing the models can read, so every label scores 0 and neither
    stage runs. Scored as it stands, the empty string would get what the training data taught for
    it: tweets that were only mentions and links, mostly marked offensive, so harassment about 0.5."""
    return _WORD_CHAR.search(norm_text) is not None


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


_BLAS = ThreadpoolController()


def head_logits(head: dict, X: np.ndarray) -> np.ndarray:
    """The MLP head's logits for its inputs ``X`` (a window's embedding and its text's structure
    flags, one row a window). Its matrix products run on one BLAS thread: they are small (a batch's
    few hundred windows take milliseconds), and after a product on several threads OpenBLAS's
    worker spins for about 0.1 s of a core, on the cores the encoder's threads need. The same
    result to the bit."""
    with _BLAS.limit(limits=1, user_api="blas"):
        return np.maximum(((X - head["mu"]) / head["sd"]) @ head["W1"] + head["b1"], 0) @ head["W2"] + head["b2"]


def window_max(z: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """Per text, the maximum of its windows' logits ``z`` (window k belongs to text ``owner[k]``)."""
    out = np.full((n, z.shape[1]), -np.inf, dtype=np.float32)
    np.maximum.at(out, owner, z.astype(np.float32))
    return out


def groups_by_chars(lengths: list[int], max_chars: int, max_items: int | None = None) -> Iterator[tuple[int, int]]:
    """Consecutive ``(start, end)`` ranges of items of ``lengths`` characters, each holding at most
    ``max_chars`` characters (and ``max_items`` items), or one item where that one alone is longer:
    how the cascade bounds its work per step by characters, not posts, so that its memory does not
    grow with the length of what it reads."""
    start, chars = 0, 0
    for i, n in enumerate(lengths):
        if i > start and (chars + n > max_chars or (max_items is not None and i - start >= max_items)):
            yield start, i
            start, chars = i, 0
        chars += n
    if start < len(lengths):
        yield start, len(lengths)


#: The encoder stage tokenises and embeds at most this many characters of posts at a time (about
#: 450 windows of 64 word pieces): its memory then stays flat however long the posts it reads.
ENCODER_GROUP_CHARS = 100_000
#: ``score_many`` ends a batch at ``batch_size`` posts or this many characters, whichever comes
#: first: a batch's normalised texts with their offset maps, stage 1's n-grams and the encoder's
#: windows all grow with its characters (1,024 posts of 5,000 characters took the process past
#: 500 MB resident).
BATCH_CHARS = 250_000

ONE_WINDOW_CHARS = 550  # about as many characters as the encoder's one-window posts (126 word pieces)


def gate_scores(z_gate: np.ndarray, n_chars: np.ndarray, length_weight: float) -> np.ndarray:
    """The cascade's gate: ``z_gate``, stage 1's estimate of the encoder's final violence logit (a
    ridge regression on the same hashed n-grams, trained on what the encoder scored the training
    posts), less ``length_weight`` times the log of the post's length in characters (``n_chars``,
    counted up to one window). The encoder's cost grows with a post's length, so between two posts
    that look alike to stage 1 the shorter one is sent first; a long post's stage-1 logit is already
    the maximum over its chunks (``chunked_linear_logits``), so padding does not dilute a threat in it."""
    return z_gate.astype(np.float64) - length_weight * np.log(np.minimum(n_chars, ONE_WINDOW_CHARS) + 10.0)


def gate_estimate(W: np.ndarray, b: np.ndarray, z_gate: np.ndarray, norm_texts: list[str]) -> np.ndarray:
    """What the gate reads of each post: stage 1's estimate of the encoder's logit (``z_gate``, the
    last column of ``chunked_linear_logits``: the whole post and its 400-char chunks) or, where
    higher, that of one of its 160-char chunks (``short_chunk_logits``), so that a threat among
    several everyday sentences still reaches the encoder. Only the decision to settle reads the
    short chunks; a settled post's probability keeps ``z_gate``."""
    return np.maximum(z_gate, short_chunk_logits(W[:, -1], float(b[-1]), norm_texts))


def suspicious_windows(W: np.ndarray, b: np.ndarray, norm_texts: list[str], owner: np.ndarray,
                       spans: list[tuple[int, int]], read_windows: int, cascade: dict | None = None) -> np.ndarray:
    """Mask of the windows the encoder reads under a cascade profile's cut: every window of a post
    that has at most ``read_windows``; of a longer post, the ``read_windows`` whose own text has the
    highest gate logit (stage 1's ``W``, ``b``, last column, reading that window alone; ties: the
    earlier) and, where the profile reads long posts whole (``cascade["read_unsure_windows"]``),
    every other window that stage 1 would not settle were it a post of its own (its gate score,
    ``gate_scores``, not below the cut, or harm words in it: ``settled_by_stage1``). So a long post
    is read wherever stage 1 is not sure it is benign, and costs the encoder little more than a
    short one where it is. ``owner``, ``spans``: each window's text and its characters there
    (``Encoder.windows_with_spans``)."""
    keep = np.ones(len(owner), dtype=bool)
    many = np.flatnonzero(np.bincount(owner, minlength=len(norm_texts))[owner] > read_windows)
    if not len(many):
        return keep
    texts = [norm_texts[owner[k]][slice(*spans[k])] for k in many]
    z = chunked_linear_logits(W, b, texts)
    g = z[:, -1]
    order = np.lexsort((-g, owner[many]))  # post by post, the most suspicious window first
    posts = owner[many][order]
    rank = np.arange(len(order)) - np.searchsorted(posts, posts, side="left")
    skip = many[order[rank >= read_windows]]
    if cascade is not None and cascade.get("read_unsure_windows"):
        sure = settled_by_stage1(gate_scores(gate_estimate(W, b, g, texts), np.array([len(t) for t in texts]),
                                             cascade["length_weight"]), cascade, texts)
        skip = np.intersect1d(skip, many[sure])
    keep[skip] = False
    return keep


class Calibration:
    """Per-label calibration (meta.json's "calibration", fitted by ``train``): Platt scaling of
    stage 1's logit (for violence beside the gate's estimate of the encoder's logit), and stage 2's
    stacking of the head's logit with stage 1's. Training and run time both score through it."""

    def __init__(self, calib: dict, labels: tuple[str, ...] | list[str]):
        self.a_lin = np.array([calib[lab]["linear"]["a"] for lab in labels])
        self.a_gate = np.array([calib[lab]["linear"].get("a_gate", 0.0) for lab in labels])
        self.c_lin = np.array([calib[lab]["linear"]["c"] for lab in labels])
        self.a_head = np.array([calib[lab]["encoder"]["a_head"] for lab in labels])
        self.a_lin2 = np.array([calib[lab]["encoder"]["a_lin"] for lab in labels])
        self.c_enc = np.array([calib[lab]["encoder"]["c"] for lab in labels])

    def stage1(self, zl: np.ndarray, z_gate: np.ndarray) -> np.ndarray:
        """Stage 1's probabilities from its label logits ``zl`` and gate logit ``z_gate``."""
        return _sigmoid(zl * self.a_lin + z_gate[:, None] * self.a_gate + self.c_lin)

    def stage2_logits(self, zh: np.ndarray, zl: np.ndarray) -> np.ndarray:
        """Stage 2's stacked logits: the head's (``zh``, the maximum over the windows read) with
        stage 1's (``zl``)."""
        return zh * self.a_head + zl * self.a_lin2 + self.c_enc

    def stage2(self, zh: np.ndarray, zl: np.ndarray) -> np.ndarray:
        return _sigmoid(self.stage2_logits(zh, zl))


def settled_by_stage1(gate: np.ndarray, cascade: dict, norm_texts: list[str] | None = None,
                      veto: np.ndarray | None = None) -> np.ndarray:
    """Mask of the posts a cascade profile settles at stage 1: gate score (``gate_scores``) below
    ``gate_below`` (``None``: the profile sends every post to the encoder) and, under a profile with
    the veto (``cascade["veto"]``), no harm words in the post (``features.harm_words`` of
    ``norm_texts``, or the mask ``veto`` where already computed): stage 1 settles only posts it is
    sure are benign, and one that names a violent act, a weapon or an injury always reaches the
    encoder."""
    if cascade.get("gate_below") is None:
        return np.zeros(len(gate), dtype=bool)
    settled = gate < cascade["gate_below"]
    if cascade.get("veto"):
        if veto is None:
            if norm_texts is None:
                raise ValueError("a profile with the veto needs the posts' text")
            veto = np.array([bool(s) and harm_words(t) for s, t in zip(settled, norm_texts)], dtype=bool)
        settled &= ~veto
    return settled


class ScoreCache:
    """The scores of recently scored posts, keyed by a digest of their normalised text, least recently
    used out first: a post copied many times (a raid, copypasta, spam), or the same post read again
    (an edit that changes nothing the detector reads, a re-score after a policy change), is scored
    once. ``size`` 0 keeps nothing. Thread-safe."""

    def __init__(self, size: int = 4096):
        self.size = max(0, size)
        self.hits = 0
        self.misses = 0
        self._rows: OrderedDict[bytes, tuple[np.ndarray, bool]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(norm_text: str) -> bytes:
        return hashlib.blake2b(norm_text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, keys: list[bytes]) -> list[tuple[np.ndarray, bool] | None]:
        out: list[tuple[np.ndarray, bool] | None] = []
        with self._lock:
            for k in keys:
                row = self._rows.get(k)
                if row is not None:
                    self._rows.move_to_end(k)
                out.append(row)
            found = sum(row is not None for row in out)
            self.hits += found
            self.misses += len(keys) - found
        return out

    def put(self, keys: list[bytes], probs: np.ndarray, settled: np.ndarray) -> None:
        if not self.size:
            return
        with self._lock:
            for k, p, st in zip(keys, probs, settled):
                self._rows[k] = (p.copy(), bool(st))
                self._rows.move_to_end(k)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)


#: CPython's thread switch interval while ``score_many`` runs, instead of its default 5 ms (see
#: ``short_switch_interval``)
SCORE_MANY_SWITCH_INTERVAL = 0.0002
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


@contextmanager
def short_switch_interval(seconds: float = SCORE_MANY_SWITCH_INTERVAL) -> Iterator[None]:
    """Shorten CPython's thread switch interval to ``seconds`` (never lengthen it) while the block
    runs, restoring it when the last of several overlapping blocks ends. In ``score_many`` the main
    thread normalises and runs stage 1 (pure Python, holding the GIL) while the encoder's threads
    each need the GIL for a moment after every window; at the default 5 ms they wait for it, and
    the encoder slows while the other core is busy. Only a scheduling setting: results are the same."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(seconds, _switch_saved))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


@dataclass
class _Plan:
    """Which posts of a batch the cascade must score: the first of each text not in the cache."""
    keys: list[bytes]
    cached: list[tuple[np.ndarray, bool] | None]
    todo: list[int]


UNAVAILABLE = "unavailable"


@dataclass
class FirstStage:
    """A batch after the cascade's first stage (``Detector.first_stage``): what is left is the
    encoder stage for ``encoder_texts``, run here (``Detector.encoder_logits``) or by a detection
    pool worker (warden/detection/pool.py), then ``Detector.finish``."""
    norms: list[Normalized]
    plan: _Plan
    #: Of the posts ``plan.todo`` scores: stage 1's label logits, its probabilities, settled mask.
    zl: np.ndarray | None
    p_lin: np.ndarray | None
    settled: np.ndarray | None

    @property
    def unsettled(self) -> np.ndarray:
        """Positions in ``plan.todo`` of the posts stage 1 did not settle."""
        return np.flatnonzero(~self.settled) if self.settled is not None else np.zeros(0, dtype=np.int64)

    @property
    def encoder_texts(self) -> list[str]:
        """The normalised texts the encoder stage must read (none: the batch is scored)."""
        return [self.norms[self.plan.todo[j]].text for j in self.unsettled]


class Detector:
    thresholds: dict[str, dict[str, float]]

    def __init__(self, model_dir: Path, meta: dict, linear: dict, head: dict, encoder=None,
                 use_cascade: bool = True, profile: str | None = None):
        self.model_dir = Path(model_dir)
        self.meta = meta
        self.version: str = meta["version"]
        self.labels: tuple[str, ...] = tuple(meta["labels"])
        profiles = meta.get("profiles") or {"default": {"thresholds": meta["thresholds"], "cascade": meta["cascade"]}}
        profile = profile or os.environ.get("WARDEN_DETECTION_PROFILE") or meta.get("default_profile") or "default"
        if profile not in profiles:
            raise ValueError(f"unknown detection profile {profile!r} (have: {', '.join(profiles)})")
        self.profile = profile
        self.thresholds = {lab: dict(v) for lab, v in profiles[profile]["thresholds"].items()}
        self.W = linear["W"].astype(np.float32)
        self.b = linear["b"].astype(np.float32)
        self.head = head
        self._encoder = encoder
        self._enc_lock = threading.Lock()
        self.calibration = Calibration(meta["calibration"], self.labels)
        self.cascade = dict(profiles[profile]["cascade"])
        if "read_windows" not in self.cascade or self.W.shape[1] != len(self.labels) + 1:
            raise ValueError(f"the model in {model_dir} predates the cascade gate of this version (no gate "
                             "column in its linear.npz); retrain it with `warden train`")
        if self.cascade.get("veto") and self.cascade.get("veto_words") != HARM_WORDS_DIGEST:
            raise ValueError(f"the {profile} profile of the model in {model_dir} was cut with another veto word list "
                             f"({self.cascade.get('veto_words')}, this code's is {HARM_WORDS_DIGEST}); re-cut it with "
                             "`python -m warden.detection.training.recut`")
        self.use_cascade = use_cascade
        self._read_for_encoder = reader_for(meta.get("encoder_reading"))
        self._word_cache: dict[str, np.ndarray] = {}
        self.cache = ScoreCache(int(os.environ.get("WARDEN_DETECTION_CACHE", "4096")))
        self._nothing = np.zeros(len(self.labels))  # the scores of a text without words (has_words)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model_dir: Path | None = None, use_cascade: bool = True, profile: str | None = None) -> "Detector":
        """Load the artefacts. ``profile``: cascade operating point ("balanced", the default; "fast",
        more posts settled by stage 1; "thorough", none; also ``WARDEN_DETECTION_PROFILE``), each
        with its own validated thresholds."""
        model_dir = Path(model_dir) if model_dir else Path(os.environ.get("WARDEN_MODEL_DIR", DEFAULT_MODEL_DIR))
        meta_path = model_dir / "meta.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"no detection model in {model_dir} (run `warden train`)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(model_dir / "linear.npz") as z:
            linear = {k: z[k] for k in z.files}
        with np.load(model_dir / "head.npz") as z:
            head = {k: z[k].astype(np.float32) for k in z.files}
        return cls(model_dir, meta, linear, head, use_cascade=use_cascade, profile=profile)

    @property
    def encoder(self):
        if self._encoder is None:
            with self._enc_lock:
                if self._encoder is None:
                    from .encoder import Encoder

                    enc = self.meta["encoder"]
                    self._encoder = Encoder(self.model_dir / enc["file"], self.model_dir / enc["tokenizer"],
                                            max_len=enc["max_len"], stride=enc["stride"])
        return self._encoder

    # ------------------------------------------------------------------ scoring
    def _linear(self, norm_texts: list[str]) -> np.ndarray:
        """Stage-1 logits: one column per label, then the gate's."""
        return chunked_linear_logits(self.W, self.b, norm_texts)

    def encoder_windows(self, norm_texts: list[str]):
        """What the encoder and its head read of normalised texts (under the model's
        "encoder_reading" in meta.json, slurs as the groups they name: slurs.py), and that reading's
        windows: (texts read, windows, owner, spans), as ``Encoder.windows_with_spans``."""
        read = [self._read_for_encoder(t) for t in norm_texts]
        return (read, *self.encoder.windows_with_spans(read))

    def window_logits(self, emb: np.ndarray, norm_texts: list[str], owner: np.ndarray) -> np.ndarray:
        """The MLP head's logits for window embeddings ``emb`` (window k of text ``owner[k]``)."""
        flags = np.stack([structure_flags(t) for t in norm_texts])
        return head_logits(self.head, np.concatenate([emb, flags[owner]], axis=1))

    @property
    def reads_every_window(self) -> bool:
        """Whether the encoder reads every window of a long post (``thorough``, or the cascade off);
        otherwise only the profile's ``read_windows`` most suspicious (``suspicious_windows``)."""
        return not self.use_cascade or self.cascade["read_windows"] is None

    def suspicious_windows(self, norm_texts: list[str], owner: np.ndarray, spans: list[tuple[int, int]],
                           cascade: dict | None = None) -> np.ndarray:
        """``suspicious_windows`` under this detector's profile (or the ``cascade`` given)."""
        cascade = cascade or self.cascade
        if cascade["read_windows"] is None:
            return np.ones(len(owner), dtype=bool)
        return suspicious_windows(self.W, self.b, norm_texts, owner, spans, cascade["read_windows"], cascade)

    def encoder_logits(self, norm_texts: list[str]) -> np.ndarray:
        """The encoder stage: per normalised text, the MLP head's logits (the maximum over the
        windows read). The only part of the cascade that needs the encoder, so the part a detection
        pool worker runs (warden/detection/pool.py). A text's row does not depend on its batch-mates
        (the encoder embeds one window per call). The texts are tokenised, cut into windows and
        embedded a group at a time, each group of at most ``ENCODER_GROUP_CHARS`` characters (or one
        text), so memory does not grow with the batch's length in characters."""
        started = perf_counter()
        logits = np.zeros((len(norm_texts), len(self.labels)), dtype=np.float32)
        for lo, hi in groups_by_chars([len(t) for t in norm_texts], ENCODER_GROUP_CHARS):
            part, wins, owner, spans = self.encoder_windows(norm_texts[lo:hi])
            if not self.reads_every_window:
                keep = self.suspicious_windows(part, owner, spans)
                wins, owner = [w for w, k in zip(wins, keep) if k], owner[keep]
            z = self.window_logits(self.encoder.embed_windows(wins), part, owner)
            logits[lo:hi] = window_max(z, owner, len(part))
        DETECTION_SECONDS.labels("encoder").observe(perf_counter() - started)
        DETECTION_POSTS.labels("encoder").inc(len(norm_texts))
        return logits

    def gate(self, z_all: np.ndarray, norm_texts: list[str]) -> np.ndarray:
        """The cascade gate's score of each post (``gate_scores``) from its stage-1 logits (``_linear``)."""
        return gate_scores(gate_estimate(self.W, self.b, z_all[:, len(self.labels)], norm_texts),
                           np.array([len(t) for t in norm_texts]), self.cascade["length_weight"])

    def stage1_probabilities(self, z_all: np.ndarray) -> np.ndarray:
        """Stage 1's calibrated probabilities from its logits (``_linear``): per label, Platt
        scaling of the label's logit and (for violence) the gate's estimate of the encoder's logit."""
        n = len(self.labels)
        return self.calibration.stage1(z_all[:, :n], z_all[:, n])

    def stage2_probabilities(self, zh: np.ndarray, zl: np.ndarray) -> np.ndarray:
        """Stage 2's calibrated probabilities: per label, the head's logit (``zh``, the maximum over
        the windows read) stacked with stage 1's logit (``zl``)."""
        return self.calibration.stage2(zh, zl)

    def _stage1(self, norm_texts: list[str]):
        """Stage-1 logits, calibrated stage-1 probabilities and the settled-by-stage-1 mask."""
        started = perf_counter()
        z_all = self._linear(norm_texts)
        zl = z_all[:, :len(self.labels)]
        p_lin = self.stage1_probabilities(z_all)
        if not self.use_cascade or self.cascade.get("gate_below") is None:  # every post to the encoder
            settled = np.zeros(len(norm_texts), dtype=bool)
        else:
            settled = settled_by_stage1(self.gate(z_all, norm_texts), self.cascade, norm_texts)
        DETECTION_SECONDS.labels("linear").observe(perf_counter() - started)
        DETECTION_POSTS.labels("linear").inc(int(settled.sum()))
        return zl, p_lin, settled

    def _stage2(self, norm_texts: list[str], zl: np.ndarray, p_lin: np.ndarray, settled: np.ndarray) -> np.ndarray:
        """Final probabilities: stage 1's for settled texts, the encoder's (stacked) for the rest."""
        probs = p_lin.copy()
        rest = np.flatnonzero(~settled)
        if len(rest):
            zh = self.encoder_logits([norm_texts[i] for i in rest])
            probs[rest] = self.stage2_probabilities(zh, zl[rest])
        return probs

    def probabilities(self, norm_texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (n, labels), settled-by-stage-1 mask) for normalised texts."""
        zl, p_lin, settled = self._stage1(norm_texts)
        return self._stage2(norm_texts, zl, p_lin, settled), settled

    def _word_weights(self, word: str, idx: np.ndarray) -> np.ndarray:
        w = self._word_cache.get(word)
        if w is None:
            w = self.W[idx].sum(0)
            if len(self._word_cache) > 100_000:
                self._word_cache.clear()
            self._word_cache[word] = w
        return w

    def _spans(self, norm: Normalized, probs: np.ndarray) -> list[Span]:
        spans: list[Span] = []
        # highlights for what the console shows: violence from its review threshold (the policy
        # label), the informational labels from their auto threshold
        labs = [j for j, lab in enumerate(self.labels)
                if probs[j] >= self.thresholds[lab]["review" if lab == "violence" else "auto"]]
        if not labs or not norm.text:
            return spans
        words = [(s, e, self._word_weights(norm.text[s:e], idx)) for s, e, idx in word_spans(norm.text)]
        for j in labs:
            contrib = [(float(w[j]), s, e) for s, e, w in words]
            contrib = [c for c in contrib if c[0] > 0]
            if not contrib:
                continue
            contrib.sort(reverse=True)
            top = contrib[:5]
            mx = top[0][0]
            for w, s, e in sorted(top, key=lambda c: c[1]):
                if w < 0.25 * mx:
                    continue
                a, b = norm.to_original(s, e)
                spans.append(Span(a, b, self.labels[j], round(w / mx, 3)))
        return spans

    def _detections(self, norms: list[Normalized], probs: np.ndarray, settled: np.ndarray,
                    spans: bool, cached: list[tuple[np.ndarray, bool] | None] | None = None,
                    unavailable: set[int] | frozenset[int] = frozenset()) -> list[Detection]:
        out = []
        for i, n in enumerate(norms):
            if i in unavailable:
                out.append(Detection({}, [], self.version, UNAVAILABLE, n))
                continue
            scores = {lab: round(float(probs[i, j]), 6) for j, lab in enumerate(self.labels)}
            stage = "encoder" if not settled[i] else "linear" if has_words(n.text) else "empty"
            if stage != "empty" and cached is not None and cached[i] is not None:
                stage = "cached"
            out.append(Detection(scores, self._spans(n, probs[i]) if spans else [], self.version, stage, n))
        return out

    def _plan(self, norm_texts: list[str]) -> _Plan:
        keys = [ScoreCache.key(t) for t in norm_texts]
        cached = self.cache.get(keys)
        for i, t in enumerate(norm_texts):
            if not has_words(t):  # nothing to read: no stage runs (has_words)
                cached[i] = (self._nothing, True)
        first: set[bytes] = set()
        todo = []
        for i, (k, row) in enumerate(zip(keys, cached)):
            if row is None and k not in first:
                first.add(k)
                todo.append(i)
        if len(todo) < len(keys):
            DETECTION_POSTS.labels("cached").inc(len(keys) - len(todo))
        return _Plan(keys, cached, todo)

    def _assemble(self, plan: _Plan, probs: np.ndarray | None,
                  settled: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The whole batch's (probabilities, settled) from those of ``plan.todo`` (None when it is
        empty) and the cache (which they then join)."""
        if probs is None:
            probs, settled = np.zeros((0, len(self.labels))), np.zeros(0, dtype=bool)
        self.cache.put([plan.keys[i] for i in plan.todo], probs, settled)
        fresh = {plan.keys[i]: (probs[j], bool(settled[j])) for j, i in enumerate(plan.todo)}
        out = np.zeros((len(plan.keys), len(self.labels)), dtype=probs.dtype if len(probs) else np.float64)
        out_settled = np.zeros(len(plan.keys), dtype=bool)
        for i, (k, row) in enumerate(zip(plan.keys, plan.cached)):
            out[i], out_settled[i] = row if row is not None else fresh[k]
        return out, out_settled

    def first_stage(self, texts: list[str]) -> FirstStage:
        """The cascade up to the encoder: normalise, look up the cache, run stage 1 on the rest and
        mark what it settles. ``finish`` completes it with the encoder stage's logits."""
        norms = [normalize(t) for t in texts]
        plan = self._plan([n.text for n in norms])
        if not plan.todo:
            return FirstStage(norms, plan, None, None, None)
        zl, p_lin, settled = self._stage1([norms[i].text for i in plan.todo])
        return FirstStage(norms, plan, zl, p_lin, settled)

    def finish(self, first: FirstStage, zh: np.ndarray | None, spans: bool = True) -> list[Detection]:
        """The batch's detections from its first stage and the encoder stage's logits ``zh`` for
        ``first.encoder_texts`` (``encoder_logits``, in their order). ``zh`` None when the encoder
        stage could not run (a detection pool down or slow): those posts come back with stage
        "unavailable" and no scores, and are not cached; the rest are scored as usual."""
        plan, rest = first.plan, first.unsettled
        if not plan.todo:
            return self._detections(first.norms, *self._assemble(plan, None, None), spans, plan.cached)
        probs, settled = first.p_lin.copy(), first.settled
        if zh is not None or not len(rest):
            if len(rest):
                probs[rest] = self.stage2_probabilities(np.asarray(zh, dtype=np.float32), first.zl[rest])
            return self._detections(first.norms, *self._assemble(plan, probs, settled), spans, plan.cached)
        # the encoder stage did not run: its posts come back unscored, and stay out of the cache
        missing = {plan.keys[plan.todo[j]] for j in rest}
        scored = np.flatnonzero(settled)
        placeholder = (self._nothing, False)
        done = _Plan(plan.keys, [placeholder if k in missing else row for k, row in zip(plan.keys, plan.cached)],
                     [plan.todo[j] for j in scored])
        out = self._assemble(done, probs[scored], settled[scored]) if len(scored) else self._assemble(done, None, None)
        unavailable = {i for i, k in enumerate(plan.keys) if k in missing}
        return self._detections(first.norms, *out, spans, plan.cached, unavailable)

    def score_batch(self, texts: list[str], spans: bool = True) -> list[Detection]:
        """Score many posts. ``spans=False`` skips the highlight spans (bulk scoring that only
        needs the scores, e.g. ``warden classify``); the scores are the same either way. A text
        scored recently (``ScoreCache``, stage "cached") or twice in the batch is scored once.
        The same as ``first_stage``, the encoder stage here, then ``finish``."""
        if not texts:
            return []
        started = perf_counter()
        first = self.first_stage(texts)
        texts_for_encoder = first.encoder_texts
        zh = self.encoder_logits(texts_for_encoder) if texts_for_encoder else None
        detections = self.finish(first, zh, spans)
        if not first.plan.todo:
            DETECTION_SECONDS.labels("cached").observe(perf_counter() - started)
        return detections

    def score_many(self, texts: Iterable[str], batch_size: int = 1024, spans: bool = False,
                   batch_chars: int = BATCH_CHARS) -> Iterator[Detection]:
        """Score a long sequence of posts in batches of at most ``batch_size`` posts and
        ``batch_chars`` characters (a longer post is a batch of its own), in order, with the same
        scores as :meth:`score_batch`. Stage 1 of the next batch (Python, one core) runs while the encoder
        (onnxruntime, which releases the GIL) works on this one, so both cores stay busy; a shorter
        thread switch interval meanwhile (``short_switch_interval``) lets the encoder's threads take
        the GIL between windows without waiting for the main thread's 5 ms turn to end."""
        from concurrent.futures import ThreadPoolExecutor

        def batches() -> Iterator[list[str]]:
            batch: list[str] = []
            chars = 0
            for t in texts:
                if batch and chars + len(t) > batch_chars:
                    yield batch
                    batch, chars = [], 0
                batch.append(t)
                chars += len(t)
                if len(batch) >= batch_size:
                    yield batch
                    batch, chars = [], 0
            if batch:
                yield batch

        def finish(norms, plan, job, settled) -> list[Detection]:
            probs = job.result() if job is not None else None
            return self._detections(norms, *self._assemble(plan, probs, settled), spans, plan.cached)

        with short_switch_interval(), ThreadPoolExecutor(1, thread_name_prefix="warden-stage2") as pool:
            pending = None
            for batch in batches():
                norms = [normalize(t) for t in batch]
                plan = self._plan([n.text for n in norms])
                todo = [norms[i].text for i in plan.todo]
                job, settled = None, None
                if todo:
                    zl, p_lin, settled = self._stage1(todo)
                    job = pool.submit(self._stage2, todo, zl, p_lin, settled)
                if pending is not None:
                    yield from finish(*pending)
                pending = (norms, plan, job, settled)
            if pending is not None:
                yield from finish(*pending)

    def score(self, text: str) -> Detection:
        return self.score_batch([text])[0]

    def score_stage1(self, text: str, encoder_logits: Callable[[list[str]], np.ndarray | None] | None = None,
                     ) -> tuple[Detection | None, Callable[[], Detection]]:
        """``score(text)`` in two steps, for a caller on an event loop: the first stage runs now, and
        what it settled comes back at once; else ``(None, rest)``, where ``rest()`` runs the encoder
        stage (milliseconds to seconds that release the GIL: for a thread) and returns the detection.
        ``encoder_logits``: where that stage runs (default: here; ``PoolDetector`` passes the pool's,
        whose None, no answer, comes back as an unscored detection, as in ``finish``)."""
        started = perf_counter()
        first = self.first_stage([text])
        wanted = first.encoder_texts
        if wanted:
            encode = encoder_logits or self.encoder_logits
            return None, lambda: self.finish(first, encode(wanted))[0]
        detection = self.finish(first, None)[0]
        if not first.plan.todo:
            DETECTION_SECONDS.labels("cached").observe(perf_counter() - started)
        return detection, lambda: detection


_SINGLETON: Detector | None = None
_SINGLETON_LOCK = threading.Lock()


def get_detector() -> Detector:
    """Process-wide detector, loaded once (thread-safe)."""
    global _SINGLETON
    if _SINGLETON is None:
        with _SINGLETON_LOCK:
            if _SINGLETON is None:
                _SINGLETON = Detector.load()
    return _SINGLETON
