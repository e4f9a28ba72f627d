"""Definition labels for HatEval and ETHOS (definition_labels.json) and their use by `warden eval`.

The file checks run on the shipped judgements; those that need the held-out texts are skipped
where ../shared/data is absent."""
import json
import random

import numpy as np
import pytest

from warden.detection.training import datasets as ds
from warden.detection.training import definition_labels as dl
from warden.detection.training.datasets import Example
from warden.detection.training.evaluate import held_out_results, metrics
from warden.detection.training.stats import average_precision, cohen_kappa, wilson

DATA = ds.default_data_dir()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no data at {DATA}")


def held_out_split(name: str) -> list[Example]:
    """The rows `warden eval` scores for violence in the set ``name``."""
    loader = {"hateval/heldout": ds.load_hateval, "ethos/test": ds.load_ethos}[name]
    source, split = name.split("/")
    return [e for e in loader(DATA) if e.source == source and e.split == split and e.labels["violence"] is not None]


# ------------------------------------------------------------------ the shipped file

def test_the_file_names_posts_by_digest_and_stores_no_text():
    raw = json.loads(dl.LABELS_FILE.read_text(encoding="utf-8"))
    allowed = set(dl.YES_CODES) | set(dl.NO_CODES) | {"yes", "no"}
    for name, s in raw["sets"].items():
        for part in ("pool", "sample"):
            for key, value in s[part].items():
                assert len(key) == 12 and int(key, 16) >= 0
                assert set(value) <= allowed, (name, key, value)
    sets = dl.load()  # the loader's own checks: verdicts, reason codes, pool and sample disjoint
    assert set(sets) == {"hateval/heldout", "ethos/test"}
    for s in sets.values():
        assert s.positives() > 0


@needs_data
@pytest.mark.parametrize("name", ["hateval/heldout", "ethos/test"])
def test_every_judged_post_is_in_the_held_out_split(name):
    s = dl.load()[name]
    ids = {dl.text_id(e.text) for e in held_out_split(name)}
    assert not set(s.pool) - ids
    assert not set(s.sample) - ids
    assert s.rest == len(ids - set(s.pool))
    rest = sorted(ids - set(s.pool))
    assert set(s.sample) == set(random.Random(s.sample_seed).sample(rest, len(s.sample)))


@needs_data
def test_the_earlier_audits_violent_posts_are_positive_here():
    """bench/label_audit.json's 'yes' judgements are kept: every one of them is a definition positive."""
    audit = json.loads((dl.LABELS_FILE.parents[3] / "bench" / "label_audit.json").read_text(encoding="utf-8"))
    sets = dl.load()
    for name, table in (("hateval/heldout", audit["hateval_sample"]["judged"]),
                        ("ethos/test", audit["ethos_test"]["judged"])):
        for key, (verdict, _) in table.items():
            if verdict == "yes":
                assert sets[name].pool[key][0] == "yes", (name, key)


# ------------------------------------------------------------------ intervals and agreement

