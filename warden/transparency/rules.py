"""The DSA Transparency Database's validation of a statement of reasons, ported to Python.

Ported from the public repository digital-services-act/transparency-database (the Commission's own
API), so a statement can be checked here before it is submitted:

- the rules: ``app/Http/Requests/StatementStoreRequest.php`` as repeated per statement in
  ``app/Services/GroupedSubmissionsService.php`` (``multi_rules``: the newest rule set the search
  index held — it adds the ``puid`` pattern ``/^[a-zA-Z0-9-_]+$/D`` and the 2000-01-01 / 2020-01-01 /
  2038-01-01 date bounds to the StatementStoreRequest.php version stored at commit 006d22e9ab07);
- the enumerations: ``app/Models/Statement.php`` (commit 006d22e9ab07 and its later stored version with
  ``KEYWORDS``) as updated for API v2 (in force since 1 July 2025, the Implementing Regulation's
  categories: ``STATEMENT_CATEGORY_CYBER_VIOLENCE``, ``..._OTHER_VIOLATION_TC``, no more
  ``..._SCOPE_OF_PLATFORM_SERVICE``), taken from the v2 ``resources/markdown/api-documentation.md``
  that lists them (the index gave that file's text without its commit);
- the country codes: ``app/Services/EuropeanCountriesService.php`` (commit 0f6fa115b038).

Laravel's semantics are kept: a field is "present" when it is not None, "" or []; ``required_if`` /
``required_without_all`` use that; ``in`` on an array checks every element; ``max`` counts characters
(elements for an array). Two checks are Warden's own, stricter than the API: ``territorial_scope`` must
be given (the API documentation calls it required, the rule says nullable), and no field outside the
API's schema is allowed (the API ignores them; Warden keeps its own fields outside the body).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import date
from typing import Any

DECISION_VISIBILITIES = (
    "DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED", "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED", "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARIES = ("DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER")
DECISION_PROVISIONS = ("DECISION_PROVISION_PARTIAL_SUSPENSION", "DECISION_PROVISION_TOTAL_SUSPENSION",
                       "DECISION_PROVISION_PARTIAL_TERMINATION", "DECISION_PROVISION_TOTAL_TERMINATION")
DECISION_ACCOUNTS = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
ACCOUNT_TYPES = ("ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE")
DECISION_GROUNDS = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
YES_NO = ("Yes", "No")
CONTENT_TYPES = ("CONTENT_TYPE_APP", "CONTENT_TYPE_AUDIO", "CONTENT_TYPE_IMAGE", "CONTENT_TYPE_PRODUCT",
                 "CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_TEXT", "CONTENT_TYPE_VIDEO", "CONTENT_TYPE_OTHER")
SOURCE_TYPES = ("SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY")
AUTOMATED_DECISIONS = ("AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED")

#: API v2 categories (since 1 July 2025).
STATEMENT_CATEGORIES = (
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE", "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "STATEMENT_CATEGORY_VIOLENCE",
)
#: v1 categories the v2 schema renamed or folded into another (Warden maps old policy files' values).
LEGACY_CATEGORIES = {
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}
#: API v2 keywords (``category_specification``).
KEYWORDS = tuple(f"KEYWORD_{k}" for k in (
    "ANIMAL_HARM", "ADULT_SEXUAL_MATERIAL", "AGE_SPECIFIC_RESTRICTIONS", "AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "BIOMETRIC_DATA_BREACH", "BULLYING_AGAINST_GIRLS", "CHILD_SEXUAL_ABUSE_MATERIAL",
    "CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "CONTENT_PROMOTING_EATING_DISORDERS", "COORDINATED_HARM",
    "COPYRIGHT_INFRINGEMENT", "CYBER_BULLYING_INTIMIDATION", "CYBER_HARASSMENT", "CYBER_HARASSMENT_AGAINST_WOMEN",
    "CYBER_INCITEMENT", "CYBER_STALKING", "CYBER_STALKING_AGAINST_WOMEN", "DATA_FALSIFICATION", "DEFAMATION",
    "DESIGN_INFRINGEMENT", "DISCRIMINATION", "MISINFORMATION_DISINFORMATION", "FEMALE_GENDERED_DISINFORMATION",
    "GEOGRAPHIC_INDICATIONS_INFRINGEMENT", "GEOGRAPHICAL_REQUIREMENTS", "GOODS_SERVICES_NOT_PERMITTED",
    "GROOMING_SEXUAL_ENTICEMENT_MINORS", "HATE_SPEECH", "HIDDEN_ADVERTISEMENT", "HUMAN_EXPLOITATION",
    "HUMAN_TRAFFICKING", "ILLEGAL_ORGANIZATIONS", "IMPERSONATION_ACCOUNT_HIJACKING", "INAUTHENTIC_ACCOUNTS",
    "INAUTHENTIC_LISTINGS", "INAUTHENTIC_USER_REVIEWS", "INCITEMENT_AGAINST_WOMEN", "INCITEMENT_VIOLENCE_HATRED",
    "INSUFFICIENT_INFORMATION_ON_TRADERS", "LANGUAGE_REQUIREMENTS", "MISLEADING_INFO_CONSUMER_RIGHTS",
    "MISLEADING_INFO_GOODS_SERVICES", "MISSING_PROCESSING_GROUND", "NON_CONSENSUAL_IMAGE_SHARING",
    "NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "NONCOMPLIANCE_PRICING", "NUDITY", "PATENT_INFRINGEMENT",
    "PHISHING", "PROHIBITED_PRODUCTS", "PYRAMID_SCHEMES", "RIGHT_TO_BE_FORGOTTEN", "RISK_ENVIRONMENTAL_DAMAGE",
    "RISK_PUBLIC_HEALTH", "SELF_MUTILATION", "STALKING", "SUICIDE", "TERRORIST_CONTENT",
    "TRADE_SECRET_INFRINGEMENT", "TRADEMARK_INFRINGEMENT", "TRAFFICKING_WOMEN_GIRLS", "UNLAWFUL_SALE_ANIMALS",
    "UNSAFE_CHALLENGES", "UNSAFE_PRODUCTS", "VIOLATION_EU_LAW", "VIOLATION_NATIONAL_LAW", "OTHER",
))
#: v1 keywords renamed in v2.
LEGACY_KEYWORDS = {
    "KEYWORD_DISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISINFORMATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_FOREIGN_INFORMATION_MANIPULATION": "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_INSUFFICIENT_INFORMATION_TRADERS": "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_NON_CONSENSUAL_ITEMS_DEEPFAKE": "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_IMAGE_BASED_SEXUAL_ABUSE": "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_ONLINE_BULLYING_INTIMIDATION": "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_REGULATED_GOODS_SERVICES": "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_DANGEROUS_TOYS": "KEYWORD_UNSAFE_PRODUCTS",
}

#: EuropeanCountriesService::EUROPEAN_UNION_COUNTRY_CODES
EU_COUNTRY_CODES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
                    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK")
#: EuropeanCountriesService::EUROPEAN_ECONOMIC_AREA_COUNTRY_CODES (the EU and Iceland, Liechtenstein, Norway)
EEA_COUNTRY_CODES = tuple(sorted(EU_COUNTRY_CODES + ("IS", "LI", "NO")))
#: EuropeanCountriesService::EUROPEAN_COUNTRY_CODES: what `territorial_scope` accepts.
EUROPEAN_COUNTRY_CODES = EEA_COUNTRY_CODES

#: Every field of the API's statement schema (the rules' keys, plus `content_id`, documented for v2).
FIELDS = frozenset({
    "decision_visibility", "decision_visibility_other", "decision_monetary", "decision_monetary_other",
    "decision_provision", "decision_account", "account_type", "category_specification",
    "category_specification_other", "decision_ground", "decision_ground_reference_url",
    "illegal_content_legal_ground", "illegal_content_explanation", "incompatible_content_ground",
    "incompatible_content_explanation", "incompatible_content_illegal", "content_type", "content_type_other",
    "category", "category_addition", "territorial_scope", "content_language", "content_date", "content_id",
    "application_date", "end_date_account_restriction", "end_date_monetary_restriction",
    "end_date_service_restriction", "end_date_visibility_restriction", "decision_facts", "source_type",
    "source_identity", "automated_detection", "automated_decision", "puid",
})

PUID_PATTERN = re.compile(r"^[a-zA-Z0-9\-_]+\Z")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
_LANGUAGE = re.compile(r"^[A-Z]{2}\Z")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\Z", re.IGNORECASE)


@dataclass(frozen=True)
class Violation:
    """One failed rule: `rule` is named as the API names it (`field.rule`), e.g. `puid.regex`."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class StatementInvalid(ValueError):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__("; ".join(str(v) for v in violations))


