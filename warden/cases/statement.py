"""Statements of reasons (DSA Art. 17): the body the EU Transparency Database API accepts, for one decision.

Field names and enumerations follow the DSA Transparency Database API v2
(https://transparency.dsa.ec.europa.eu/page/api-documentation); warden/transparency/rules.py holds the
API's own validation, ported, and every enforcement decision's body passes it. The body holds only API
fields: what Warden knows besides (action, label, policy version, links) is on the decision itself.

Only a decision that restricts something (content removed, disabled, demoted or labelled; an account
suspended or limited) is a statement for the database (`submittable`); a decision that lifts or
records (restore, no_violation, uphold, allow, review ...) still gets a body, for its reader, but is
not exported.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warden.policy.model import LabelPolicy
from warden.transparency import rules

VISIBILITY = {
    "block": "DECISION_VISIBILITY_CONTENT_REMOVED",  # refused before publication
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "hold": "DECISION_VISIBILITY_CONTENT_DISABLED",  # visible to its author only, until a moderator decides
    "limit": "DECISION_VISIBILITY_CONTENT_DEMOTED",  # kept out of public timelines
    "label": "DECISION_VISIBILITY_CONTENT_LABELLED",  # behind a content warning
    "silence": "DECISION_VISIBILITY_CONTENT_DEMOTED",  # every post of the account kept out of public timelines
}
ACCOUNT = {"suspend": "DECISION_ACCOUNT_SUSPENDED"}
#: The actions whose decisions are statements for the Transparency Database.
RESTRICTIONS = frozenset(VISIBILITY) | frozenset(ACCOUNT)
#: Where a decision came from (the case's first source) -> the API's `source_type`.
SOURCE_TYPE = {
    "user": "SOURCE_ARTICLE_16",  # a user's report: a notice under Art. 16
    "partner": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_FLAGGER",
    "detector": "SOURCE_VOLUNTARY",
    "moderator": "SOURCE_VOLUNTARY",
    "appeal": "SOURCE_TYPE_OTHER_NOTIFICATION",
}
LEGACY_SOURCE_TYPES = {"SOURCE_TRUSTED_NOTIFIER": "SOURCE_TRUSTED_FLAGGER"}
DEFAULT_CATEGORY = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
AUTOMATED = {"fully": "AUTOMATED_DECISION_FULLY", "partially": "AUTOMATED_DECISION_PARTIALLY"}
ACCOUNT_ACTIONS = ("suspend", "silence", "unsuspend", "unsilence", "strike", "warn", "sensitive")


def submittable(action: str) -> bool:
    return action in RESTRICTIONS


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def category_of(value: str | None) -> str:
    value = rules.LEGACY_CATEGORIES.get(value or "", value or DEFAULT_CATEGORY)
    return value if value in rules.STATEMENT_CATEGORIES else DEFAULT_CATEGORY


def keywords_of(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        value = rules.LEGACY_KEYWORDS.get(value, value)
        if value in rules.KEYWORDS and value not in out:
            out.append(value)
    return out


def build(*, decision_id: str, action: str, label_policy: LabelPolicy | None, facts: str, source: str,
          automated_detection: bool, automated_decision: str, content_date: datetime | None,
          application_date: datetime, territorial_scope: tuple[str, ...] = rules.EU_COUNTRY_CODES,
          content_types: list[str] | None = None) -> dict[str, Any]:
    """The API body for one decision. `automated_decision`: "fully", "partially" or "not"; `content_types`:
    what the decision was about (CONTENT_TYPE_TEXT when not given; CONTENT_TYPE_IMAGE where an image drove it)."""
    ground = label_policy.ground if label_policy else "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    reference = _clip((label_policy.rule_reference if label_policy else "") or "Terms of service", 500)
    facts = _clip(facts or f"Moderation action: {action}.", 5000)
    statement: dict[str, Any] = {
        "puid": decision_id,
        "decision_visibility": [VISIBILITY[action]] if action in VISIBILITY else [],
        "decision_account": ACCOUNT.get(action),
        "decision_monetary": None,
        "decision_provision": None,
        "decision_ground": ground,
        "category": category_of(label_policy.category if label_policy else None),
        "category_specification": keywords_of(label_policy.category_specification if label_policy else None),
        "content_type": list(content_types or ["CONTENT_TYPE_TEXT"]),
        "content_date": (content_date or application_date).date().isoformat(),
        "application_date": application_date.date().isoformat(),
        "decision_facts": facts,
        "source_type": SOURCE_TYPE.get(source, "SOURCE_VOLUNTARY"),
        "automated_detection": "Yes" if automated_detection else "No",
        "automated_decision": AUTOMATED.get(automated_decision, "AUTOMATED_DECISION_NOT_AUTOMATED"),
        "territorial_scope": list(territorial_scope),
    }
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        statement["illegal_content_legal_ground"] = reference
        statement["illegal_content_explanation"] = _clip(facts, 2000)
    else:
        statement["incompatible_content_ground"] = reference
        statement["incompatible_content_explanation"] = _clip(facts, 2000)
    if action in ACCOUNT_ACTIONS:
        statement["content_type"] = ["CONTENT_TYPE_OTHER"]
        statement["content_type_other"] = "Account" if action != "silence" else "Account (all of its posts)"
    return statement


def api_body(stored: dict[str, Any], *, puid: str,
             territorial_scope: tuple[str, ...] = rules.EU_COUNTRY_CODES) -> dict[str, Any]:
    """A stored statement as the API takes it today: fields outside the API dropped (statements made
    before this version carried a `warden` part), values the API has since renamed mapped
    (`SOURCE_TRUSTED_NOTIFIER`, v1 categories and keywords), `territorial_scope` as country codes."""
    body = {k: v for k, v in stored.items() if k in rules.FIELDS}
    body["puid"] = puid
    if body.get("source_type") in LEGACY_SOURCE_TYPES:
        body["source_type"] = LEGACY_SOURCE_TYPES[body["source_type"]]
    body["category"] = category_of(body.get("category"))
    if body.get("category_specification") is not None:
        body["category_specification"] = keywords_of(body["category_specification"])
    scope = body.get("territorial_scope")
    if not scope or any(code not in rules.EUROPEAN_COUNTRY_CODES for code in scope):
        body["territorial_scope"] = list(territorial_scope)
    if body.get("decision_account") and body.get("content_type") == ["CONTENT_TYPE_OTHER"] \
            and body.get("content_type_other") == "account":
        body["content_type_other"] = "Account"
    return body
