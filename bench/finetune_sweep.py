"""What the encoder fine-tune's recipe is worth: a sweep of fine-tune configurations on a GPU.

Each configuration is a soup of two fine-tunes from the pretrained MiniLM-L6 (``train.soup``'s
recipe: ``finetune.finetune``, ``train.finetune_rows``, ``train.average_states``), all of them run
side by side on one GPU. For each soup every row's windows are embedded in fp32, the run-time head
is fitted on the training windows (``train.fit_head``), stacked with stage 1's logit and
Platt-calibrated on the validation split, as ``warden train`` does: the `thorough` violence score of
every row (fp32 here, int8 at run time). It prints the AUPRC of the pooled validation split and of
every held-out set, and writes every row's score to ``$OUT/results.npz``.

Two steps, because the machine with the GPU cannot read ../shared/data:

    python bench/finetune_sweep.py pack            # here: data/sweep/ (ignored by git, ~53 MB)
    python bench/finetune_sweep.py run [--set 2]   # there, with data/sweep carried along

``pack`` writes the normalised texts, labels, splits, structure flags and stage-1 logits of every
row (from the model in warden/detection/model) and MiniLM-L6's weights in fp16 (to fit a 64 MB
transfer; the fine-tunes start from those rounded weights). ``--set 1`` compares the shipped recipe
with four epochs and with every training row (and scores the pretrained encoder for reference);
``--set 2`` fine-tunes on the violence label alone.
``SWEEP_SMOKE=1 SWEEP_DEVICE=cpu`` runs a tiny version of every step on the CPU. Results of
2026-11-30 on an H200: docs/detection-log.md ("What more compute buys").
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PACK = ROOT / "data" / "sweep"
OUT = Path(os.environ.get("OUT") or ROOT / "data" / "sweep-out")
WORK = Path(os.environ.get("SWEEP_WORK", "/tmp/sweep_work"))
DEVICE = os.environ.get("SWEEP_DEVICE", "cuda")
SMOKE = os.environ.get("SWEEP_SMOKE") == "1"
T0 = time.time()

SETS = {
    "1": {
        "base_a": {"ft_rows": "curated", "ft_epochs": 2, "ft_seeds": [13, 14]},
        "base_b": {"ft_rows": "curated", "ft_epochs": 2, "ft_seeds": [15, 16]},
        "ep4_a": {"ft_rows": "curated", "ft_epochs": 4, "ft_seeds": [13, 14]},
        "ep4_b": {"ft_rows": "curated", "ft_epochs": 4, "ft_seeds": [15, 16]},
        "all_a": {"ft_rows": "all", "ft_epochs": 2, "ft_seeds": [13, 14]},
        "all_b": {"ft_rows": "all", "ft_epochs": 2, "ft_seeds": [15, 16]},
    },
    "2": {  # the fine-tune's loss on violence alone (hate and harassment masked)
        "vio_a": {"ft_rows": "curated", "ft_epochs": 2, "ft_seeds": [13, 14], "violence_only": True},
        "vio_b": {"ft_rows": "curated", "ft_epochs": 2, "ft_seeds": [15, 16], "violence_only": True},
        "vioall_a": {"ft_rows": "all", "ft_epochs": 2, "ft_seeds": [13, 14], "violence_only": True},
        "vioall_b": {"ft_rows": "all", "ft_epochs": 2, "ft_seeds": [15, 16], "violence_only": True},
    },
}
EVAL = [("ghc", "heldout"), ("hateval", "heldout"), ("edos", "test"), ("implicit_hate", "test"),
        ("ethos", "test"), ("exemplars", "test")]


def log(msg: str) -> None:
    line = f"[{time.time() - T0:6.1f}s] {msg}"
    print(line, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "log.txt", "a") as f:
        f.write(line + "\n")


# --------------------------------------------------------------------------- pack (here)


def pack() -> None:
    import shutil

    from safetensors.numpy import load_file, save_file

    from warden.detection.training import datasets as ds
    from warden.detection.training.export import minilm_dir
    from warden.detection.features import chunked_linear_logits, structure_flags
    from warden.detection.normalize import normalize_text
    from warden.detection.training.train import LABELS, MODEL_DIR, labels_matrix

    PACK.mkdir(parents=True, exist_ok=True)
    ex = ds.load_all(None, include_eval=True)
    texts = [normalize_text(e.text) for e in ex]
    Y, M = labels_matrix(ex)
    sources, splits = sorted({e.source for e in ex}), sorted({e.split for e in ex})
    with np.load(MODEL_DIR / "linear.npz") as z:
        W, b = z["W"].astype(np.float32), z["b"].astype(np.float32)
    zlin = chunked_linear_logits(W[:, :len(LABELS)], b[:len(LABELS)], texts).astype(np.float32)
    flags = np.stack([structure_flags(t) for t in texts]).astype(np.uint8)
    np.savez_compressed(PACK / "data.npz", Y=Y.astype(np.int8), M=M.astype(np.int8), zlin=zlin, flags=flags,
                        source=np.array([sources.index(e.source) for e in ex], dtype=np.uint8),
                        split=np.array([splits.index(e.split) for e in ex], dtype=np.uint8))
    with gzip.open(PACK / "texts.json.gz", "wt", encoding="utf-8") as f:
        json.dump({"texts": texts, "sources": sources, "splits": splits}, f)
    src, mdir = minilm_dir(), PACK / "minilm"
    mdir.mkdir(exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, mdir / name)
    w = load_file(str(src / "model.safetensors"))
    save_file({k: v.astype(np.float16) if v.dtype == np.float32 else v for k, v in w.items()},
              str(mdir / "model.safetensors"))
    print(f"wrote {PACK}: {len(ex)} rows in {time.time() - T0:.0f}s")


# --------------------------------------------------------------------------- run (on the GPU machine)


def load() -> dict:
    d = dict(np.load(PACK / "data.npz"))
    with gzip.open(PACK / "texts.json.gz", "rt", encoding="utf-8") as f:
        meta = json.load(f)
    d["texts"] = meta["texts"]
    d["src_names"] = np.array(meta["sources"])[d["source"]]
    d["split_names"] = np.array(meta["splits"])[d["split"]]
    if SMOKE:  # at most 150 rows of each source and split, and half the violence positives
        rng = np.random.default_rng(0)
        keep = (d["Y"][:, 0] == 1) & (rng.random(len(d["texts"])) < 0.5)
        for s in set(zip(d["src_names"], d["split_names"])):
            rows = np.flatnonzero((d["src_names"] == s[0]) & (d["split_names"] == s[1]))
            keep[rng.choice(rows, min(150, len(rows)), replace=False)] = True
        idx = np.flatnonzero(keep)
        d = {k: v[idx] if isinstance(v, np.ndarray) else [v[i] for i in idx] for k, v in d.items()}
    return d


def examples_of(d: dict) -> list:
    """What ``train.finetune_rows`` reads of a data set row."""
    from warden.detection.training.train import LABELS

    return [SimpleNamespace(source=s, split=p, labels={lab: int(d["Y"][i, j]) for j, lab in enumerate(LABELS)
                                                        if d["M"][i, j]})
            for i, (s, p) in enumerate(zip(d["src_names"], d["split_names"]))]


def load_model():
    import torch
    from transformers import AutoModel

    return AutoModel.from_pretrained(str(PACK / "minilm")).to(torch.float32)


def run_finetune(name: str, cfg: dict, seed: int) -> None:
    """One fine-tune (a worker process, ``train``'s own step on the packed weights); its weights are
    saved under WORK."""
    import torch

    from warden.detection.training.train import CONFIG, _finetune_one, finetune_rows

    d = load()
    cfg = dict(CONFIG, **cfg)
    texts, Y, M, idx = finetune_rows(examples_of(d), d["texts"], cfg)
    if cfg.get("violence_only"):
        M[:, 1:] = 0
    if SMOKE:
        idx = idx[:40]
    t = time.time()
    state = _finetune_one(texts, Y, M, idx, cfg, seed, DEVICE, weights=PACK / "minilm")
    print(f"[{name} {seed}] {len(idx)} rows, {cfg['ft_epochs']} epochs in {time.time() - t:.0f}s", flush=True)
    WORK.mkdir(parents=True, exist_ok=True)
    torch.save(state, WORK / f"{name}_{seed}.tmp")
    os.replace(WORK / f"{name}_{seed}.tmp", WORK / f"{name}_{seed}.pt")


def embed(model, wins: list[list[int]], batch: int = 512) -> np.ndarray:
    """Mean-pooled fp32 embeddings of token-id windows, in padded batches of similar lengths."""
    import torch

    order = np.argsort([len(w) for w in wins], kind="stable")
    out = np.zeros((len(wins), model.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for b in range(0, len(order), batch):
            ix = order[b:b + batch]
            ids = np.zeros((len(ix), max(len(wins[i]) for i in ix)), dtype=np.int64)
            mask = np.zeros_like(ids)
            for r, i in enumerate(ix):
                ids[r, :len(wins[i])] = wins[i]
                mask[r, :len(wins[i])] = 1
            mask = torch.from_numpy(mask).to(DEVICE)
            h = model(input_ids=torch.from_numpy(ids).to(DEVICE), attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            out[ix] = ((h * m).sum(1) / m.sum(1).clamp(min=1)).cpu().numpy()
    return out


def score(d: dict, wins, owner, state) -> tuple[np.ndarray, float]:
    """Every row's thorough violence probability, and the pooled validation AUPRC."""
    import torch

    from warden.detection.detector import head_logits, window_max
    from warden.detection.training.stats import average_precision
    from warden.detection.training.train import CONFIG, HEAD_SOURCE_WEIGHTS, fit_head, fit_platt, head_inputs

    model = load_model()
    model.load_state_dict(state)
    X = head_inputs(embed(model.to(DEVICE).eval(), wins), d["flags"].astype(np.float32)[owner])
    Y, M, split = d["Y"].astype(np.float32), d["M"].astype(np.float32), d["split_names"]
    srcw = np.array([HEAD_SOURCE_WEIGHTS.get(s, 1.0) for s in d["src_names"]], dtype=np.float32)
    tr = np.isin(owner, np.flatnonzero(split == "train"))
    torch.set_num_threads(8)
    head = fit_head(X[tr], Y[owner[tr]], M[owner[tr]], srcw[owner[tr]], dict(CONFIG, head_epochs=1) if SMOKE else CONFIG)
    zhead = window_max(head_logits(head, X), owner, len(Y))[:, 0]
    mv = (split == "val") & (M[:, 0] == 1)
    a, c = fit_platt(np.stack([zhead[mv], d["zlin"][mv, 0]], 1), Y[mv, 0])
    p = (1 / (1 + np.exp(-(a[0] * zhead + a[1] * d["zlin"][:, 0] + c)))).astype(np.float32)
    return p, average_precision(Y[mv, 0], p[mv])


def run(configs: dict, limit: float, with_pretrained: bool) -> None:
    import torch
    import torch.multiprocessing as mp
    from tokenizers import Tokenizer

    from warden.detection.encoder import cut_windows
    from warden.detection.training.stats import average_precision
    from warden.detection.training.train import average_states

    log(f"torch {torch.__version__}, {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}")
    ctx = mp.get_context("spawn")
    procs = {(n, s): ctx.Process(target=run_finetune, args=(n, c, s)) for n, c in configs.items() for s in c["ft_seeds"]}
    for p in procs.values():
        p.start()
    d = load()
    tok = Tokenizer.from_file(str(PACK / "minilm" / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    wins, owner, _ = cut_windows(tok, d["texts"])
    log(f"{len(d['texts'])} rows, {len(wins)} windows; {len(procs)} fine-tunes started")
    results, val_ap, done = {}, {}, set()
    if with_pretrained:  # the encoder before any fine-tune, for reference
        results["pretrained"], val_ap["pretrained"] = score(d, wins, owner, load_model().state_dict())
        log(f"pretrained: validation AUPRC {val_ap['pretrained']:.3f}")
    while len(done) < len(configs) and time.time() - T0 < limit:
        for name, cfg in configs.items():
            if name in done or not all((WORK / f"{name}_{s}.pt").exists() for s in cfg["ft_seeds"]):
                continue
            done.add(name)
            state = average_states([torch.load(WORK / f"{name}_{s}.pt") for s in cfg["ft_seeds"]])
            results[name], val_ap[name] = score(d, wins, owner, state)
            aps = []
            for src, sp in EVAL:
                m = (d["src_names"] == src) & (d["split_names"] == sp) & (d["M"][:, 0] == 1)
                aps.append(f"{src} {average_precision(d['Y'][m, 0], results[name][m]):.3f}")
            log(f"{name}: validation AUPRC {val_ap[name]:.3f}; " + ", ".join(aps))
            np.savez_compressed(OUT / "results.npz", **results)
        if any(p.exitcode not in (None, 0) for p in procs.values()):
            log("a fine-tune failed: " + ", ".join(f"{k}={p.exitcode}" for k, p in procs.items() if p.exitcode))
            break
        time.sleep(2)
    for p in procs.values():
        if p.is_alive():
            p.terminate()
    (OUT / "val_ap.json").write_text(json.dumps(val_ap))
    log(f"done: {len(done)} of {len(configs)} configurations")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("step", choices=["pack", "run"])
    ap.add_argument("--set", default="1", choices=sorted(SETS))
    ap.add_argument("--limit", type=float, default=400.0, help="seconds to wait for fine-tunes")
    args = ap.parse_args()
    pack() if args.step == "pack" else run(SETS[args.set], args.limit, with_pretrained=args.set == "1")
