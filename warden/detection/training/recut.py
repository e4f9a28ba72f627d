"""Re-cut a trained model's cascade profiles without retraining anything: the gate's cut, the veto,
how long posts are read and every profile's thresholds, fitted on the validation split by the same
``train.cascade_profiles`` that ``warden train`` runs, around the model's own stage 1, encoder, head
and calibration. A profile that settles nothing, before and after, keeps its
thresholds. Writes the model folder's meta.json with a new version digest.

    python -m warden.detection.training.recut [--model-dir DIR] [--data DIR]

Needs the embedding cache under data/cache (``warden eval`` or ``warden train`` fills it), or
runs the encoder over the validation split (minutes).
"""
from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from . import datasets as ds
from ..normalize import normalize_text
from .evaluate import component_scores
from .train import CONFIG, MODEL_DIR, TRAIN_SOURCES, cascade_profiles, labels_matrix, log, model_digest, scoring_of


def recut(model_dir: Path = MODEL_DIR, data_dir: Path | None = None, cfg: dict = CONFIG) -> dict:
    from ..detector import Detector

    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))
    # the profiles are cut on the reading the config asks of run time (posts over read_max_len - 2
    # word pieces in windows), which the model then records
    read_max_len = cfg.get("read_max_len", meta["encoder"]["max_len"])
    same_reading = read_max_len == meta["encoder"]["max_len"]
    det = Detector.load(model_dir, profile="thorough")
    meta["encoder"]["max_len"] = det.meta["encoder"]["max_len"] = read_max_len
    examples = [e for e in ds.load_all(data_dir, include_eval=False) if e.source in TRAIN_SOURCES and e.split == "val"]
    log(f"{len(examples)} validation rows")
    comp = component_scores(det, [normalize_text(e.text) for e in examples], log=log)
    Y, M = labels_matrix(examples)
    val = np.ones(len(examples), dtype=bool)
    profiles = cascade_profiles(comp.gate, comp.veto, val, Y, M, comp.p_lin, comp.p_enc, comp.read_probabilities, cfg)
    for name, old in meta["profiles"].items():
        if (same_reading and name in profiles and old["cascade"].get("gate_below") is None
                and profiles[name]["cascade"]["gate_below"] is None):
            # a profile without a cut scores every post as before: its thresholds stay (the encoder's
            # outputs differ a little between CPU kinds, which would move them for no other reason);
            # under another reading of the posts they are refitted with the rest
            profiles[name] = old
    meta["profiles"] = profiles
    meta["version"] = f"warden-violence-{date.today().isoformat().replace('-', '.')}-{model_digest(model_dir, scoring_of(meta))}"
    meta["thresholds"] = profiles[meta["default_profile"]]["thresholds"]
    meta["cascade"] = profiles[meta["default_profile"]]["cascade"]
    meta["config"]["profiles"] = cfg["profiles"]
    meta["config"]["read_windows"] = cfg["read_windows"]
    (model_dir / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    log(f"wrote {model_dir / 'meta.json'} ({meta['version']})")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()
    recut(args.model_dir, args.data)


if __name__ == "__main__":
    main()
