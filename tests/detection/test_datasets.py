"""Label mapping and split policy (skipped where ../shared/data is absent)."""
import pytest

from warden.detection.training import datasets as ds
from warden.detection.training.train import TRAIN_SOURCES

DATA = ds.default_data_dir()
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no data at {DATA}")


def test_seeded_split_is_fixed():
    assert ds.seeded_split("some post") == ds.seeded_split("some post")
    splits = [ds.seeded_split(f"post {i}") for i in range(3000)]
    assert 0.65 < splits.count("train") / 3000 < 0.75
    assert 0.12 < splits.count("test") / 3000 < 0.18


def test_weak_rule_only_marks_violent_calls():
    assert ds.weak_violence("we should hang them all")
    assert not ds.weak_violence("what a lovely day")
    assert not ds.weak_violence("the movie was about a murder")  # no call / intent marker


def test_eval_only_sets_never_train():
    for name, info in ds.SETS.items():
        if info.use == "eval":
            assert name not in TRAIN_SOURCES
    assert "hatecheck" not in TRAIN_SOURCES and "hateval" not in TRAIN_SOURCES


@needs_data
def test_mapping_on_the_shared_sets():
    edos = ds.load_edos(DATA)
    cat1 = [e for e in edos if e.meta["vector"].startswith(("1.1", "1.2"))]
    assert len(cat1) == 443 and all(e.labels["violence"] == 1 for e in cat1)
    assert {e.split for e in edos} == {"train", "val", "test"}
    hc = ds.load_hatecheck(DATA)
    assert all(e.split == "heldout" for e in hc)
    assert sum(e.labels["violence"] for e in hc) == sum(e.meta["functionality"].startswith("threat_") for e in hc)
    ghc = ds.load_ghc(DATA)
    assert all(e.split == "heldout" for e in ghc) and sum(e.labels["violence"] for e in ghc) > 100


def test_latent_hatred_posts_nobody_judged_for_threats_are_unknown(tmp_path):
    """Latent Hatred's threat annotation (stg2) covers implicit hate only: an explicit-hate post
    was never judged for threats, so it must not become a violence negative; and its "threatening"
    class counts for violence only where a post names physical violence."""
    d = tmp_path / "implicit-hate-latent-hatred"
    d.mkdir()
    (d / "implicit_hate_v1_stg1_posts.tsv").write_text(
        "post\tclass\n"
        "send them all back where they came from\timplicit_hate\n"
        "they will get what is coming to them\timplicit_hate\n"
        "string them up from the lampposts, every traitor will hang\timplicit_hate\n"
        "deport every last one of them\timplicit_hate\n"
        "kill the illegals\texplicit_hate\n"
        "an implicit post stage two never saw\timplicit_hate\n"
        "lovely weather for the parade\tnot_hate\n", encoding="utf-8")
    (d / "implicit_hate_v1_stg2_posts.tsv").write_text(
        "post\timplicit_class\textra_implicit_class\n"
        "send them all back where they came from\twhite_grievance\t\n"
        "they will get what is coming to them\tthreatening\t\n"
        "string them up from the lampposts, every traitor will hang\tthreatening\t\n"
        "deport every last one of them\tother\tthreatening\n", encoding="utf-8")
    got = {e.text: e.labels for e in ds.load_implicit(tmp_path)}
    # "threatening" also covers calls to deport or to restrict rights: a positive only where the
    # post names physical violence, otherwise unknown (an implicit threat may hide there)
    assert got["string them up from the lampposts, every traitor will hang"]["violence"] == 1
    assert got["they will get what is coming to them"]["violence"] is None
    assert got["deport every last one of them"]["violence"] is None
    assert got["send them all back where they came from"]["violence"] == 0
    assert got["lovely weather for the parade"]["violence"] == 0
    assert got["kill the illegals"]["violence"] is None
    assert got["an implicit post stage two never saw"]["violence"] is None
    assert got["kill the illegals"]["hate"] == 1 and got["lovely weather for the parade"]["hate"] == 0


def test_coded_exemplars_are_kept_apart_from_the_training_exemplars():
    from warden.detection.training.exemplars import CODED_NEG_TEMPLATES, CODED_POS_TEMPLATES, coded_exemplars, exemplars

    coded = coded_exemplars()
    assert coded == coded_exemplars()  # seeded: the same every time
    texts = {t for t, _ in exemplars()}
    assert not texts & {t for t, _ in coded}  # none of them is trained on
    labels = [y for _, y in coded]
    assert 0 < sum(labels) < len(labels)
    # every template filled: each contributes at least one exemplar
    lowered = [t.lower() for t, _ in coded]
    for tpl in CODED_POS_TEMPLATES + CODED_NEG_TEMPLATES:
        head = tpl.split("{")[0].lower()[:12]
        assert any(t.startswith(head) for t in lowered), tpl
