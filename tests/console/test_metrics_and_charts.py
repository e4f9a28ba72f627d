"""The dashboard's numbers and drawings without HTTP: surge rule, percentiles, SLAs, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from warden.console import charts, metrics
from warden.console.text import highlight, time_left, visible

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


# --- percentiles ---------------------------------------------------------------------------------


def test_percentile_interpolates_linearly_like_numpy() -> None:
    import numpy as np

    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 10, 50, 90, 99, 100):
        assert metrics.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert metrics.percentile([], 50) is None
    assert metrics.percentile([4.0], 90) == 4.0
    with pytest.raises(ValueError):
        metrics.percentile([1.0], 101)


def test_time_to_action_by_source_with_an_overall_row() -> None:
    opened = NOW - timedelta(hours=10)
    rows = [("user", opened, opened + timedelta(minutes=m)) for m in (10, 20, 30, 40, 100)] + \
           [("trusted_flagger", opened, opened + timedelta(minutes=5))]
    result = {r.source: r for r in metrics.time_to_action(rows)}
    assert result["user"].count == 5 and result["user"].p50 == 30 * 60
    assert result["user"].p90 == pytest.approx((40 + 0.6 * 60) * 60)  # between 40m and 100m
    assert result["trusted_flagger"].p50 == result["trusted_flagger"].p90 == 300
    assert result["all"].count == 6
    assert metrics.time_to_action([]) == []


# --- the surge rule ------------------------------------------------------------------------------


def test_surge_needs_three_sd_twice_the_mean_enough_items_and_history() -> None:
    flat = [50.0] * 14
    noisy = [10.0, 90.0] * 7  # mean 50, sd 40
    assert metrics.surge_check(flat, 150.0, today_items=5).surge  # sd 0: 150 > 50 and >= 100
    assert not metrics.surge_check(flat, 90.0, today_items=5).surge  # above mean + 3sd, but not 2x the mean
    assert not metrics.surge_check(noisy, 160.0, today_items=5).surge  # 2x+ the mean, but within mean + 3 sd
    assert metrics.surge_check(noisy, 171.0, today_items=5).surge
    assert not metrics.surge_check(flat, 400.0, today_items=2).surge  # two posts are not a trend
    few = metrics.surge_check(flat[:6], 400.0, today_items=10)
    assert not few.surge and "not enough history" in few.reason
    # Only the last 14 days count: an old quiet period does not lower today's bar.
    assert not metrics.surge_check([0.0] * 30 + [100.0] * 14, 150.0, today_items=9).surge


def test_prevalence_per_10000_posts_marks_the_surge_day() -> None:
    days = metrics.days_between(date(2026, 11, 1), date(2026, 11, 20))
    posts = {d: 1000 for d in days}
    items = {d: (5 if i % 2 else 4) for i, d in enumerate(days)}
    items[days[-1]] = 20
    series = metrics.prevalence(days, posts, items)
    assert [d.rate for d in series[:2]] == [40.0, 50.0]
    assert [d.day for d in series if d.surge] == [days[-1]]
    assert series[-1].rate == 200.0 and series[-1].baseline == pytest.approx(45.0)
    assert series[0].baseline is None  # no history yet: never an alert
    # Days without posts are not history (a rate of 0 there means "no data", not "no violence").
    quiet = {d: 0 for d in days[:14]} | {d: 1000 for d in days[14:]}  # 5 days of history before the last
    assert not any(d.surge for d in metrics.prevalence(days, quiet, items))


def test_first_days_counts_each_item_once() -> None:
    day1, day2 = datetime(2026, 11, 1, 9, tzinfo=UTC), datetime(2026, 11, 2, 9, tzinfo=UTC)
    counted = metrics.first_days([("s:1", day2), ("s:1", day1), ("s:2", day2), ("d:9", day2)])
    assert counted == {day1.date(): 1, day2.date(): 2}


# --- SLAs, notices, appeals ---------------------------------------------------------------------


def test_sla_compliance_counts_open_overdue_cases_as_missed() -> None:
    due = NOW - timedelta(hours=1)
    rows = [("user", due, due - timedelta(minutes=5)), ("user", due, due + timedelta(minutes=5)),
            ("user", due, None), ("partner", NOW + timedelta(hours=1), None)]
    result = {r.source: r for r in metrics.sla_compliance(rows, NOW)}
    assert (result["user"].on_time, result["user"].late, result["user"].open_overdue) == (1, 1, 1)
    assert result["user"].rate == pytest.approx(1 / 3)
    assert result["partner"].rate is None  # nothing decided or missed yet
    assert result["all"].decided == 2


def test_notice_outcomes_and_appeal_overturn_rate() -> None:
    summary = metrics.notice_outcomes([("A", "actioned"), ("A", "no_action"), ("A", "actioned"), ("B", "received")])
    assert [s.partner for s in summary] == ["A", "B"]
    assert summary[0].total == 3 and summary[0].action_rate == pytest.approx(2 / 3)
    assert summary[1].action_rate is None
    stats = metrics.appeal_stats(["open", "upheld", "overturned", "overturned"])
    assert stats.decided == 3 and stats.overturn_rate == pytest.approx(2 / 3)
    assert metrics.appeal_stats([]).overturn_rate is None


# --- SVG charts ----------------------------------------------------------------------------------

HOSTILE = '</text><script>alert(1)</script><svg onload="alert(2)">&amp;"\''


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_charts_escape_every_label() -> None:
    line = charts.line_chart([(HOSTILE, 1.0), ("b", 3.0)], title=HOSTILE, unit=HOSTILE, marked=[1],
                             reference=[None, 2.0])
    bars = charts.bar_chart([(HOSTILE, [(HOSTILE, 2.0), ("p90", 4.5)])], title=HOSTILE, unit=HOSTILE)
    for svg in (str(line), str(bars)):
        root = _parse(svg)
        tags = {el.tag.split("}")[-1] for el in root.iter()}
        assert "script" not in tags and tags <= {"svg", "title", "text", "line", "polyline", "circle", "rect"}
        assert [el for el in root.iter() if el.tag.endswith("svg")] == [root]  # no nested, injected <svg>
        assert not any(name.startswith("on") for el in root.iter() for name in el.attrib)
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        texts = ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("title")]
        assert HOSTILE in texts  # shown as the very text it was, once unescaped by the parser


def test_charts_scale_mark_and_handle_no_data() -> None:
    svg = str(charts.line_chart([("11-01", 10.0), ("11-02", 20.0), ("11-03", 400.0)], title="t", marked=[2]))
    root = _parse(svg)
    dots = [el for el in root.iter() if el.tag.endswith("circle")]
    assert [d.get("fill") for d in dots] == ["#2563eb", "#2563eb", charts.SURGE]
    assert "no data yet" in str(charts.line_chart([], title="t"))
    assert "no data yet" in str(charts.bar_chart([], title="t"))
    assert 'class="chart"' in svg and 'role="img"' in svg and "style=" not in svg


# --- user text -----------------------------------------------------------------------------------


def test_highlight_escapes_each_segment_and_marks_only_spans() -> None:
    text = "<b>hi</b> they will get what they deserve & more"
    start = text.index("get what")
    html = str(highlight(text, [{"start": start, "end": start + 21, "label": "violence", "weight": 0.9}]))
    assert html.startswith("&lt;b&gt;hi&lt;/b&gt; they will ")
    assert '<mark class="span span-violence" title="violence (weight 0.90)">get what they deserve</mark>' in html
    assert html.endswith(" &amp; more")


def test_highlight_clamps_merges_and_ignores_bad_spans() -> None:
    html = str(highlight("abcdef", [{"start": 1, "end": 3, "label": "a"}, {"start": 2, "end": 5, "label": "b"},
                                    {"start": -4, "end": 0}, {"start": 4, "end": 99, "label": "c"},
                                    {"start": "x", "end": 2}, {"end": 3}]))
    assert html == 'a<mark class="span span-a span-b span-c" title="a, b, c">bcdef</mark>'
    assert str(highlight("", [{"start": 0, "end": 3}])) == ""
    # A span label cannot smuggle markup either.
    tricky = str(highlight("abc", [{"start": 0, "end": 1, "label": '"><script>'}]))
    assert "<script>" not in tricky and "&#34;&gt;&lt;script&gt;" in tricky


def test_highlight_names_the_rules_that_matched() -> None:
    text = "d a y of the r0pe soon"
    html = str(highlight(text, [{"start": 0, "end": 17, "label": "violence", "weight": 1.0, "rule": "violent-codes"},
                                {"start": 13, "end": 17, "label": "violence", "weight": 0.4}]))
    assert html == ('<mark class="span span-violence" title="violence (weight 0.40); rule violent-codes">'
                    'd a y of the r0pe</mark> soon')
    tricky = str(highlight("abc", [{"start": 0, "end": 1, "label": "x", "rule": "<script>"}]))
    assert "<script>" not in tricky and "rule &lt;script&gt;" in tricky


def test_invisible_characters_become_visible_badges() -> None:
    html = str(visible("pay\u202egnp.exe\u202c zero\u200bwidth\nnew line\ttab\x07"))
    assert '<span class="uc" title="RIGHT-TO-LEFT OVERRIDE">U+202E</span>' in html
    assert "U+202C" in html and "U+200B" in html and "U+0007" in html
    assert "\u202e" not in html and "\u200b" not in html and "\n" in html and "\t" in html


def test_time_left_says_when_a_case_is_overdue() -> None:
    assert time_left(NOW + timedelta(hours=2, minutes=5), NOW) == ("2h 05m left", False)
    assert time_left(NOW - timedelta(minutes=40), NOW) == ("overdue by 40m", True)
    assert time_left(NOW + timedelta(days=3, hours=1), NOW) == ("3d 1h left", False)
