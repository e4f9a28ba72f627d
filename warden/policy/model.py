"""The policy file: a declarative, versioned mapping from signals (detector scores, rules, lists) to actions.

A policy is YAML validated by the pydantic models below; `load_policy()` turns any mistake into a
`PolicyError` that names the bad field (`labels.violence.thresholds.0.action: ...`). See
docs/moderation.md for the format and warden/policy/default.yaml for a complete example.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warden.errors import ValidationFailed

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "default.yaml"

#: Actions the write-path gate can take, strictest first. "review" publishes and opens a case.
GateAction = Literal["block", "hold", "limit", "label", "review", "allow"]
STRICTNESS: dict[str, int] = {"block": 5, "hold": 4, "limit": 3, "label": 2, "review": 1, "allow": 0}
SOURCES = ("trusted_flagger", "partner", "detector", "user")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


class PolicyError(ValidationFailed):
    """A policy file that cannot be used; the message names the field."""


def parse_duration(text: str | int | float) -> timedelta:
    if isinstance(text, (int, float)):
        return timedelta(seconds=float(text))
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h, 3d)")
    value, unit = float(match.group(1)), match.group(2)
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    #: A probability, or "auto" / "review": the detector's own calibrated thresholds for the label.
    at: float | Literal["auto", "review"]
    action: GateAction

    @field_validator("at")
    @classmethod
    def _in_range(cls, value: float | str) -> float | str:
        if isinstance(value, float) and not 0.0 <= value <= 1.0:
            raise ValueError("must be between 0 and 1")
        return value


class LabelPolicy(_Strict):
    """How one detector label (violence, hate, ...) is treated and reported."""

    severity: float = Field(ge=0, le=10)
    #: DSA transparency database category and specification keywords.
    category: str
    category_specification: list[str] = Field(default_factory=list)
    ground: Literal["DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"] = \
        "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    #: The house rule or law the decision relies on (shown in the statement of reasons).
    rule_reference: str = ""
    content_warning: str = ""
    #: Evaluated strictest first; the first threshold the score reaches decides.
    thresholds: list[Threshold] = Field(default_factory=list)


class Rule(_Strict):
    """A keyword, regex or list rule. `stage: async` rules run in the worker after publication."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    label: str
    action: GateAction
    pattern: str | None = None
    keywords: list[str] = Field(default_factory=list)
    #: The name of an entry under `lists` (written `list:` in the file).
    from_list: str | None = Field(None, alias="list")
    stage: Literal["sync", "async"] = "sync"
    explanation: str = ""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _has_matcher(self) -> "Rule":
        if not (self.pattern or self.keywords or self.from_list):
            raise ValueError("a rule needs one of pattern, keywords or list")
        return self


class Strikes(_Strict):
    #: Actions that add a strike to the author.
    on_actions: list[Literal["remove", "block", "strike"]] = Field(default_factory=lambda: ["remove", "strike"])
    #: Suspend the account when it holds this many unrevoked strikes (0: never).
    suspend_at: int = Field(default=3, ge=0)


#: The queue a case is in when no configured queue takes its report type: every moderator sees it.
DEFAULT_QUEUE = "general"
QUEUE_ROLES = ("moderator", "senior", "admin")


class Queue(_Strict):
    """A queue of cases by report type, seen (and decided) only by staff of `min_role` or higher."""

    title: str = ""
    #: What puts a case here: user report categories (spam, legal, violation, other), partner notice
    #: categories (e.g. terrorism), or "detector" for the detector's own flags.
    report_types: list[str] = Field(min_length=1)
    min_role: Literal["moderator", "senior", "admin"] = "moderator"


class Policy(_Strict):
    version: str = Field(min_length=1, max_length=100)
    name: str = "default"
    description: str = ""
    labels: dict[str, LabelPolicy]
    rules: list[Rule] = Field(default_factory=list)
    lists: dict[str, list[str]] = Field(default_factory=dict)
    #: Per-source time to decide, per label or "default": {"trusted_flagger": {"violence": "1h", "default": "24h"}}
    slas: dict[str, dict[str, str]] = Field(default_factory=dict)
    source_weights: dict[str, float] = Field(
        default_factory=lambda: {"trusted_flagger": 3.0, "partner": 1.5, "detector": 2.0, "user": 1.0})
    strikes: Strikes = Field(default_factory=Strikes)
    #: How partner notice categories map onto labels (unknown categories use "default").
    notice_categories: dict[str, str] = Field(default_factory=dict)
    #: Queues per report type ({"legal": {"report_types": ["legal"], "min_role": "senior"}}); cases of
    #: any other type are in the "general" queue.
    queues: dict[str, Queue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> "Policy":
        for i, rule in enumerate(self.rules):
            if rule.label not in self.labels:
                raise ValueError(f"rules.{i}.label: unknown label {rule.label!r} (define it under labels)")
            if rule.from_list is not None and rule.from_list not in self.lists:
                raise ValueError(f"rules.{i}.list: unknown list {rule.from_list!r} (define it under lists)")
        for source, table in self.slas.items():
            if source not in SOURCES:
                raise ValueError(f"slas.{source}: unknown source (use one of {', '.join(SOURCES)})")
            for key, value in table.items():
                try:
                    parse_duration(value)
                except ValueError as exc:
                    raise ValueError(f"slas.{source}.{key}: {exc}") from None
        if DEFAULT_QUEUE in self.queues:
            raise ValueError(f"queues.{DEFAULT_QUEUE}: the default queue holds every case no other queue takes; "
                             "name yours differently")
        for category, label in self.notice_categories.items():
            if label not in self.labels:
                raise ValueError(f"notice_categories.{category}: unknown label {label!r}")
        return self

    def sla(self, source: str, label: str | None) -> timedelta:
        table = self.slas.get(source) or self.slas.get("user") or {}
        value = table.get(label or "", table.get("default", "72h"))
        return parse_duration(value)

    def queue_for(self, report_type: str) -> tuple[str, str]:
        """(queue name, the least role that sees it) for a signal of this report type."""
        found = [(QUEUE_ROLES.index(q.min_role), name) for name, q in self.queues.items()
                 if report_type.lower() in (t.lower() for t in q.report_types)]
        if not found:
            return DEFAULT_QUEUE, "moderator"
        rank, name = max(found)
        return name, QUEUE_ROLES[rank]

    def label_for_category(self, category: str) -> str | None:
        if category in self.labels:
            return category
        return self.notice_categories.get(category, self.notice_categories.get("default"))


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def parse_policy(text: str, *, source: str = "policy") -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy is a YAML mapping with version, labels, rules, ...")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err.get("msg", "")).removeprefix("Value error, ")
            loc = _field_path(tuple(err.get("loc", ())))
            problems.append(message if message.split(":")[0].count(".") and loc == "(top level)"
                            else f"{loc}: {message}")
        raise PolicyError(f"{source}: invalid policy: " + "; ".join(problems)) from None


def load_policy(path: str | Path) -> tuple[Policy, str]:
    """(the validated policy, its YAML text) from a file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from None
    return parse_policy(text, source=str(path)), text


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
