"""The seven probes of issue 32 (kind_probes.py): their shape, that they are kept apart from the
training exemplars, and how `warden eval` reports them."""
from warden.detection.training import kind_probes as kp
from warden.detection.training.exemplars import exemplars


def test_probe_kinds_are_the_sizes_and_lengths_the_issue_asks_for():
    miss, alarm = kp.kinds()
    assert len(miss) == 4 and len(alarm) == 3
    for texts in (*miss.values(), *alarm.values()):
        assert 40 <= len(texts) <= 80 and len(set(texts)) == len(texts)
    assert all(len(t) > 350 for t in miss["calls buried in long posts"])
    assert all(len(t) > 350 for t in kp.LONG_BENIGN)


def test_probes_are_not_training_exemplars():
    written = {t.lower() for t, _ in exemplars()}
    miss, alarm = kp.kinds()
    assert not written & {t.lower() for texts in (*miss.values(), *alarm.values()) for t in texts}


def test_report_gives_each_kind_a_rate_and_its_bar(detector):
    r = kp.kind_probe_report(detector)
    assert set(r["miss"]) == set(kp.kinds()[0]) and set(r["false_alarm"]) == set(kp.kinds()[1])
    for kind in r["miss"].values():
        assert 0.0 <= kind["at_hold"] <= 1.0 and kind["met"] == (kind["at_hold"] >= kp.MISS_BAR)
    for kind in r["false_alarm"].values():
        assert kind["met"] == (kind["at_auto"] <= kp.FALSE_ALARM_BAR)
