"""CLI commands of the detection part (train, classify, eval): registered on the `warden` group."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

BATCH = 1024  # posts per batch; stage 1 of the next batch overlaps the encoder on this one


def _parse_lines(lines) -> list[tuple[object, str]]:
    """Validate every input line first; raise click.ClickException naming the first bad line."""
    items = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue  # blank lines are ignored
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"line {n}: not valid JSON ({exc.msg})")
        if not isinstance(obj, dict):
            raise click.ClickException(f"line {n}: expected a JSON object with \"id\" and \"text\"")
        if "id" not in obj:
            raise click.ClickException(f"line {n}: missing \"id\"")
        if not isinstance(obj.get("text"), str):
            raise click.ClickException(f"line {n}: \"text\" must be a string")
        items.append((obj["id"], obj["text"]))
    return items


@click.command("classify")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JSONL file of {\"id\", \"text\"} (default: stdin).")
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model folder (default: the shipped warden/detection/model).")
@click.option("--batch-size", default=BATCH, show_default=True, type=click.IntRange(min=1))
@click.option("--profile", default=None,
              help="Cascade profile: balanced (default), fast (more posts settled by stage 1) or "
                   "thorough (every post through the encoder: slowest, best ranking).")
def classify_cmd(input_path: Path | None, model_dir: Path | None, batch_size: int, profile: str | None) -> None:
    """Score JSONL posts: {"id","text"} in, {"id","scores","model"} out, in input order."""
    if input_path:
        with open(input_path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    else:
        lines = sys.stdin.read().split("\n")
    items = _parse_lines(lines)  # all input validated before any output
    from .detector import Detector

    try:
        det = Detector.load(model_dir, profile=profile)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc))
    out = [json.dumps({"id": id_, "scores": d.scores, "model": d.model}, ensure_ascii=False)
           for (id_, _), d in zip(items, det.score_many((t for _, t in items), batch_size=batch_size), strict=True)]
    if out:
        click.echo("\n".join(out))


@click.command("train")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data folder (default: ../shared/data relative to the repo root).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the model (default: warden/detection/model).")
@click.option("--reexport", is_flag=True, help="With fine-tuning switched off in the config: re-export the base encoder.")
@click.option("--keep-encoder", is_flag=True,
              help="Keep the encoder already in --out: skip the fine-tune (about 20 minutes on two cores) and "
                   "refit stage 1, the head, calibration, the cascade and thresholds (about a minute).")
@click.option("--distill-from", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Skip the fine-tune: distil this int8 encoder (a teacher, such as a model folder's "
                   "encoder.int8.onnx) into the configured student, then fit the rest. The distilled "
                   "layers are cached under data/cache.")
@click.option("--device", default="cpu", show_default=True,
              help="Where the encoder fine-tune runs: cpu, or cuda (cuda:N) where torch sees a GPU; the "
                   "seeds' fine-tunes then share it. Floating-point rounding differs, so the encoder "
                   "comes out slightly different from a CPU build.")
def train_cmd(data_dir: Path | None, out_dir: Path | None, reexport: bool, keep_encoder: bool,
              distill_from: Path | None, device: str) -> None:
    """Train the detection cascade from the shared data sets (needs the train extra)."""
    if keep_encoder and distill_from:
        raise click.UsageError("--keep-encoder and --distill-from exclude each other")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise click.UsageError(f"--device {device!r}: use cpu, cuda or cuda:N")
    if device != "cpu" and (keep_encoder or distill_from):
        raise click.UsageError("--device places the encoder fine-tune; --keep-encoder and --distill-from do not fine-tune")
    try:
        from .training.train import MODEL_DIR, train
    except ImportError as exc:  # pragma: no cover
        raise click.ClickException(f"`warden train` needs the train extra: pip install -e '.[train]' ({exc})")
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise click.ClickException(f"`warden train` needs the train extra: pip install -e '.[train]' ({exc})")
    if device != "cpu":
        if not torch.cuda.is_available():
            raise click.ClickException(f"--device {device}: torch {torch.__version__} sees no CUDA GPU on this machine")
        if ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
            raise click.ClickException(f"--device {device}: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    try:
        train(data_dir, out_dir or MODEL_DIR, reexport=reexport, keep_encoder=keep_encoder, distill_from=distill_from,
              device=device)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc))


@click.command("eval")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the full results as JSON here.")
@click.option("--no-cache", is_flag=True, help="Do not use the training embedding cache (slower).")
def eval_cmd(data_dir: Path | None, model_dir: Path | None, json_out: Path | None, no_cache: bool) -> None:
    """Evaluate on every held-out set with baselines, HateCheck and robustness (needs the train extra)."""
    from .training.evaluate import format_report, require_train_extra, run_eval

    try:
        require_train_extra()
    except RuntimeError as exc:
        raise click.ClickException(str(exc))
    res = run_eval(data_dir, model_dir, json_out, use_cache=not no_cache,
                   log=lambda m: click.echo(m, err=True))
    click.echo(format_report(res))


def register(group: click.Group) -> None:
    """Add the detection commands to the `warden` CLI group."""
    group.add_command(train_cmd)
    group.add_command(classify_cmd)
    group.add_command(eval_cmd)