def parse_territorial_scope(value: str) -> tuple[str, ...]:
    """`EU`, `EEA` or comma-separated country codes (e.g. `DE,AT,NL`) -> sorted, validated codes."""
    text = value.strip().upper()
    if text in ("", "EU"):
        return EU_COUNTRY_CODES
    if text == "EEA":
        return EEA_COUNTRY_CODES
    codes = sorted({c.strip() for c in text.split(",") if c.strip()})
    bad = [c for c in codes if c not in EUROPEAN_COUNTRY_CODES]
    if bad or not codes:
        raise ValueError(f"territorial scope: {', '.join(bad) or value!r} not EU/EEA country codes; use EU, EEA "
                         f"or codes from {', '.join(EUROPEAN_COUNTRY_CODES)}")
    return tuple(codes)


@lru_cache(maxsize=None)
def _set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(values)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def validate(body: dict[str, Any]) -> list[Violation]:
    """Every rule `body` breaks (an empty list: the API would accept it)."""
    out: list[Violation] = []

    def fail(field: str, rule: str, message: str) -> None:
        out.append(Violation(field, f"{field}.{rule}", message))

    def get(field: str) -> Any:
        return body.get(field)

    def max_len(field: str, limit: int) -> None:
        value = get(field)
        if _present(value) and len(value if isinstance(value, (list, tuple)) else str(value)) > limit:
            fail(field, "max", f"may not be greater than {limit} {'items' if isinstance(value, list) else 'characters'}")

    def one_of(field: str, allowed: tuple[str, ...]) -> None:
        value = get(field)
        if _present(value) and (not isinstance(value, str) or value not in _set(allowed)):
            fail(field, "in", f"{value!r} is not one of the allowed values")

    def array_of(field: str, allowed: tuple[str, ...]) -> None:
        value = get(field)
        if value is None:
            return
        if not isinstance(value, list):
            fail(field, "array", "must be an array")
            return
        members = _set(allowed)
        bad = [v for v in value if not isinstance(v, str) or v not in members]
        if bad:
            fail(field, "in", f"{', '.join(map(repr, bad))} not among the allowed values")

    def required(field: str) -> bool:
        if not _present(get(field)):
            fail(field, "required", "is required")
            return False
        return True

    def date_field(field: str, *, after_or_equal: str | None, before_or_equal: str = "2038-01-01",
                   is_required: bool = False) -> date | None:
        value = get(field)
        if not _present(value):
            if is_required:
                fail(field, "required", "is required")
            return None
        parsed = _date(value)
        if parsed is None:
            fail(field, "date_format", "does not match the format YYYY-MM-DD")
            return None
        if after_or_equal and parsed < date.fromisoformat(after_or_equal):
            fail(field, "after_or_equal", f"must be a date after or equal to {after_or_equal}")
        if parsed > date.fromisoformat(before_or_equal):
            fail(field, "before_or_equal", f"must be a date before or equal to {before_or_equal}")
        return parsed

    # Schema (Warden's own check): nothing outside the API's fields.
    for field in sorted(set(body) - FIELDS):
        fail(field, "unknown_field", "is not a field of the Transparency Database API")

    # The four kinds of restriction: at least one of them.
    restrictions = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")
    if not any(_present(get(f)) for f in restrictions):
        for f in restrictions:
            others = " / ".join(o.replace("_", " ") for o in restrictions if o != f)
            fail(f, "required_without_all", f"is required when none of {others} are present")
    array_of("decision_visibility", DECISION_VISIBILITIES)
    visibility = get("decision_visibility") if isinstance(get("decision_visibility"), list) else []
    if "DECISION_VISIBILITY_OTHER" in visibility:
        required("decision_visibility_other")
        max_len("decision_visibility_other", 500)
    one_of("decision_monetary", DECISION_MONETARIES)
    if get("decision_monetary") == "DECISION_MONETARY_OTHER":
        required("decision_monetary_other")
        max_len("decision_monetary_other", 500)
    one_of("decision_provision", DECISION_PROVISIONS)
    one_of("decision_account", DECISION_ACCOUNTS)
    one_of("account_type", ACCOUNT_TYPES)
    array_of("category_specification", KEYWORDS)
    max_len("category_specification_other", 500)

    if required("decision_ground"):
        one_of("decision_ground", DECISION_GROUNDS)
    reference_url = get("decision_ground_reference_url")
    if _present(reference_url):
        if not isinstance(reference_url, str) or not _URL.match(reference_url):
            fail("decision_ground_reference_url", "url", "must be a valid URL")
        max_len("decision_ground_reference_url", 500)
    ground = get("decision_ground")
    if ground == "DECISION_GROUND_ILLEGAL_CONTENT":
        required("illegal_content_legal_ground")
        max_len("illegal_content_legal_ground", 500)
        required("illegal_content_explanation")
        max_len("illegal_content_explanation", 2000)
    if ground == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        required("incompatible_content_ground")
        max_len("incompatible_content_ground", 500)
        required("incompatible_content_explanation")
        max_len("incompatible_content_explanation", 2000)
        one_of("incompatible_content_illegal", YES_NO)

    if required("content_type"):
        array_of("content_type", CONTENT_TYPES)
    content_types = get("content_type") if isinstance(get("content_type"), list) else []
    if "CONTENT_TYPE_OTHER" in content_types:
        required("content_type_other")
        max_len("content_type_other", 500)

    if required("category"):
        one_of("category", STATEMENT_CATEGORIES)
    array_of("category_addition", STATEMENT_CATEGORIES)
    if required("territorial_scope"):  # Warden's stricter reading of the documentation
        array_of("territorial_scope", EUROPEAN_COUNTRY_CODES)
    language = get("content_language")
    if _present(language) and (not isinstance(language, str) or not _LANGUAGE.match(language)):
        fail("content_language", "in", "must be an upper-case two-letter ISO 639-1 code")

    date_field("content_date", after_or_equal="2000-01-01", is_required=True)
    applied = date_field("application_date", after_or_equal="2020-01-01", is_required=True)
    for end in ("end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction",
                "end_date_visibility_restriction"):
        ended = date_field(end, after_or_equal=None)
        if ended is not None and applied is not None and ended < applied:
            fail(end, "after_or_equal", "must be a date after or equal to the application date")

    if required("decision_facts"):
        max_len("decision_facts", 5000)
    if required("source_type"):
        one_of("source_type", SOURCE_TYPES)
    max_len("source_identity", 500)
    if required("automated_detection"):
        one_of("automated_detection", YES_NO)
    if required("automated_decision"):
        one_of("automated_decision", AUTOMATED_DECISIONS)
    if required("puid"):
        puid = get("puid")
        max_len("puid", 500)
        if not isinstance(puid, str) or not PUID_PATTERN.match(puid):
            fail("puid", "regex", "may contain only a-z, A-Z, 0-9, hyphens and underscores")
    return out


def check(body: dict[str, Any]) -> dict[str, Any]:
    """`body` when the API would accept it; StatementInvalid naming every broken rule otherwise."""
    violations = validate(body)
    if violations:
        raise StatementInvalid(violations)
    return body