def test_wilson_interval():
    lo, hi = wilson(0, 350)
    assert lo == 0.0 and hi == pytest.approx(1.96 ** 2 / (350 + 1.96 ** 2))  # k = 0: z² / (n + z²)
    lo, hi = wilson(5, 100)
    assert lo == pytest.approx(0.0215, abs=1e-4) and hi == pytest.approx(0.1118, abs=1e-4)
    lo, hi = wilson(100, 100)
    assert hi == pytest.approx(1.0) and lo == pytest.approx(0.963, abs=1e-3)
    with pytest.raises(ValueError):
        wilson(0, 0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_missed_estimate_scales_the_sample_to_the_posts_outside_the_pool():
    s = dl.DefinitionSet("x/test", 2, ["a"], rest=1000, pool={},
                         sample={f"{i:012x}": ("yes" if i < 2 else "no", "call" if i < 2 else "none") for i in range(100)})
    m = s.missed()
    lo, hi = wilson(2, 100)
    assert m["estimate"] == pytest.approx(20.0)
    assert m["ci"] == pytest.approx([lo * 1000, hi * 1000])
    everything = dl.DefinitionSet("x/test", 2, ["a"], rest=0, pool={})
    assert everything.missed()["ci"] == [0.0, 0.0]
    with pytest.raises(ValueError):
        dl.DefinitionSet("x/test", 2, ["a"], rest=10, pool={}).missed()


def test_kappa():
    a = np.array([1, 1, 0, 0, 0, 0])
    assert cohen_kappa(a, a) == pytest.approx(1.0)
    assert cohen_kappa(a, 1 - a) < 0
    assert cohen_kappa(np.array([1, 0, 1, 0]), np.array([1, 1, 0, 0])) == pytest.approx(0.0)


def test_a_malformed_file_is_refused(tmp_path):
    base = {"sets": {"x/test": {"k": 1, "scorers": ["a"], "rest": 0, "pool": {}}}}
    for pool in ({"not-hex": ["yes", "call"]}, {"0123456789ab": ["yes", "news"]},
                 {"0123456789ab": ["maybe", "none"]}, {"0123456789ab": "yes"}):
        base["sets"]["x/test"]["pool"] = pool
        path = tmp_path / "labels.json"
        path.write_text(json.dumps(base), encoding="utf-8")
        with pytest.raises(ValueError):
            dl.load(path)


# ------------------------------------------------------------------ `warden eval` uses them

def _fake_eval_inputs():
    """Six HatEval posts, six ETHOS test posts and six EDOS test posts with a scorer that ranks
    the posts that are violence by the definition first; the sets' own labels disagree with it."""
    rows = []
    for source, split in (("hateval", "heldout"), ("ethos", "test"), ("edos", "test")):
        for i in range(6):
            violent = i < 2
            own = 1 if i in (1, 2, 3) else 0  # the set's own label: one violent post missed, two others marked
            rows.append(Example(f"{source} post {i} {'shoot them all' if violent else 'deport them'}",
                                source, split, {"violence": own, "hate": None, "harassment": None}))
    pool = {}
    for e in rows:
        if e.source != "edos" and "post 5" not in e.text:  # post 5 of each set stays outside the pool
            pool[dl.text_id(e.text)] = ("yes", "call") if "shoot" in e.text else ("no", "politics")
    sets = {name: dl.DefinitionSet(name, 3, ["fake"], rest=1, pool={k: v for k, v in pool.items()},
                                   sample={})
            for name in ("hateval/heldout", "ethos/test")}
    for name, s in sets.items():  # each set's pool holds only its own posts; its one post outside is sampled
        src = name.split("/")[0]
        s.pool = {dl.text_id(e.text): pool[dl.text_id(e.text)] for e in rows
                  if e.source == src and dl.text_id(e.text) in pool}
        outside = next(e for e in rows if e.source == src and "post 5" in e.text)
        s.sample = {dl.text_id(outside.text): ("no", "politics")}
    score = np.array([0.9 if "shoot" in e.text else 0.1 + 0.01 * i for i, e in enumerate(rows)])
    y = np.array([float(e.labels["violence"]) for e in rows])
    systems = {"warden (cascade)": score, "tf-idf + LR": 1 - score, "keyword list": (score > 0.5).astype(float)}
    thr = {name: (0.5, 0.2) for name in systems}
    return rows, y, systems, thr, sets


def test_eval_scores_hateval_and_ethos_on_definition_labels():
    rows, y, systems, thr, sets = _fake_eval_inputs()
    res = held_out_results(rows, "violence", y, systems, thr, np.zeros(len(rows), dtype=bool), sets)
    for name in ("hateval/heldout", "ethos/test"):
        r = res[name]
        assert r["warden (cascade)"]["pos"] == 2  # the two violent posts, not the set's three
        assert r["warden (cascade)"]["auprc"] == pytest.approx(1.0)
        assert r["tf-idf + LR"]["auprc"] < 0.5
        d = r["_definition"]
        assert d["positives"] == 2 and d["pool"] == 5
        assert d["missed"]["estimate"] == 0.0 and d["missed"]["ci"] == [0.0, 0.0]  # its one outside post, judged
        assert d["original"]["warden (cascade)"]["pos"] == 3
        src = name.split("/")[0]
        m = np.array([e.source == src for e in rows])
        assert d["original"]["warden (cascade)"]["auprc"] == pytest.approx(average_precision(y[m], systems["warden (cascade)"][m]))
        assert d["agreement"] == {"both": 1, "original_only": 2, "definition_only": 1, "neither": 2,
                                  "kappa": pytest.approx(cohen_kappa(y[m], [1, 1, 0, 0, 0, 0]))}
        assert r["_vs_tfidf"]["a"] == pytest.approx(1.0)
    # another set keeps its own labels
    edos = res["edos/test"]
    m = np.array([e.source == "edos" for e in rows])
    assert "_definition" not in edos
    assert edos["warden (cascade)"] == metrics(systems["warden (cascade)"][m], y[m], 0.5, 0.2)


def test_relabel_touches_only_the_definition_sets():
    rows, y, _, _, sets = _fake_eval_inputs()
    names = [f"{e.source}/{e.split}" for e in rows]
    out = dl.relabel(names, [e.text for e in rows], y, sets)
    for e, before, after in zip(rows, y, out):
        if e.source == "edos":
            assert after == before
        else:
            assert after == float("shoot" in e.text and "post 5" not in e.text)


def test_the_report_says_which_labels_it_scored_on():
    from warden.detection.training.evaluate import _bar_table, definition_lines

    rows, y, systems, thr, sets = _fake_eval_inputs()
    sets["hateval/heldout"].rest, sets["hateval/heldout"].sample = 50, {
        f"{i:012x}": ("yes" if i == 0 else "no", "call" if i == 0 else "none") for i in range(10)}
    res = held_out_results(rows, "violence", y, systems, thr, np.zeros(len(rows), dtype=bool), sets)
    text = "\n".join(definition_lines(res["hateval/heldout"]["_definition"]))
    lo, hi = wilson(1, 10)
    assert f"definition positives outside the pool: 5 (95 % CI {lo * 50:.0f}-{hi * 50:.0f}" in text
    assert "Original labels (reference only, 3 positives of 6)" in text
    table = "\n".join(_bar_table(res))
    assert "hateval/heldout **outside** (definition labels)" in table
    assert "edos/test |" in table
