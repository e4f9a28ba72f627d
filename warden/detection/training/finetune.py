"""Fine-tune of MiniLM-L6 on a curated subset (training time only).

Mean-pooled output -> linear multi-task layer (violence, hate, harassment), masked BCE. The token
embeddings (and the layers below ``freeze_below``, none by default) stay frozen; only the encoder
weights are kept — the run-time head is refitted on embeddings of the exported int8 model.
"""
from __future__ import annotations

import random
import time


LABELS = ("violence", "hate", "harassment")


def curate(examples, texts, train_sources, seed: int = 13, n_other: int = 9000, n_hate: int = 3000):
    """Indices of training rows for the fine-tune: every violence positive and exemplar, a sample of
    hate/harassment positives and of the rest."""
    rng = random.Random(seed)
    vio, ex, hate, other = [], [], [], []
    for i, e in enumerate(examples):
        if e.split != "train" or e.source not in train_sources:
            continue
        if e.source == "exemplars":
            ex.append(i)
        elif e.labels.get("violence") == 1:
            vio.append(i)
        elif e.labels.get("hate") == 1:
            hate.append(i)
        else:
            other.append(i)
    rng.shuffle(hate)
    rng.shuffle(other)
    return vio + ex + hate[:n_hate] + other[:n_other]


def padded_copies(texts, Y, M, idx, fillers, rate: float, counts=(1, 2, 3, 5), max_chars: int = 450,
                  seed: int = 13):
    """Copies of a share (``rate``) of the fine-tune rows with everyday posts (``fillers``) placed
    around them, labelled as the row. A threat inside a longer post is then learnt as a threat:
    the encoder's mean pooling otherwise dilutes it. Every label is copied, so padding carries no
    label by itself. Returns (texts, Y, M, idx) extended with the copies."""
    import numpy as np

    rng = random.Random(seed)
    new_texts, src = [], []
    for i in idx:
        if rng.random() >= rate:
            continue
        k = rng.choice(counts)
        parts = rng.sample(fillers, k)
        while parts and len(texts[i]) + sum(len(f) + 1 for f in parts) > max_chars:
            parts.pop()
        if not parts:
            continue
        j = rng.randint(0, len(parts))
        new_texts.append(" ".join(parts[:j] + [texts[i]] + parts[j:]))
        src.append(i)
    n = len(texts)
    return (list(texts) + new_texts, np.concatenate([Y, Y[src]]), np.concatenate([M, M[src]]),
            list(idx) + list(range(n, n + len(src))))


def finetune(model, tokenizer, texts, Y, M, idx, epochs: int = 1, lr: float = 4e-5, freeze_below: int = 3,
             max_len: int = 128, batch_size: int = 32, pos_weight=(6.0, 2.0, 1.0), seed: int = 13, log=print,
             device: str = "cpu", clf=None):
    """Fine-tune ``model`` in place on rows ``idx`` of ``texts`` (labels ``Y``, mask ``M``) on
    ``device`` ("cpu", or "cuda" where torch sees a GPU; the classifier is initialised on the CPU
    either way, so a seed starts from the same weights on both). ``Y`` may hold soft targets in
    [0, 1] (a teacher's probabilities, teacher.soft_targets). ``clf``: the multi-task linear layer
    to train beside the encoder (a new one when None, thrown away afterwards); a caller that passes
    its own keeps it trained (the teacher scores with it)."""
    import torch

    torch.manual_seed(seed)
    for p in model.embeddings.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer[:freeze_below]:
        for p in layer.parameters():
            p.requires_grad = False
    if clf is None:
        clf = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    model.to(device)
    clf.to(device)
    params = [p for p in model.parameters() if p.requires_grad] + list(clf.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    pw = torch.tensor(pos_weight, dtype=torch.float32, device=device)
    rng = random.Random(seed)
    order = list(idx)
    steps = 0
    t0 = time.time()
    n_steps = epochs * ((len(order) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / max(1, n_steps)))
    for ep in range(epochs):
        rng.shuffle(order)
        # bucket by length within chunks of 50 batches so padding stays small
        chunks = [order[i:i + batch_size * 50] for i in range(0, len(order), batch_size * 50)]
        batches = []
        for ch in chunks:
            ch = sorted(ch, key=lambda i: len(texts[i]))
            batches.extend(ch[i:i + batch_size] for i in range(0, len(ch), batch_size))
        rng.shuffle(batches)
        model.train()
        tot = 0.0
        for b in batches:
            enc = tokenizer([texts[i] for i in b], padding=True, truncation=True, max_length=max_len,
                            return_tensors="pt").to(device)
            h = model(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1)
            z = clf(pooled)
            y = torch.tensor(Y[b], dtype=torch.float32, device=device)
            mk = torch.tensor(M[b], dtype=torch.float32, device=device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=pw, reduction="none")
            loss = (loss * mk).sum() / mk.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            steps += 1
            tot += loss.item()
            if steps % 50 == 0:
                log(f"  fine-tune step {steps}/{n_steps}: loss {tot / 50:.4f} ({time.time() - t0:.0f}s)")
                tot = 0.0
    model.eval()
    clf.eval()
    return model
