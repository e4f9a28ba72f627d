"""Run-time detector: normalise -> stage 1 (hashed n-gram linear model) -> stage 2 (int8 MiniLM +
MLP head, only for texts stage 1 does not settle) -> calibrated probabilities + highlight spans.

Only numpy, onnxruntime and tokenizers are imported here.
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import chunked_linear_logits, structure_flags, word_spans
from .normalize import Normalized, normalize

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
    stage: str  # "linear" or "encoder"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def gate_scores(z_lin: np.ndarray, labels: tuple[str, ...] | list[str], hate_weight: float) -> np.ndarray:
    """The cascade's gate: stage 1's calibrated violence logit plus ``hate_weight`` times its
    calibrated hate logit (``z_lin``: calibrated stage-1 logits, one column per label). Many calls
    to violence are hateful before they are violent in wording, so counting the hate signal lets
    stage 1 settle more posts for the same share of violence positives kept (chosen in training)."""
    g = z_lin[:, list(labels).index("violence")].astype(np.float64)
    if hate_weight:
        g = g + hate_weight * z_lin[:, list(labels).index("hate")]
    return g


def settled_by_stage1(z_lin: np.ndarray, labels: tuple[str, ...] | list[str], cascade: dict) -> np.ndarray:
    """Mask of the posts a cascade profile settles at stage 1: gate score below ``gate_below``
    (``None``: the profile sends every post to the encoder)."""
    if cascade.get("gate_below") is None:
        return np.zeros(len(z_lin), dtype=bool)
    return gate_scores(z_lin, labels, cascade.get("hate_weight", 0.0)) < cascade["gate_below"]


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
        cal = meta["calibration"]
        self._a_lin = np.array([cal[lab]["linear"]["a"] for lab in self.labels])
        self._c_lin = np.array([cal[lab]["linear"]["c"] for lab in self.labels])
        self._a_head = np.array([cal[lab]["encoder"]["a_head"] for lab in self.labels])
        self._a_lin2 = np.array([cal[lab]["encoder"]["a_lin"] for lab in self.labels])
        self._c_enc = np.array([cal[lab]["encoder"]["c"] for lab in self.labels])
        self.cascade = dict(profiles[profile]["cascade"])
        if "gate_below" not in self.cascade:
            raise ValueError(f"the model in {model_dir} predates the cascade gate (no gate_below in its "
                             "meta.json); retrain it with `warden train`")
        self.use_cascade = use_cascade
        self._word_cache: dict[str, np.ndarray] = {}

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
        return chunked_linear_logits(self.W, self.b, norm_texts)

    def _head_logits(self, norm_texts: list[str]) -> np.ndarray:
        emb, owner = self.encoder.embed(norm_texts)
        flags = np.stack([structure_flags(t) for t in norm_texts])
        X = np.concatenate([emb, flags[owner]], axis=1)
        h = self.head
        z = np.maximum(((X - h["mu"]) / h["sd"]) @ h["W1"] + h["b1"], 0) @ h["W2"] + h["b2"]
        out = np.full((len(norm_texts), z.shape[1]), -np.inf, dtype=np.float32)
        np.maximum.at(out, owner, z.astype(np.float32))
        return out

    def _stage1(self, norm_texts: list[str], force_encoder: bool = False):
        """Stage-1 logits, calibrated stage-1 probabilities and the settled-by-stage-1 mask."""
        zl = self._linear(norm_texts)
        z_cal = zl * self._a_lin + self._c_lin
        p_lin = _sigmoid(z_cal)
        settled = settled_by_stage1(z_cal, self.labels, self.cascade)
        if force_encoder or not self.use_cascade:
            settled[:] = False
        return zl, p_lin, settled

    def _stage2(self, norm_texts: list[str], zl: np.ndarray, p_lin: np.ndarray, settled: np.ndarray) -> np.ndarray:
        """Final probabilities: stage 1's for settled texts, the encoder's (stacked) for the rest."""
        probs = p_lin.copy()
        rest = np.flatnonzero(~settled)
        if len(rest):
            zh = self._head_logits([norm_texts[i] for i in rest])
            probs[rest] = _sigmoid(zh * self._a_head + zl[rest] * self._a_lin2 + self._c_enc)
        return probs

    def probabilities(self, norm_texts: list[str], force_encoder: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (n, labels), settled-by-stage-1 mask) for normalised texts."""
        zl, p_lin, settled = self._stage1(norm_texts, force_encoder)
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
                    spans: bool) -> list[Detection]:
        out = []
        for i, n in enumerate(norms):
            scores = {lab: round(float(probs[i, j]), 6) for j, lab in enumerate(self.labels)}
            out.append(Detection(scores, self._spans(n, probs[i]) if spans else [], self.version,
                                 "linear" if settled[i] else "encoder"))
        return out

    def score_batch(self, texts: list[str], spans: bool = True) -> list[Detection]:
        """Score many posts. ``spans=False`` skips the highlight spans (bulk scoring that only
        needs the scores, e.g. ``warden classify``); the scores are the same either way."""
        if not texts:
            return []
        norms = [normalize(t) for t in texts]
        probs, settled = self.probabilities([n.text for n in norms])
        return self._detections(norms, probs, settled, spans)

    def score_many(self, texts: Iterable[str], batch_size: int = 1024, spans: bool = False) -> Iterator[Detection]:
        """Score a long sequence of posts in batches, in order, with the same scores as
        :meth:`score_batch`. Stage 1 of the next batch (Python, one core) runs while the encoder
        (onnxruntime, which releases the GIL) works on this one, so both cores stay busy."""
        from concurrent.futures import ThreadPoolExecutor

        def batches() -> Iterator[list[str]]:
            batch: list[str] = []
            for t in texts:
                batch.append(t)
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
            if batch:
                yield batch

        with ThreadPoolExecutor(1, thread_name_prefix="warden-stage2") as pool:
            pending = None
            for batch in batches():
                norms = [normalize(t) for t in batch]
                norm_texts = [n.text for n in norms]
                zl, p_lin, settled = self._stage1(norm_texts)
                job = pool.submit(self._stage2, norm_texts, zl, p_lin, settled)
                if pending is not None:
                    yield from self._detections(pending[0], pending[1].result(), pending[2], spans)
                pending = (norms, job, settled)
            if pending is not None:
                yield from self._detections(pending[0], pending[1].result(), pending[2], spans)

    def score(self, text: str) -> Detection:
        return self.score_batch([text])[0]


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
