"""What two held-out sets' violence labels count, and the labels that follow the definition instead.

`warden eval` scores HatEval and ETHOS for violence against hand judgements that follow the model
card's definition (warden/detection/training/definition_labels.json, by text digest; the sets'
own labels are shown beside them for reference only). This script rebuilds that candidate pool and
prints, per set:

- the pool (every post among the top K of any scorer `warden eval` reports: Warden at each
  profile, encoder-only, linear-only, TF-IDF + LR, alt-profanity-check, the keyword list where it
  counts a keyword) against the stored one, and the posts a new model ranks high that nobody judged;
- the definition positives by reason, the seeded sample's estimate of the positives outside the
  pool (Wilson 95 %), agreement between the sets' own labels and the definition's (kappa), and
  agreement with the earlier audit (bench/label_audit.json);
- every scorer's AUPRC on both labellings, and Warden ÷ TF-IDF with a paired bootstrap interval.

    python bench/label_audit.py [--data ../shared/data] [--unjudged /tmp/unjudged.tsv] [--earlier-audit]

``--unjudged`` writes the text of each unjudged pool post (outside the repo: no data-set text is
kept in it) for someone to judge; ``--earlier-audit`` also prints the 2026-12-01 audit (a random
sample of HatEval's AG label, all of ETHOS's test split) that led to the definition labels.
Results of 2026-12-07: docs/model-card.md ("Definition labels for HatEval and ETHOS").
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warden.detection.training import datasets as ds  # noqa: E402
from warden.detection.training import definition_labels as dl  # noqa: E402
from warden.detection.training.datasets import default_data_dir, load_ethos, load_hateval  # noqa: E402
from warden.detection.detector import Detector  # noqa: E402
from warden.detection.training.definition_labels import text_id  # noqa: E402
from warden.detection.training.stats import average_precision, compare, wilson  # noqa: E402

JUDGEMENTS = Path(__file__).with_name("label_audit.json")


def judged(table: dict, text: str) -> str:
    return table.get(text_id(text), ["no"])[0]


def count_line(name: str, verdicts: list[str]) -> str:
    n = len(verdicts)
    yes, border = verdicts.count("yes"), verdicts.count("borderline")
    lo, hi = wilson(yes, n)
    return (f"  {name}: {n} judged, {yes} violence ({100 * yes / n:.1f} %, 95 % interval "
            f"{100 * lo:.1f}-{100 * hi:.1f} %), {border} borderline")


def hateval(data: Path, det: Detector, spec: dict) -> None:
    examples = load_hateval(data)
    pos = [e for e in examples if e.labels["violence"] == 1]
    neg = [e for e in examples if e.labels["violence"] == 0]
    rng = random.Random(spec["seed"])
    sample_pos, sample_neg = rng.sample(pos, spec["positives"]), rng.sample(neg, spec["negatives"])
    table = spec["judged"]
    ids = {text_id(e.text) for e in sample_pos + sample_neg}
    missing = set(table) - ids
    if missing:
        raise SystemExit(f"label_audit: HatEval judgements for posts not in the sample: {sorted(missing)}")
    vp = [judged(table, e.text) for e in sample_pos]
    vn = [judged(table, e.text) for e in sample_neg]
    print(f"HatEval (AG label): {len(pos)} positives, {len(neg)} negatives")
    print(count_line("AG positives", vp))
    print(count_line("AG negatives", vn))
    yes_p, yes_n = vp.count("yes") / len(vp), vn.count("yes") / len(vn)
    print(f"  across the set: about {yes_p * len(pos):.0f} AG positives and {yes_n * len(neg):.0f} AG negatives "
          f"are violence by the definition; {100 * (1 - yes_p):.0f} % of the AG positives are not")
    y = np.array([e.labels["violence"] for e in examples])
    p = np.array([d.scores["violence"] for d in det.score_many([e.text for e in examples])])
    score = {text_id(e.text): s for e, s in zip(examples, p)}
    for e in sample_pos + sample_neg:
        if judged(table, e.text) != "no":
            print(f"    {text_id(e.text)}  AG={e.labels['violence']}  {judged(table, e.text):10s}  "
                  f"violence {score[text_id(e.text)]:.3f}  ({table[text_id(e.text)][1]})")
    print(f"  model AUPRC on the AG label: {average_precision(y, p):.3f}")


def ethos(data: Path, det: Detector, rng: np.random.Generator, draws: int, table: dict) -> None:
    examples = [e for e in load_ethos(data) if e.split == "test" and e.labels["violence"] is not None]
    y = np.array([e.labels["violence"] for e in examples])
    verdict = np.array([judged(table, e.text) for e in examples])
    unjudged = [text_id(e.text) for e, v in zip(examples, y) if v and text_id(e.text) not in table]
    if unjudged:
        raise SystemExit(f"label_audit: ETHOS positives without a judgement: {unjudged}")
    print(f"\nETHOS (test split): {y.sum()} positives, {len(y) - y.sum()} negatives")
    print(count_line("positives", list(verdict[y == 1])))
    print(f"    {(verdict[y == 1] == 'no').sum()} positives name no violence")
    print(count_line("negatives", list(verdict[y == 0])))
    p = np.array([d.scores["violence"] for d in det.score_batch([e.text for e in examples], spans=False)])
    print(f"  model AUPRC on ETHOS's labels: {average_precision(y, p):.3f}")
    keep = verdict != "borderline"
    print(f"  model AUPRC on the definition's (borderline posts left out, {keep.sum()} posts): "
          f"{average_precision((verdict[keep] == 'yes').astype(int), p[keep]):.3f}")
    violent = verdict == "yes"
    for label, best in (("the rest in random order", False), ("ETHOS's other positives next, at best", True)):
        aps = []
        for _ in range(draws):
            s = rng.random(len(y)) + 2.0 * violent
            if best:
                s = s + 1.0 * ((y == 1) & ~violent)
            aps.append(average_precision(y, s))
        aps = np.array(aps)
        lo, hi = np.percentile(aps, [2.5, 97.5])
        print(f"  a model following the definition exactly, {label}: AUPRC {aps.mean():.3f} "
              f"(95 % of orders {lo:.3f}-{hi:.3f}; {100 * (aps >= 0.85).mean():.0f} % reach 0.85)")


def scorer_scores(data: Path, det: Detector, names: list[str], log=print) -> dict:
    """Every violence scorer `warden eval` reports, on the rows of each set in ``names`` (as
    `warden eval` reads them): {set: (texts, own labels, {scorer: scores})}. The baselines are
    fitted on the training rows as `warden eval` fits them."""
    from profanity_check import predict_prob

    from warden.detection.normalize import normalize_text
    from warden.detection.training.evaluate import component_scores, keyword_scores, tfidf_features, tfidf_scores
    from warden.detection.training.train import TRAIN_SOURCES

    examples = ds.load_all(data, include_eval=True)
    split = np.array([e.split for e in examples])
    src = np.array([e.source for e in examples])
    y = np.array([np.nan if e.labels.get("violence") is None else e.labels["violence"] for e in examples])
    train = (split == "train") & np.isin(src, list(TRAIN_SOURCES))
    rows = np.flatnonzero(np.isin(np.char.add(np.char.add(src, "/"), split), names) & ~np.isnan(y))
    norm_all = [normalize_text(e.text) for e in examples]
    log(f"TF-IDF on {int(train.sum())} training rows; Warden on {len(rows)} held-out rows")
    p_tfidf = tfidf_scores(tfidf_features(norm_all, train), y, train & ~np.isnan(y))[rows]
    norm = [norm_all[i] for i in rows]
    comp = component_scores(det, norm, use_cache=False, log=log)
    j = det.labels.index("violence")
    scores = {f"warden {name}": comp.cascade(pr["cascade"])[1][:, j] for name, pr in det.meta["profiles"].items()}
    scores.update({"warden encoder-only": comp.p_enc[:, j], "warden linear-only": comp.p_lin[:, j],
                   "tf-idf + LR": p_tfidf,
                   "alt-profanity-check": np.asarray(predict_prob([examples[i].text for i in rows]), dtype=float),
                   "keyword list": keyword_scores(norm)})
    out = {}
    for name in names:
        m = np.array([f"{examples[i].source}/{examples[i].split}" == name for i in rows])
        out[name] = ([examples[i].text for i in rows[m]], y[rows[m]].astype(int), {k: v[m] for k, v in scores.items()})
    return out


def build_pool(texts: list[str], scores: dict, k: int) -> dict[str, list[str]]:
    """{text id: scorers that rank it among their top ``k``} (ties by the loader's order; the keyword
    list only where it counts a keyword: a post with none is not ranked high by it)."""
    pool: dict[str, list[str]] = {}
    for name, sc in scores.items():
        top = np.argsort(-sc, kind="stable")[:k]
        if name == "keyword list":
            top = top[sc[top] > 0]
        for i in top:
            pool.setdefault(text_id(texts[i]), []).append(name)
    return pool


def definition_report(name: str, dset: dl.DefinitionSet, texts: list[str], own: np.ndarray, scores: dict,
                      unjudged: list) -> None:
    ids = [text_id(t) for t in texts]
    pool = build_pool(texts, scores, dset.k)
    new, gone = set(pool) - set(dset.pool), set(dset.pool) - set(pool)
    rest = sorted(set(ids) - set(dset.pool))
    sample = set(random.Random(dset.sample_seed).sample(rest, len(dset.sample))) if len(dset.sample) <= len(rest) else set()
    print(f"\n{name}: {len(texts)} posts, {int(own.sum())} positives by the set's own labels")
    print(f"  pool: each of {len(scores)} scorers' top {dset.k}: {len(pool)} posts now, {len(dset.pool)} judged; "
          f"{len(new)} unjudged posts ranked high now, {len(gone)} judged posts no longer ranked high; "
          f"the stored sample {'is' if sample == set(dset.sample) else 'is NOT'} the seeded sample of the rest")
    by_scorer = {s_: sum(s_ in v for v in pool.values()) for s_ in scores}
    print("  posts per scorer: " + ", ".join(f"{k_} {v}" for k_, v in by_scorer.items()))
    codes = {}
    for v, c in dset.pool.values():
        codes[(v, c)] = codes.get((v, c), 0) + 1
    print(f"  definition positives in the pool: {dset.positives()} (" +
          ", ".join(f"{c} {n}" for (v, c), n in sorted(codes.items(), key=lambda x: -x[1]) if v == "yes") + ")")
    print("  pool posts that are not violence, by reason: " +
          ", ".join(f"{c} {n}" for (v, c), n in sorted(codes.items(), key=lambda x: -x[1]) if v == "no"))
    ms = dset.missed()
    if ms["rest"] == 0:
        print("  definition positives outside the pool: 0 (every post is in the pool)")
    else:
        print(f"  definition positives outside the pool: {ms['estimate']:.0f} (95 % CI {ms['ci'][0]:.0f}-{ms['ci'][1]:.0f}; "
              f"{ms['sample_positives']} of a seeded {ms['sample']} of the {ms['rest']} posts outside it)")
    ag = dset.agreement(texts, own)
    yd = dset.labels(texts)
    print(f"  own labels against the definition's: {ag['both']} positive in both, {ag['original_only']} only in the "
          f"own labels, {ag['definition_only']} only by the definition, {ag['neither']} in neither; kappa {ag['kappa']:.2f}; "
          f"{100 * ag['original_only'] / max(1, int(own.sum())):.0f} % of the own positives are not violence by the definition")
    print("  AUPRC (definition labels / own labels):")
    for s_, p in scores.items():
        print(f"    {s_:22s} {average_precision(yd, p):.3f} / {average_precision(own, p):.3f}")
    for s_ in [k_ for k_ in scores if k_.startswith("warden ")]:
        c = compare(yd, scores[s_], scores["tf-idf + LR"])
        print(f"  {s_} / TF-IDF on definition labels: {c['ratio']:.2f}x [{c['ratio_ci'][0]:.2f}-{c['ratio_ci'][1]:.2f}] "
              f"(AUPRC {c['a']:.3f} [{c['a_ci'][0]:.3f}-{c['a_ci'][1]:.3f}] against {c['b']:.3f})")
    unjudged.extend((name, i, t) for i, t in zip(ids, texts) if i in new)


def earlier_audit_agreement(data: Path, sets: dict) -> None:
    """How the definition labels read the posts of the 2026-12-01 audit (bench/label_audit.json)."""
    spec = json.loads(JUDGEMENTS.read_text(encoding="utf-8"))
    hs = spec["hateval_sample"]
    examples = load_hateval(data)
    rng = random.Random(hs["seed"])
    pos = [e for e in examples if e.labels["violence"] == 1]
    neg = [e for e in examples if e.labels["violence"] == 0]
    drawn = rng.sample(pos, hs["positives"]) + rng.sample(neg, hs["negatives"])
    eth = [e for e in load_ethos(data) if e.split == "test" and e.labels["violence"] is not None]
    print("\nAgainst the earlier audit (its 'borderline' decided; a post it did not list counts as its 'no'):")
    for name, rows, table in (("hateval/heldout", drawn, hs["judged"]), ("ethos/test", eth, spec["ethos_test"]["judged"])):
        same, differ, unjudged = 0, [], 0
        for e in rows:
            i = text_id(e.text)
            before = table.get(i, ["no"])[0]
            now = sets[name].pool.get(i, sets[name].sample.get(i))
            if now is None:
                unjudged += 1
            elif before == "borderline" or before == now[0]:
                same += before != "borderline"
            else:
                differ.append((i, before, now))
        border = sum(v[0] == "borderline" for v in table.values())
        print(f"  {name}: {len(rows)} posts of the audit, {unjudged} outside the pool and sample; "
              f"{same} judged the same, {border} borderline decided, {len(differ)} judged differently"
              + "".join(f"\n    {i}: audit {b}, now {n[0]} ({n[1]})" for i, b, n in differ))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--unjudged", type=Path, default=None, help="write unjudged pool posts (id, set, text) here")
    ap.add_argument("--earlier-audit", action="store_true", help="also print the 2026-12-01 audit")
    ap.add_argument("--profile", default="balanced", help="the profile of the earlier audit's figures")
    ap.add_argument("--draws", type=int, default=5000)
    args = ap.parse_args()
    if args.unjudged and ROOT in args.unjudged.resolve().parents:
        raise SystemExit("label_audit: --unjudged must be outside the repository (no data-set text is kept in it)")
    sets = dl.load()
    det = Detector.load()
    print(f"model {det.version}; definition labels of {json.loads(dl.LABELS_FILE.read_text())['model']}")
    scored = scorer_scores(args.data, det, list(sets), log=lambda m: print(m, file=sys.stderr))
    unjudged: list = []
    for name, (texts, own, scores) in scored.items():
        definition_report(name, sets[name], texts, own, scores, unjudged)
    earlier_audit_agreement(args.data, sets)
    if args.unjudged:
        with open(args.unjudged, "w", encoding="utf-8") as f:
            for name, i, t in unjudged:
                f.write(f"{i}\t{name}\t{' '.join(t.split())}\n")
        print(f"\n{len(unjudged)} unjudged pool posts written to {args.unjudged}")
    if args.earlier_audit:
        spec = json.loads(JUDGEMENTS.read_text(encoding="utf-8"))
        det = Detector.load(profile=args.profile)
        print(f"\nThe 2026-12-01 audit, model {det.version}, profile {args.profile}\n")
        hateval(args.data, det, spec["hateval_sample"])
        ethos(args.data, det, np.random.default_rng(0), args.draws, spec["ethos_test"]["judged"])


if __name__ == "__main__":
    main()
