"""Training-time cache of window embeddings (under <repo>/data/cache, gitignored)."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from ..encoder import Encoder


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


def file_digest(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:12]


class EmbCache:
    def __init__(self, cache_dir: Path, encoder: Encoder, model_digest: str):
        self.path = Path(cache_dir) / f"emb_{model_digest}_{encoder.max_len}x{encoder.stride}.npz"
        self.encoder = encoder
        self.index: dict[str, tuple[int, int]] = {}
        self.embs = np.zeros((0, 384), dtype=np.float32)
        if self.path.exists():
            z = np.load(self.path, allow_pickle=False)
            keys, starts, ends = z["keys"], z["starts"], z["ends"]
            self.embs = z["embs"]
            self.index = {str(k): (int(a), int(b)) for k, a, b in zip(keys, starts, ends)}

    def save(self) -> None:
        keys = np.array(list(self.index.keys()))
        se = np.array(list(self.index.values()), dtype=np.int64).reshape(-1, 2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, starts=se[:, 0], ends=se[:, 1], embs=self.embs)
        tmp.replace(self.path)

    def ensure(self, texts: list[str], log=print, chunk: int = 4096) -> None:
        todo = sorted({t for t in texts if _key(t) not in self.index}, key=len)
        t0 = time.time()
        for b in range(0, len(todo), chunk):
            part = todo[b:b + chunk]
            e, owner = self.encoder.embed(part)
            base = len(self.embs)
            self.embs = np.concatenate([self.embs, e])
            # owner is sorted by construction (windows are emitted text by text)
            bounds = np.searchsorted(owner, np.arange(len(part) + 1))
            for i, t in enumerate(part):
                self.index[_key(t)] = (base + int(bounds[i]), base + int(bounds[i + 1]))
            self.save()
            log(f"  embedded {min(b + chunk, len(todo))}/{len(todo)} texts ({time.time() - t0:.0f}s)")

    def get(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Window embeddings for texts and the owner (text index) of each window."""
        rows, owner = [], []
        for i, t in enumerate(texts):
            a, b = self.index[_key(t)]
            rows.extend(range(a, b))
            owner.extend([i] * (b - a))
        return self.embs[rows], np.asarray(owner, dtype=np.int64)
