"""The DSA Transparency Database rules ported to warden/transparency/rules.py: a valid statement passes,
each known-bad one is refused with the API's rule named, and the builder's bodies pass for every action."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from warden.cases import statement
from warden.config import Settings
from warden.policy.model import DEFAULT_POLICY_PATH, load_policy
from warden.transparency import rules

GOOD = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
    "incompatible_content_ground": "Rule 1: no threats or incitement to violence",
    "incompatible_content_explanation": "Calls on readers to attack people.",
    "content_type": ["CONTENT_TYPE_TEXT"],
    "category": "STATEMENT_CATEGORY_VIOLENCE",
    "category_specification": ["KEYWORD_INCITEMENT_VIOLENCE_HATRED"],
    "territorial_scope": list(rules.EU_COUNTRY_CODES),
    "content_date": "2026-11-30",
    "application_date": "2026-12-01",
    "decision_facts": "Calls on readers to attack people.",
    "source_type": "SOURCE_TRUSTED_FLAGGER",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    "puid": "dec_0193a1b2c3d4e5f60718",
}


def rules_broken(body: dict) -> set[str]:
    return {v.rule for v in rules.validate(body)}


def test_a_complete_statement_passes() -> None:
    assert rules.validate(GOOD) == []
    assert rules.check(dict(GOOD)) == GOOD


@pytest.mark.parametrize(("change", "rule"), [
    ({"source_type": "SOURCE_TRUSTED_NOTIFIER"}, "source_type.in"),  # the value Warden used to send
    ({"territorial_scope": ["EU"]}, "territorial_scope.in"),  # ... and this one
    ({"territorial_scope": ["US", "DE"]}, "territorial_scope.in"),
    ({"territorial_scope": []}, "territorial_scope.required"),
    ({"puid": "dec 1"}, "puid.regex"),
    ({"puid": "x" * 501}, "puid.max"),
    ({"puid": None}, "puid.required"),
    ({"decision_visibility": []}, "decision_visibility.required_without_all"),
    ({"decision_visibility": ["DECISION_VISIBILITY_HIDDEN"]}, "decision_visibility.in"),
    ({"decision_visibility": "DECISION_VISIBILITY_CONTENT_REMOVED"}, "decision_visibility.array"),
    ({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other.required"),
    ({"decision_account": "DECISION_ACCOUNT_BANNED"}, "decision_account.in"),
    ({"decision_monetary": "DECISION_MONETARY_OTHER"}, "decision_monetary_other.required"),
    ({"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"}, "illegal_content_legal_ground.required"),
    ({"decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT"}, "illegal_content_explanation.required"),
    ({"incompatible_content_ground": ""}, "incompatible_content_ground.required"),
    ({"incompatible_content_explanation": "x" * 2001}, "incompatible_content_explanation.max"),
    ({"incompatible_content_illegal": "Maybe"}, "incompatible_content_illegal.in"),
    ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other.required"),
    ({"content_type": ["CONTENT_TYPE_POST"]}, "content_type.in"),
    ({"content_type": None}, "content_type.required"),
    ({"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}, "category.in"),  # gone in API v2
    ({"category_specification": ["KEYWORD_NOT_A_KEYWORD"]}, "category_specification.in"),
    ({"category_addition": ["STATEMENT_CATEGORY_SPAM"]}, "category_addition.in"),
    ({"content_date": "2026-11-30T10:00:00"}, "content_date.date_format"),
    ({"content_date": "1999-12-31"}, "content_date.after_or_equal"),
    ({"application_date": "2019-12-31"}, "application_date.after_or_equal"),
    ({"application_date": "2038-01-02"}, "application_date.before_or_equal"),
    ({"application_date": "2026-2-3"}, "application_date.date_format"),
    ({"application_date": "2026-02-30"}, "application_date.date_format"),
    ({"end_date_account_restriction": "2026-11-01"}, "end_date_account_restriction.after_or_equal"),
    ({"decision_facts": "x" * 5001}, "decision_facts.max"),
    ({"decision_facts": ""}, "decision_facts.required"),
    ({"automated_detection": True}, "automated_detection.in"),
    ({"automated_decision": "No"}, "automated_decision.in"),  # the v1 Yes/No form
    ({"source_identity": "x" * 501}, "source_identity.max"),
    ({"decision_ground_reference_url": "not a url"}, "decision_ground_reference_url.url"),
    ({"content_language": "english"}, "content_language.in"),
    ({"warden": {"action": "remove"}}, "warden.unknown_field"),  # Warden's own fields stay outside the body
])
def test_a_known_bad_statement_is_refused_with_the_rule_named(change: dict, rule: str) -> None:
    body = {**GOOD, **change}
    assert rule in rules_broken(body)
    with pytest.raises(rules.StatementInvalid) as refused:
        rules.check(body)
    assert rule in str(refused.value)


def test_territorial_scope_setting() -> None:
    assert rules.parse_territorial_scope("EU") == rules.EU_COUNTRY_CODES and len(rules.EU_COUNTRY_CODES) == 27
    assert rules.parse_territorial_scope("eea") == rules.EEA_COUNTRY_CODES and len(rules.EEA_COUNTRY_CODES) == 30
    assert rules.parse_territorial_scope("nl, de ,AT") == ("AT", "DE", "NL")
    with pytest.raises(ValueError, match="US"):
        rules.parse_territorial_scope("DE,US")
    assert Settings().dsa_territorial_scope == rules.EU_COUNTRY_CODES


@pytest.mark.parametrize("source", ["user", "partner", "trusted_flagger", "detector", "moderator", "appeal"])
@pytest.mark.parametrize("action", sorted(statement.RESTRICTIONS))
def test_the_builder_gives_a_valid_body_for_every_restriction_label_and_source(action: str, source: str) -> None:
    policy, _ = load_policy(DEFAULT_POLICY_PATH)
    now = datetime.now(timezone.utc)
    for label in [None, *policy.labels.values()]:
        body = statement.build(decision_id="dec_0193a1b2c3d4e5f60718", action=action, label_policy=label,
                               facts="x" * 6000, source=source, automated_detection=source == "detector",
                               automated_decision="fully" if source == "detector" else "not",
                               content_date=now, application_date=now, territorial_scope=("DE", "NL"))
        assert rules.validate(body) == [], (action, source, label)
        assert statement.submittable(action)


def test_a_statement_stored_before_the_fix_is_exported_valid() -> None:
    old = {**GOOD, "source_type": "SOURCE_TRUSTED_NOTIFIER", "territorial_scope": ["EU"],
           "category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", "category_specification": [],
           "decision_monetary": None, "decision_account": None, "decision_provision": None,
           "warden": {"action": "remove", "url": "http://x/1"}, "puid": "dec_1"}
    body = statement.api_body(old, puid="dec_0193a1b2c3d4e5f60718", territorial_scope=rules.EU_COUNTRY_CODES)
    assert rules.validate(body) == []
    assert "warden" not in body and body["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert body["category"] == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    assert body["territorial_scope"] == list(rules.EU_COUNTRY_CODES)


def test_an_illegal_content_label_and_a_v1_policy_give_valid_bodies() -> None:
    from warden.policy.model import LabelPolicy

    now = datetime.now(timezone.utc)
    illegal = LabelPolicy(severity=10, category="STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
                          category_specification=["KEYWORD_TERRORIST_CONTENT"], ground="DECISION_GROUND_ILLEGAL_CONTENT",
                          rule_reference="Art. 5 Directive (EU) 2017/541 " + "x" * 600)
    legacy = LabelPolicy(severity=2, category="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE",
                         category_specification=["KEYWORD_DISINFORMATION", "KEYWORD_NOT_IN_ANY_VERSION"])
    for label in (illegal, legacy):
        body = statement.build(decision_id="dec_1", action="remove", label_policy=label, facts="Facts.",
                               source="trusted_flagger", automated_detection=False, automated_decision="not",
                               content_date=now, application_date=now)
        assert rules.validate(body) == [], rules.validate(body)
    illegal_body = statement.build(decision_id="dec_1", action="remove", label_policy=illegal, facts="Facts.",
                                   source="user", automated_detection=False, automated_decision="not",
                                   content_date=now, application_date=now)
    assert len(illegal_body["illegal_content_legal_ground"]) == 500 and "incompatible_content_ground" not in illegal_body
    legacy_body = statement.build(decision_id="dec_1", action="limit", label_policy=legacy, facts="Facts.",
                                  source="detector", automated_detection=True, automated_decision="fully",
                                  content_date=now, application_date=now)
    assert legacy_body["category"] == "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
    assert legacy_body["category_specification"] == ["KEYWORD_MISINFORMATION_DISINFORMATION"]


def test_a_decision_that_restricts_nothing_is_not_a_statement() -> None:
    for action in ("restore", "no_violation", "uphold", "allow", "review", "unsuspend", "unlimit", "unlabel",
                   "unsilence", "strike", "warn"):
        assert not statement.submittable(action)


def test_a_territorial_scope_outside_the_eea_is_refused_by_the_cli(tmp_path) -> None:
    from click.testing import CliRunner

    from warden.cli import cli

    result = CliRunner().invoke(cli, ["transparency", "statements"], env={
        "WARDEN_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "WARDEN_DSA_TERRITORIAL_SCOPE": "DE,CH"})
    assert result.exit_code == 1 and "CH" in result.output and "Traceback" not in result.output
