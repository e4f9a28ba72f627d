"""Statements of reasons: the fields of the EU DSA Article 17 / transparency database, for one decision.

Field names and enumerations follow the DSA Transparency Database API
(https://transparency.dsa.ec.europa.eu/page/api-documentation), so a statement can be submitted as is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warden.policy.model import LabelPolicy

VISIBILITY = {
    "block": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "remove": "DECISION_VISIBILITY_CONTENT_REMOVED",
    "hold": "DECISION_VISIBILITY_CONTENT_DISABLED",
    "limit": "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "label": "DECISION_VISIBILITY_CONTENT_LABELLED",
}
ACCOUNT = {"suspend": "DECISION_ACCOUNT_SUSPENDED", "silence": "DECISION_ACCOUNT_SUSPENDED"}
SOURCE_TYPE = {
    "user": "SOURCE_ARTICLE_16",
    "partner": "SOURCE_ARTICLE_16",
    "trusted_flagger": "SOURCE_TRUSTED_NOTIFIER",
    "detector": "SOURCE_VOLUNTARY",
    "moderator": "SOURCE_VOLUNTARY",
    "appeal": "SOURCE_TYPE_OTHER_NOTIFICATION",
}
DEFAULT_CATEGORY = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"


def build(*, decision_id: str, action: str, label: str | None, label_policy: LabelPolicy | None,
          facts: str, source: str, automated_detection: bool, automated_decision: str,
          content_date: datetime | None, application_date: datetime, policy_version: str | None,
          url: str | None = None, appeal_url: str | None = None,
          content_types: list[str] | None = None) -> dict[str, Any]:
    """`automated_decision`: "fully", "partially" or "not"; `content_types`: what the decision was
    about (CONTENT_TYPE_TEXT when not given; CONTENT_TYPE_IMAGE where an image drove it)."""
    ground = label_policy.ground if label_policy else "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    reference = (label_policy.rule_reference if label_policy else "") or "Terms of service"
    statement: dict[str, Any] = {
        "puid": decision_id,
        "decision_visibility": [VISIBILITY[action]] if action in VISIBILITY else [],
        "decision_account": ACCOUNT.get(action),
        "decision_monetary": None,
        "decision_provision": None,
        "decision_ground": ground,
        "category": label_policy.category if label_policy else DEFAULT_CATEGORY,
        "category_specification": list(label_policy.category_specification) if label_policy else [],
        "content_type": list(content_types or ["CONTENT_TYPE_TEXT"]),
        "content_date": (content_date or application_date).date().isoformat(),
        "application_date": application_date.date().isoformat(),
        "decision_facts": facts,
        "source_type": SOURCE_TYPE.get(source, "SOURCE_VOLUNTARY"),
        "automated_detection": "Yes" if automated_detection else "No",
        "automated_decision": {"fully": "AUTOMATED_DECISION_FULLY", "partially": "AUTOMATED_DECISION_PARTIALLY"}
        .get(automated_decision, "AUTOMATED_DECISION_NOT_AUTOMATED"),
        "territorial_scope": ["EU"],
        "warden": {"action": action, "label": label, "policy_version": policy_version, "url": url,
                   "appeal": appeal_url},
    }
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        statement["illegal_content_legal_ground"] = reference
        statement["illegal_content_explanation"] = facts
    else:
        statement["incompatible_content_ground"] = reference
        statement["incompatible_content_explanation"] = facts
    if action in ("suspend", "silence", "unsuspend"):
        statement["content_type"] = ["CONTENT_TYPE_OTHER"]
        statement["content_type_other"] = "account"
    return statement
