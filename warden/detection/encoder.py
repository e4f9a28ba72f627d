"""Stage-2 encoder at run time: int8 MiniLM-L6 in onnxruntime + tokenizers, mean pooling.

Long texts are cut into overlapping windows of ``max_len`` tokens; every window gets an
embedding and the detector takes the max score over a text's windows (full-length context).
No torch / transformers imports here.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

MAX_LEN = 128      # by default a post of up to 126 word pieces is one window (meta.json's max_len decides)
LONG_WINDOW = 64   # longer posts: overlapping windows of 64 pieces (stride 32), so a short threat
STRIDE = 32        # inside a long text is not averaged away by the mean pooling
DIM = 384


def cut_windows(tokenizer: Tokenizer, texts: list[str], max_len: int = MAX_LEN, stride: int = STRIDE
                ) -> tuple[list[list[int]], np.ndarray, list[tuple[int, int]]]:
    """Token-id windows of ``texts`` (with [CLS] and [SEP]), the index of the text each window
    belongs to, and the characters (start, end) of its text that each window covers. A text of up
    to ``max_len - 2`` pieces is one window; a longer one is read in overlapping ``LONG_WINDOW``-piece
    windows, ``stride`` apart. ``tokenizer`` must not truncate or pad."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    encs = tokenizer.encode_batch(texts, add_special_tokens=False)
    body = max_len - 2
    long_body = LONG_WINDOW - 2
    wins: list[list[int]] = []
    owner: list[int] = []
    spans: list[tuple[int, int]] = []
    for i, e in enumerate(encs):
        ids = e.ids
        if len(ids) <= body:
            wins.append([cls_id, *ids, sep_id])
            owner.append(i)
            spans.append((0, len(texts[i])))
            continue
        offsets = e.offsets  # each read of the attribute builds the whole list anew
        start = 0
        while True:
            wins.append([cls_id, *ids[start:start + long_body], sep_id])
            owner.append(i)
            spans.append((offsets[start][0], offsets[min(start + long_body, len(ids)) - 1][1]))
            if start + long_body >= len(ids):
                break
            start += stride
    return wins, np.asarray(owner, dtype=np.int64), spans


def default_threads() -> int:
    env = os.environ.get("WARDEN_DETECTION_THREADS")
    if env:
        return max(1, int(env))
    return max(1, min(4, os.cpu_count() or 1))


def _session(path: Path, threads: int) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Between calls the intra-op threads sleep instead of spinning: in a server posts arrive one at a time,
    # and spinning threads took the cores from the event loop and the database (8.4 CPU ms a post with posts
    # 20 ms apart, against 2.1 ms without; docs/scaling.md). Batches use single-threaded sessions anyway.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


class Encoder:
    """Window embeddings. One window: one session using ``threads`` cores inside the call.
    ``threads`` windows or more (a long post, a batch): ``threads`` workers each running one window
    at a time on a single-threaded session (for post-sized inputs this beats intra-op threading
    by ~25 %, and a long post's windows run side by side)."""

    def __init__(self, onnx_path: Path, tokenizer_path: Path, threads: int | None = None,
                 max_len: int = MAX_LEN, stride: int = STRIDE):
        self.threads = threads or default_threads()
        self.session = _session(onnx_path, self.threads)
        self._path = onnx_path
        self._session1: ort.InferenceSession | None = None
        self._pool = None
        self._lock = threading.Lock()
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_len = max_len
        self.stride = stride
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0

    def windows(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
        """Token-id windows for each text and the index of the text each window belongs to."""
        wins, owner, _ = self.windows_with_spans(texts)
        return wins, owner

    def windows_with_spans(self, texts: list[str]) -> tuple[list[list[int]], np.ndarray, list[tuple[int, int]]]:
        """:meth:`windows`, and the characters (start, end) of its text that each window covers."""
        return cut_windows(self.tokenizer, texts, self.max_len, self.stride)

    def _run_one(self, session: ort.InferenceSession, win: list[int]) -> np.ndarray:
        ids = np.asarray([win], dtype=np.int64)
        h = session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
        return h[0].mean(0)

    def _parallel(self, wins: list[list[int]]) -> np.ndarray:
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._session1 = _session(self._path, 1)
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="warden-encoder")
        s1 = self._session1
        return np.stack(list(self._pool.map(lambda w: self._run_one(s1, w), wins))).astype(np.float32)

    def embed_windows(self, wins: list[list[int]], batch_size: int = 1) -> np.ndarray:
        """Mean-pooled embeddings. Default one window per call: dynamic int8 quantisation scales
        activations per call, so batching would make a text's score depend on its batch-mates (and
        on CPU a batch of one is about as fast for post-sized inputs)."""
        if batch_size == 1:
            if self.threads > 1 and len(wins) >= self.threads:
                return self._parallel(wins)
            out = np.zeros((len(wins), DIM), dtype=np.float32)
            for i, w in enumerate(wins):
                out[i] = self._run_one(self.session, w)
            return out
        out = np.zeros((len(wins), DIM), dtype=np.float32)
        order = np.argsort([len(w) for w in wins], kind="stable")
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            L = max(len(wins[i]) for i in idx)
            ids = np.full((len(idx), L), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), L), dtype=np.int64)
            for r, i in enumerate(idx):
                w = wins[i]
                ids[r, :len(w)] = w
                mask[r, :len(w)] = 1
            h = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            m = mask[..., None].astype(np.float32)
            out[idx] = (h * m).sum(1) / np.maximum(m.sum(1), 1.0)
        return out

    def embed(self, texts: list[str], batch_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(window embeddings, owner index per window)."""
        wins, owner = self.windows(texts)
        return self.embed_windows(wins, batch_size), owner
