"""`warden classify` through click's CliRunner on a group built with register()."""
import json

import click
import pytest
from click.testing import CliRunner

from warden.detection.commands import register


def _cli() -> click.Group:
    @click.group()
    def cli():
        pass

    register(cli)
    return cli


def test_commands_registered():
    assert {"train", "classify", "eval"} <= set(_cli().commands)


def test_classify_keeps_input_order_and_format():
    rows = [{"id": i, "text": t} for i, t in enumerate(
        ["I'd kill for a coffee", "we should kill all of them tonight", "nice weather", "", "🔫🔫 k1ll"])]
    rows.append({"id": "s-1", "text": "string ids work too"})
    stdin = "\n".join(json.dumps(r) for r in rows) + "\n"
    res = CliRunner().invoke(_cli(), ["classify"], input=stdin)
    assert res.exit_code == 0, res.output
    out = [json.loads(line) for line in res.output.strip().split("\n")]
    assert [o["id"] for o in out] == [r["id"] for r in rows]
    for o in out:
        assert set(o) == {"id", "scores", "model"}
        assert set(o["scores"]) == {"violence", "hate", "harassment"}
        assert o["model"].startswith("warden-violence-")
    assert out[1]["scores"]["violence"] > out[0]["scores"]["violence"]


def test_classify_input_file(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "hello"}\n{"id": "b", "text": "bye"}\n', encoding="utf-8")
    res = CliRunner().invoke(_cli(), ["classify", "--input", str(p)])
    assert res.exit_code == 0, res.output
    assert [json.loads(x)["id"] for x in res.output.strip().split("\n")] == ["a", "b"]


def test_classify_bad_line_fails_with_line_number_and_no_output():
    stdin = '{"id": 1, "text": "fine"}\n{"id": 2, "text": "fine too"}\nnot json at all\n{"id": 4, "text": "x"}\n'
    res = CliRunner().invoke(_cli(), ["classify"], input=stdin)
    assert res.exit_code != 0
    assert "line 3" in res.output
    assert '"scores"' not in res.output  # nothing was written for the good lines


def test_classify_missing_fields():
    for bad, msg in [('{"text": "no id"}', 'missing "id"'), ('{"id": 1, "text": 5}', '"text" must be a string'),
                     ('[1, 2]', "expected a JSON object")]:
        res = CliRunner().invoke(_cli(), ["classify"], input='{"id": 0, "text": "ok"}\n' + bad + "\n")
        assert res.exit_code != 0
        assert "line 2" in res.output and msg in res.output


def test_classify_fast_profile():
    res = CliRunner().invoke(_cli(), ["classify", "--profile", "fast"], input='{"id": 1, "text": "hi"}\n')
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(_cli(), ["classify", "--profile", "nope"], input='{"id": 1, "text": "hi"}\n')
    assert res.exit_code != 0 and "unknown detection profile" in res.output


def test_eval_says_when_train_extra_is_missing(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn -> ImportError
    res = CliRunner().invoke(_cli(), ["eval"])
    assert res.exit_code != 0
    assert "train extra" in res.output


def test_train_keep_encoder_and_distill_from_exclude_each_other(tmp_path):
    teacher = tmp_path / "encoder.int8.onnx"
    teacher.write_bytes(b"not read")
    res = CliRunner().invoke(_cli(), ["train", "--keep-encoder", "--distill-from", str(teacher), "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "exclude each other" in res.output
    res = CliRunner().invoke(_cli(), ["train", "--distill-from", str(tmp_path / "missing.onnx")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_train_device_is_checked_before_any_work(tmp_path):
    res = CliRunner().invoke(_cli(), ["train", "--device", "tpu", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "use cpu, cuda or cuda:N" in res.output
    res = CliRunner().invoke(_cli(), ["train", "--device", "cuda", "--keep-encoder", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "do not fine-tune" in res.output
    assert list(tmp_path.iterdir()) == []


def test_train_on_a_gpu_the_machine_lacks_fails_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    res = CliRunner().invoke(_cli(), ["train", "--device", "cuda:0", "--out", str(tmp_path / "model")])
    assert res.exit_code == 1
    assert "sees no CUDA GPU" in res.output
    assert not (tmp_path / "model").exists()
