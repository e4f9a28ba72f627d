"""The encoder fine-tune (warden/detection/training/finetune.py) on a tiny random BERT: needs the train extra
(torch, transformers) and is skipped without it. The full recipe is measured by `warden train`."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from warden.detection.training.export import minilm_dir  # noqa: E402
from warden.detection.training.finetune import finetune  # noqa: E402

TEXTS = ["we should hang them all at dawn", "lovely morning for a walk by the river",
         "i would kill for a coffee right now", "burn their houses down tonight",
         "the match was a massacre, we lost 5-0", "someone put a bullet in him"] * 4
Y = np.array([[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]] * 4, dtype=np.float32)
M = np.ones_like(Y)


def _tiny_bert(seed: int = 0):
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=128)
    return transformers.BertModel(cfg)


def _run(seed: int, device: str = "cpu"):
    model = _tiny_bert()
    tok = transformers.AutoTokenizer.from_pretrained(str(minilm_dir()))
    finetune(model, tok, TEXTS, Y, M, list(range(len(TEXTS))), epochs=2, lr=1e-3, freeze_below=0,
             batch_size=8, seed=seed, log=lambda m: None, device=device)
    return model, {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def test_finetune_trains_the_layers_not_the_token_embeddings_and_repeats_itself():
    start = _tiny_bert().state_dict()
    model, a = _run(13)
    assert not model.training  # handed back in eval mode
    assert torch.equal(a["embeddings.word_embeddings.weight"], start["embeddings.word_embeddings.weight"])
    moved = [k for k in a if k.startswith("encoder.layer.") and not torch.equal(a[k], start[k])]
    assert len(moved) >= 20  # every layer's weights moved
    _, again = _run(13)
    assert all(torch.equal(a[k], again[k]) for k in a)  # a seed is deterministic on the CPU (the soup relies on it)
    _, other = _run(14)
    assert any(not torch.equal(a[k], other[k]) for k in a)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_finetune_on_a_gpu_moves_the_weights_as_the_cpu_run_does():
    start = _tiny_bert().state_dict()
    _, cpu = _run(13)
    model, gpu = _run(13, "cuda")
    assert next(model.parameters()).is_cuda
    keys = [k for k in start if k.startswith("encoder.layer.")]
    d_cpu = torch.cat([(cpu[k] - start[k]).flatten() for k in keys])
    d_gpu = torch.cat([(gpu[k] - start[k]).flatten() for k in keys])
    # rounding differs, so not equal; but the same steps from the same start
    assert float(torch.nn.functional.cosine_similarity(d_cpu, d_gpu, dim=0)) > 0.9


def test_a_training_fine_tune_starts_from_weights_stored_in_fp16_and_returns_fp32(tmp_path, monkeypatch):
    """``train._finetune_one(weights=...)``, the step bench/finetune_sweep.py runs on MiniLM's weights
    rounded to fp16 for the transfer: it reads them in fp32 and trains from them."""
    import shutil

    from warden.detection.training.train import _finetune_one

    start = _tiny_bert().half()
    start.save_pretrained(tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_dir() / name, tmp_path / name)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    try:
        cfg = {"ft_epochs": 2, "ft_lr": 1e-3, "ft_freeze_below": 0}
        state = _finetune_one(TEXTS, Y, M, list(range(len(TEXTS))), cfg, 13, weights=tmp_path)
    finally:
        torch.set_num_threads(threads)
    begin = {k: v.float() for k, v in start.state_dict().items()}
    assert all(v.dtype == torch.float32 for k, v in state.items() if v.is_floating_point())
    moved = [k for k in state if k.startswith("encoder.layer.") and not torch.equal(state[k], begin[k])]
    assert len(moved) >= 20
    assert torch.equal(state["embeddings.word_embeddings.weight"], begin["embeddings.word_embeddings.weight"])
