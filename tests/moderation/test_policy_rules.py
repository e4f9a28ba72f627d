"""Keyword, list and regex rules in `evaluate()` (pure: no database, no detector)."""

from __future__ import annotations

import pytest

from warden.policy.engine import CompiledPolicy, evaluate
from warden.policy.model import DEFAULT_POLICY_PATH, load_policy, parse_policy

POLICY = """
version: "rules-test"
labels:
  violence: {severity: 10, category: STATEMENT_CATEGORY_VIOLENCE, thresholds: []}
  other: {severity: 2, category: STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE, thresholds: []}
lists:
  calls: ["kill them all", "RaHoWa"]
rules:
  - {id: calls, label: violence, list: calls, action: block}
  - {id: words, label: other, keywords: ["bad apple"], action: label}
  - {id: links, label: other, pattern: '(?i)buy\\s+followers\\s+https?://', action: limit}
"""


@pytest.fixture(scope="module")
def compiled() -> CompiledPolicy:
    return CompiledPolicy.build(parse_policy(POLICY), POLICY)


@pytest.mark.parametrize("text", [
    "we should kill them all",
    "KILL THEM ALL!!!",
    "kill them, all",              # punctuation between an entry's words
    "we should k1ll th3m all",     # leetspeak, undone by normalisation
    "k i l l them all",            # letters spaced apart
    "ki\u200bll them all",         # a zero-width space inside a word
    "rahowa tonight",              # an entry normalised as the post is ("racial holy war")
])
def test_list_entries_match_as_written_and_as_normalised(compiled, text):
    result = evaluate(compiled, text, None, None)
    assert (result.action, result.rule, result.label) == ("block", "calls", "violence")


def test_the_reason_quotes_and_a_span_marks_the_post_as_written(compiled):
    text = "ok so we should k1ll   th3m all, yes"
    result = evaluate(compiled, text, None, None)
    quoted = result.reason.split("\u201c")[1].rstrip("\u201d)")
    assert quoted == "k1ll   th3m all"
    assert result.spans == [{"start": text.index("k1ll"), "end": text.index(", yes"), "label": "violence",
                             "weight": 1.0, "rule": "calls"}]


@pytest.mark.parametrize("text", ["skill them all", "kill them allowed", "a bad applesauce", "kill the mall"])
def test_entries_match_whole_words_only(compiled, text):
    assert evaluate(compiled, text, None, None).action == "allow"


def test_keywords_are_normalised_too_and_patterns_read_the_post_as_written(compiled):
    assert evaluate(compiled, "what a b4d 4pple", None, None).rule == "words"
    assert evaluate(compiled, "Buy followers https://x.example/a", None, None).rule == "links"
    # links are dropped from the normalised text, so a pattern is only ever matched as written
    assert evaluate(compiled, "Buy followers", None, None).action == "allow"


def test_default_policy_holds_violent_codes_and_reviews_ambiguous_ones():
    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    held = ["Can't wait for the day of the rope", "DOTR is coming", "Rope. Tree. Journalist.", "saint t4rrant"]
    for text in held:
        result = evaluate(compiled, text, None, None)
        assert (result.action, result.rule) == ("hold", "violent-codes"), text
    result = evaluate(compiled, "free helicopter rides for the commies", None, None)
    assert (result.action, result.rule) == ("review", "violent-codes-ambiguous")
    for text in ["We went on a helicopter ride for my birthday", "The rope bridge was fun", "Race day tomorrow!",
                 "Saint Lucia is lovely", "Tarrant was sentenced to life"]:
        assert evaluate(compiled, text, None, None).action == "allow", text


def test_rules_reuse_the_detectors_reading_of_the_same_text_and_only_that(compiled, monkeypatch):
    from warden.detection.detector import Detection
    from warden.detection.normalize import normalize
    from warden.policy import engine

    text = "we should k1ll th3m all"
    detection = Detection({}, [], "test-model", "linear", normalize(text))
    calls = []
    monkeypatch.setattr(engine, "normalize", lambda t: calls.append(t) or normalize(t))
    result = evaluate(compiled, text, detection, {})
    assert (result.rule, calls) == ("calls", [])  # matched on the detector's reading, none made here
    # a detection of some other text (a stale prescore) is not trusted: the post is read afresh
    other = Detection({}, [], "test-model", "linear", normalize("kill them all"))
    assert evaluate(compiled, "a lovely day", other, {}).action == "allow"
    assert calls == ["a lovely day"]


def test_default_policy_opens_a_hate_case_only_from_a_high_score():
    from warden.detection.detector import Detection

    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    thresholds = {"hate": {"auto": 0.96, "review": 0.13}}

    def action(hate: float) -> str:
        return evaluate(compiled, "a post", Detection({"hate": hate}, [], "m", "encoder"), thresholds).action

    # the detector's 90 %-recall point would open a case for half of a real platform's posts
    assert [action(p) for p in (0.13, 0.5, 0.69, 0.7, 0.95, 0.96)] == \
        ["allow", "allow", "allow", "review", "review", "hold"]


