"""Evaluating a policy: detector scores, keyword / regex / list rules -> one action with its reason.

`evaluate()` is pure (no database); `PolicyStore` knows which versions are active and in shadow;
`PolicyGate` is the `ModerationGate` the write path calls (warden/policy/gate.py).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from warden.config import Settings
from warden.detection.normalize import normalize, normalize_text
from warden.observability.metrics import GATE_VERDICTS
from warden.policy import copies as copy_check
from warden.policy.gate import Draft, Verdict
from warden.policy.model import DEFAULT_POLICY_PATH, STRICTNESS, Policy, digest, load_policy, parse_policy
from warden.store.models import Account
from warden.store.moderation_models import PolicyVersion


#: The rule and reason of the gate's hold for a post the detector could not score in time (a detection
#: pool slow or down: warden/detection/pool.py). The moderation worker scores such a post again and
#: applies the policy then (docs/detection.md, "When the detection pool is slow or down").
UNSCORED_RULE = "detector:unavailable"
UNSCORED_REASON = "automated check unavailable: held until scored"


def is_unscored(detection: Any) -> bool:
    """Whether a detection is the detector saying it could not score the post (stage "unavailable")."""
    return getattr(detection, "stage", None) == "unavailable"


class DetectorLike(Protocol):
    """What the engine needs from `warden.detection.get_detector()` (tests pass a small fake)."""

    thresholds: dict[str, dict[str, float]]

    def score(self, text: str) -> Any: ...


@dataclass(frozen=True)
class CompiledPolicy:
    policy: Policy
    body: str
    #: Per rule: its regex and its keywords / list entries, matched against the post as written.
    patterns: dict[str, re.Pattern[str]]
    #: Per rule with keywords or a list: the entries normalised as the detector reads text, matched
    #: against the normalised post, so that "k1ll them all" or "d a y of the r o p e" still match.
    word_patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.policy.version

    @classmethod
    def build(cls, policy: Policy, body: str) -> "CompiledPolicy":
        patterns: dict[str, re.Pattern[str]] = {}
        word_patterns: dict[str, re.Pattern[str]] = {}
        for rule in policy.rules:
            alternatives: list[str] = []
            if rule.pattern:
                alternatives.append(f"(?:{rule.pattern})")
            words = list(rule.keywords) + (list(policy.lists.get(rule.from_list, [])) if rule.from_list else [])
            if words:
                alternatives.append(_words_pattern(words))
                normalised = sorted({normalize_text(w) for w in words} - {""})
                if normalised:
                    word_patterns[rule.id] = re.compile(_inline_flags(_words_pattern(normalised)))
            patterns[rule.id] = re.compile("|".join(_inline_flags(a) for a in alternatives))
        return cls(policy=policy, body=body, patterns=patterns, word_patterns=word_patterns)


def _words_pattern(words: list[str]) -> str:
    """Keywords or list entries as one case-insensitive regex: each entry whole (word boundaries at
    its ends), its words separated by any run of spaces or punctuation ("rope, tree, journalist"
    matches the entry "rope tree journalist")."""
    entries = (r"\W+".join(re.escape(part) for part in w.split()) for w in words if w.strip())
    return r"(?i)(?:\b(?:" + "|".join(entries) + r")\b)"


def _inline_flags(pattern: str) -> str:
    # Python only accepts global inline flags at the very start: scope them to the group instead.
    match = re.match(r"^\(\?:\(\?([aiLmsux]+)\)", pattern)
    if match:
        return f"(?{match.group(1)}:" + pattern[match.end():]
    match = re.match(r"^\(\?([aiLmsux]+)\)", pattern)
    if match:
        return f"(?{match.group(1)}:" + pattern[match.end():] + ")"
    return pattern


@dataclass(frozen=True)
class Evaluation:
    action: str = "allow"
    label: str | None = None
    rule: str | None = None
    reason: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    model: str | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    #: When the action publishes the post altered (`label`, `limit`) and another threshold or rule
    #: called for `review`: that one ({"label", "rule", "reason"}), so its case still opens.
    review: dict[str, Any] | None = None

    @property
    def automated_detection(self) -> bool:
        return self.action != "allow"

    def case_call(self) -> dict[str, Any] | None:
        """The review case this evaluation calls for, as ``review`` holds it: its own when the
        action is `review`, else the one a `label` or `limit` carries (None when there is none)."""
        if self.action == "review":
            return _review_call(self.label, self.rule, self.reason)
        return self.review


def _review_call(label: str | None, rule: str | None, reason: str) -> dict[str, Any]:
    return {"label": label, "rule": rule, "reason": reason}


def evaluate(compiled: CompiledPolicy, text: str, detection: Any | None,
             detector_thresholds: dict[str, dict[str, float]] | None, *, stage: str = "sync") -> Evaluation:
    """The strictest action any threshold or rule of `stage` calls for (ties: the more severe label)."""
    policy = compiled.policy
    scores: dict[str, float] = dict(getattr(detection, "scores", {}) or {})
    best: tuple[int, float, str, str | None, str, str] = (0, 0.0, "allow", None, "", "")
    review: tuple[float, str, str, str] | None = None  # the most severe call for review: severity, label, rule, reason
    if stage == "sync":
        for label, score in scores.items():
            label_policy = policy.labels.get(label)
            if label_policy is None:
                continue
            for threshold in label_policy.thresholds:
                at = threshold.at
                if isinstance(at, str):
                    value = (detector_thresholds or {}).get(label, {}).get(at)
                    if value is None:
                        continue
                else:
                    value = at
                if score >= value:
                    key = (STRICTNESS[threshold.action], label_policy.severity)
                    reason = f"{label} score {score:.2f} reached the {at} threshold ({value:.2f})" \
                        if isinstance(at, str) else f"{label} score {score:.2f} reached {value:.2f}"
                    if key > best[:2]:
                        best = (*key, threshold.action, label, f"detector:{label}:{at}", reason)
                    if threshold.action == "review" and (review is None or label_policy.severity > review[0]):
                        review = (label_policy.severity, label, f"detector:{label}:{at}", reason)
                    break
    spans = [{"start": s.start, "end": s.end, "label": s.label, "weight": s.weight}
             for s in getattr(detection, "spans", []) or []]
    # the post as the detector reads it, for keyword and list rules: the detector's own reading
    # when it scored this very text, else normalised here when a rule first needs it
    normalised = getattr(detection, "normalized", None)
    if normalised is not None and normalised.original != text:
        normalised = None
    for rule in policy.rules:
        if rule.stage != stage:
            continue
        match = compiled.patterns[rule.id].search(text)
        if match is not None:
            start, end = match.span()
        elif rule.id in compiled.word_patterns:
            normalised = normalised or normalize(text)
            match = compiled.word_patterns[rule.id].search(normalised.text)
            if match is None:
                continue
            start, end = normalised.to_original(match.start(), match.end())
        else:
            continue
        spans.append({"start": start, "end": end, "label": rule.label, "weight": 1.0, "rule": rule.id})
        key = (STRICTNESS[rule.action], policy.labels[rule.label].severity)
        reason = f"{rule.explanation or f'matched rule {rule.id}'} (\u201c{text[start:end][:80]}\u201d)"
        if key > best[:2]:
            best = (*key, rule.action, rule.label, rule.id, reason)
        if rule.action == "review" and (review is None or key[1] > review[0]):
            review = (key[1], rule.label, rule.id, reason)
    also = None
    if review is not None and best[2] in ("label", "limit"):  # published altered: the case still opens
        also = _review_call(*review[1:])
    return Evaluation(action=best[2], label=best[3], rule=best[4], reason=best[5], scores=scores,
                      model=getattr(detection, "model", None), spans=spans, review=also)


def draft_text(text: str, spoiler_text: str = "") -> str:
    return f"{spoiler_text}\n{text}".strip() if spoiler_text else text


# --- which policy is in force ---------------------------------------------------------------------


class PolicyStore:
    """The active policy version (and the one in shadow mode, if any), re-read from the database every
    few seconds so an activation from the CLI reaches a running server. With no version activated,
    the packaged default.yaml is in force."""

    def __init__(self, *, refresh_seconds: float = 2.0) -> None:
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._checked = 0.0
        self._key: tuple[Any, ...] | None = None
        self._active: CompiledPolicy | None = None
        self._shadow: CompiledPolicy | None = None
        self._compiled: dict[str, CompiledPolicy] = {}
        policy, body = load_policy(DEFAULT_POLICY_PATH)
        self._default = CompiledPolicy.build(policy, body)

    def invalidate(self) -> None:
        with self._lock:
            self._checked = 0.0

    def _compile(self, body: str) -> CompiledPolicy:
        key = digest(body)
        found = self._compiled.get(key)
        if found is None:
            found = CompiledPolicy.build(parse_policy(body, source="stored policy"), body)
            self._compiled[key] = found
        return found

    def get(self, session: Session) -> tuple[CompiledPolicy, CompiledPolicy | None]:
        now = time.monotonic()
        if now - self._checked < self.refresh_seconds and self._active is not None:
            return self._active, self._shadow
        rows = session.execute(select(PolicyVersion.id, PolicyVersion.state, PolicyVersion.body)
                               .where(PolicyVersion.state.in_(("active", "shadow")))).all()
        key = tuple(sorted((r.id, r.state) for r in rows))
        with self._lock:
            if key != self._key or self._active is None:
                active = next((self._compile(r.body) for r in rows if r.state == "active"), self._default)
                shadow = next((self._compile(r.body) for r in rows if r.state == "shadow"), None)
                self._active, self._shadow, self._key = active, shadow, key
            self._checked = now
            return self._active, self._shadow

    def active(self, session: Session) -> CompiledPolicy:
        return self.get(session)[0]


# --- the write-path gate ----------------------------------------------------------------------


@dataclass(frozen=True)
class Assessment:
    """What `PolicyGate.assess` found about a draft, for `PolicyGate.record` to write."""

    active: Any
    shadow: Any
    text: str
    detection: Any
    result: Evaluation
    unscored: bool
    findings: Any = None
    copy: Any = None


class PolicyGate:
    """Scores a draft, evaluates the active policy and records every non-allow verdict as a decision
    (with its statement of reasons and audit entry) in the post's own transaction. A policy in shadow
    mode is evaluated too; when it would act differently, that is recorded with `shadow=True`."""

    PRESCORED_MAX = 1024

    def __init__(self, settings: Settings, store: PolicyStore, detector: DetectorLike | None) -> None:
        self.settings = settings
        self.store = store
        self.detector = detector
        self._prescored: OrderedDict[str, Any] = OrderedDict()
        self._prescored_lock = threading.Lock()
        if settings.copies_enabled:
            from warden.detection import text_fingerprint

            text_fingerprint.warm()  # loaded now rather than while the first post waits

    def prescore(self, text: str, spoiler_text: str = "") -> None:
        """Score a draft *before* its write transaction opens (optional). On SQLite every write holds one
        lock, so scoring inside it serialises the detector; a caller that calls this first keeps the
        detector outside the lock, and `moderate()` then uses the score (policy and decision still run
        in the transaction)."""
        if self.detector is None:
            return
        key = draft_text(text, spoiler_text)
        self._keep(key, self.detector.score(key))

    def prescore_staged(self, text: str, spoiler_text: str = "") -> Callable[[], None] | None:
        """`prescore` in two steps, for a caller on an event loop: the detector's first stage runs now;
        what is left (None: nothing, the first stage settled the draft) is the encoder stage, for a thread."""
        if self.detector is None:
            return None
        key = draft_text(text, spoiler_text)
        stage1 = getattr(self.detector, "score_stage1", None)
        if stage1 is None:  # a detector scored in one step (tests' fakes)
            return lambda: self._keep(key, self.detector.score(key))  # type: ignore[union-attr]
        detection, rest = stage1(key)
        if detection is not None:
            self._keep(key, detection)
            return None
        return lambda: self._keep(key, rest())

    def _keep(self, key: str, detection: Any) -> None:
        """Keep a draft's detection for `moderate` (see `prescore`)."""
        with self._prescored_lock:
            self._prescored[key] = detection
            while len(self._prescored) > self.PRESCORED_MAX:
                self._prescored.popitem(last=False)

    def _detect(self, text: str) -> Any:
        if self.detector is None:
            return None
        with self._prescored_lock:
            found = self._prescored.pop(text, None)
        return found if found is not None else self.detector.score(text)

    def moderate(self, session: Session, draft: Draft) -> Verdict:
        return self.record(session, draft, self.assess(session, draft))

    def assess(self, session: Session, draft: Draft) -> Assessment:
        """What the gate reads about a draft, and nothing it writes: scores, the policy's verdict, image
        findings, a copy of a removed post, a limited author. The API runs it in a read session before
        the post's write transaction opens (on SQLite every write holds one lock); `record` then
        writes what it decided in that transaction."""
        active, shadow = self.store.get(session)
        text = draft_text(draft.text, draft.spoiler_text)
        detection = self._detect(text)
        thresholds = getattr(self.detector, "thresholds", None)
        result = evaluate(active, text, detection, thresholds)
        unscored = is_unscored(detection)
        findings = None
        if draft.images:  # hashes and the text in and about each image (warden/policy/images.py)
            from warden.policy import images

            def evaluate_text(image_text: str) -> tuple[Evaluation, bool]:
                found = self._detect(image_text)
                return evaluate(active, image_text, found, thresholds), is_unscored(found)

            findings = images.assess(session, active, draft, result, evaluate_text)
            result, unscored = findings.result, unscored or findings.unscored
        # a copy of a removed post is held for that removal's case (warden/policy/copies.py)
        copy = copy_check.assess(session, self.settings, active, text, result, exclude_status_id=draft.status_id,
                                 detection=detection)
        if copy is not None:
            result = copy.result  # the hold needs no score: the moderators decide it
        elif unscored and STRICTNESS[result.action] < STRICTNESS["hold"]:  # never published unscored
            result = replace(result, action="hold", label=None, rule=UNSCORED_RULE, reason=UNSCORED_REASON,
                             review=None)
        if STRICTNESS[result.action] < STRICTNESS["limit"]:
            author = session.get(Account, draft.account_id)
            if author is not None and author.silenced_at is not None:  # a limited account posts limited
                result = replace(result, action="limit", reason="the account is limited by a moderator",
                                 review=result.case_call())
        return Assessment(active=active, shadow=shadow, text=text, detection=detection, result=result,
                          unscored=unscored, findings=findings, copy=copy)

    def record(self, session: Session, draft: Draft, assessed: Assessment) -> Verdict:
        """Write what `assess` decided (a decision with its statement of reasons, unless the post is
        allowed; a shadow policy's differing verdict) in the post's transaction; the post's verdict."""
        from warden.cases import decisions

        active, result, findings, copy = assessed.active, assessed.result, assessed.findings, assessed.copy
        GATE_VERDICTS.labels(result.action, result.label or "none").inc()
        decision_id = None
        if result.action != "allow":
            decision = decisions.record_gate(
                session, self.settings, active, draft, result,
                content_type=findings.content_type if findings and copy is None else "CONTENT_TYPE_TEXT",
                images=findings.evidence if findings else None, copy_of=copy.copy_of if copy else None)
            decision_id = decision.id
            if findings is not None and findings.to_list and result.action == "block":
                from warden.cases import hashlist  # a picture whose text was blocked: its re-uploads too

                hashlist.add_images(session, decision_id=decision.id, media_ids=findings.to_list, status_id=None,
                                    label=result.label)
        shadow = assessed.shadow
        if shadow is not None and not assessed.unscored:  # nothing to compare until the post is scored
            would = evaluate(shadow, assessed.text, assessed.detection, getattr(self.detector, "thresholds", None))
            if would.action != result.action:
                decisions.record_gate(session, self.settings, shadow, draft, would, shadow=True)
        if result.action == "review":
            return Verdict(action="allow", decision_id=decision_id, label=result.label, reason=result.reason,
                           scores=result.scores)
        label = result.label
        if result.action == "label":
            label = active.policy.labels[result.label].content_warning or result.label  # type: ignore[index]
        return Verdict(action=result.action, decision_id=decision_id, label=label,  # type: ignore[arg-type]
                       reason=result.reason, scores=result.scores)
