"""Distillation helpers (warden/detection/training/distill.py). The batching and the cache key need only
numpy; reading the int8 encoder back into torch needs the train extra and is skipped without it."""
from __future__ import annotations

import random

import numpy as np
import pytest

from warden.detection.detector import DEFAULT_MODEL_DIR
from warden.detection.training.distill import _batches, student_key

RECIPE = {"layers": [1, 3, 5], "epochs": 8, "lr": 1e-4, "batch_size": 64, "seed": 13}


def test_batches_cover_every_window_once_in_similar_lengths():
    rng = random.Random(3)
    lengths = [rng.randint(3, 120) for _ in range(1000)]
    batches = _batches(lengths, 16, random.Random(13))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    assert all(len(b) <= 16 for b in batches)
    # sorted within chunks, so a batch spans far fewer lengths than a random one would
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 20
    assert batches == _batches(lengths, 16, random.Random(13))  # seeded: the same every run


def test_student_key_names_teacher_windows_and_recipe(tmp_path):
    teacher = tmp_path / "t.onnx"
    teacher.write_bytes(b"teacher one")
    windows = [[101, 2000, 102], [101, 2001, 2002, 102]]
    key = student_key(teacher, windows, RECIPE)
    assert len(key) == 16 and key == student_key(teacher, [list(w) for w in windows], dict(RECIPE))
    assert student_key(teacher, windows[:1], RECIPE) != key
    assert student_key(teacher, [[101, 2000], [102, 2001, 2002, 102]], RECIPE) != key  # same ids, other windows
    assert student_key(teacher, windows, {**RECIPE, "epochs": 9}) != key
    teacher.write_bytes(b"teacher two")
    assert student_key(teacher, windows, RECIPE) != key


def test_teacher_read_back_from_int8_encoder_matches_it():
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("onnx")
    from warden.detection.training.distill import pooled_agreement, student_of, teacher_from_onnx
    from warden.detection.encoder import Encoder

    onnx_path = DEFAULT_MODEL_DIR / "encoder.int8.onnx"
    enc = Encoder(onnx_path, DEFAULT_MODEL_DIR / "tokenizer.json", threads=1)
    wins, _ = enc.windows(["we should hang them all at dawn", "lovely morning for a walk by the river",
                           "i would kill for a coffee right now"])
    want = enc.embed_windows(wins)
    teacher = teacher_from_onnx(onnx_path)
    with torch.no_grad():
        got = np.stack([teacher(input_ids=torch.tensor([w])).last_hidden_state[0].mean(0).numpy() for w in wins])
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() > 0.97  # int8 activations against float ones; a wrong weight mapping gives < 0.5
    student = student_of(teacher, [0, 2])
    assert len(student.encoder.layer) == 2 and len(teacher.encoder.layer) >= 3
    assert 0.0 < pooled_agreement(teacher, student, wins) < 0.99