def test_default_policy_labels_harassment_only_from_a_high_score():
    from warden.detection.detector import Detection

    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    thresholds = {"harassment": {"auto": 0.76, "review": 0.76}}

    def action(harassment: float) -> str:
        return evaluate(compiled, "a post", Detection({"harassment": harassment}, [], "m", "encoder"),
                        thresholds).action

    # the detector's own point would put a content warning on a sixth of a real platform's posts;
    # and a score alone never opens a harassment case
    assert [action(p) for p in (0.5, 0.76, 0.89, 0.9, 0.99)] == ["allow", "allow", "allow", "label", "label"]


def test_a_content_warning_keeps_the_review_another_signal_called_for():
    from warden.detection.detector import Detection

    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    thresholds = {"violence": {"auto": 0.79, "review": 0.01}, "harassment": {"auto": 0.76, "review": 0.76}}

    def run(text: str, **scores: float):
        return evaluate(compiled, text, Detection(scores, [], "m", "encoder"), thresholds)

    both = run("a post", violence=0.15, harassment=0.95)
    assert (both.action, both.label) == ("label", "harassment")
    assert both.review is not None and both.review["label"] == "violence"
    assert both.review["rule"] == "detector:violence:0.1" and "0.15" in both.review["reason"]
    # a listed ambiguous code (review) under a content warning keeps its case too
    coded = run("enjoy your dirt nap", violence=0.0, harassment=0.95)
    assert coded.action == "label" and coded.review and coded.review["rule"] == "violent-codes-ambiguous"
    # a plain review, or a warning with nothing else, carries no extra case
    assert run("a post", violence=0.15, harassment=0.0).review is None
    assert run("a post", violence=0.0, harassment=0.95).review is None
    # held posts open their own case already
    assert run("a post", violence=0.5, harassment=0.95).review is None
    # what a limited account's post carries into its case: a review's own call, or the one kept
    # under a warning; nothing for a post no threshold or rule called to review
    plain = run("a post", violence=0.15, harassment=0.0)
    assert plain.action == "review" and plain.case_call() == {
        "label": "violence", "rule": "detector:violence:0.1", "reason": plain.reason}
    assert both.case_call() == both.review
    assert run("a post", violence=0.0, harassment=0.0).case_call() is None


def test_the_detection_probes_report_at_the_default_policy_hold_point():
    from warden.detection.training.probes import HOLD_AT

    policy, _ = load_policy(DEFAULT_POLICY_PATH)
    holds = [t.at for t in policy.labels["violence"].thresholds if t.action == "hold"]
    assert holds == [HOLD_AT]  # `warden eval` reports its probes at the point the policy holds from


def test_default_policy_opens_a_case_for_a_veiled_threat_the_classifier_misses():
    from warden.detection.detector import Detection

    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    thresholds = {"violence": {"auto": 0.63, "review": 0.01}}
    text = "Those councillors voted for the bike lanes. Someone should P.A.Y them a visit tonight."
    got = evaluate(compiled, text, Detection({"violence": 0.08}, [], "m", "encoder"), thresholds)
    assert (got.action, got.label, got.rule) == ("review", "violence", "veiled-threats")
    assert text[got.spans[-1]["start"]:got.spans[-1]["end"]] == "P.A.Y them a visit"
    # the same words said kindly still only open a case: nothing is held or refused
    kind = evaluate(compiled, "Grandma is lonely, we should pay her a visit", None, None)
    assert kind.action == "review"


def test_default_policy_opens_a_case_for_a_threat_in_everyday_speech():
    from warden.detection.detector import Detection

    compiled = CompiledPolicy.build(*load_policy(DEFAULT_POLICY_PATH))
    thresholds = {"violence": {"auto": 0.63, "review": 0.01}}
    text = "JUST KNOW IM C0MIN FOR YOU"  # the classifier scored such a post 0.003
    got = evaluate(compiled, text, Detection({"violence": 0.003}, [], "m", "encoder"), thresholds)
    assert (got.action, got.label, got.rule) == ("review", "violence", "everyday-threats")
    assert text[got.spans[-1]["start"]:got.spans[-1]["end"]] == "IM C0MIN FOR YOU"
    for text in ("imma pull up and fuck u up", "keep talking and you'll catch these hands"):
        assert evaluate(compiled, text, None, None).rule == "everyday-threats", text
    # the same words without the threat open nothing
    for text in ("the Yankees are coming for the title", "I beat the traffic", "wash your hands"):
        assert evaluate(compiled, text, None, None).action == "allow", text
