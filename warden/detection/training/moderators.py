"""Moderators' decisions as labelled examples: what `warden train --with-decisions` learns from and
what `warden eval --decisions` measures the model against.

Only people's judgements count: a decision a moderator took (``actor_id`` set, not automated, not a
shadow record) or an appeal's outcome, and only where the decision kept an evidence snapshot with
text (the post as it was when decided; an account-level decision without a post has none). The
text of an example is that snapshot's ``text``, never the live post.

How a decision becomes a label (``label_of``):

* the *ground*: the decision's policy label when it is one of the detector's (violence, hate,
  harassment), else the statement of reasons' category (STATEMENT_CATEGORY_VIOLENCE -> violence,
  KEYWORD_HATE_SPEECH -> hate, STATEMENT_CATEGORY_CYBER_VIOLENCE or KEYWORD_CYBER_HARASSMENT ->
  harassment); any other ground (spam, scope of the service, ...) teaches the detector nothing;
* ``remove``, ``hold``, ``strike``, ``suspend`` on a post: the post breaks the rule of its ground ->
  1 for that label, the other labels unknown;
* ``restore``, ``no_violation`` (and an appeal that reverses a decision: ``restore``,
  ``unsuspend``, ``unsilence``, ``no_violation``): the post breaks no rule -> 0 for ``violence``
  (every policy forbids it) and 0 for the ground's label;
* ``limit`` and ``label`` (the post stays up, demoted or behind a warning): a borderline call, left
  out; ``uphold`` (an appeal that stands): the label of the decision it confirms.

An appeal's outcome overrides the decision it answers, whoever took that one (a gate's automated
block, reversed on appeal, is a negative a person decided). Examples are deduplicated by the digest
of their normalised text; of several decisions on one text, the latest wins.

Retention and erasure (docs/model-card.md, "Learning from moderators"): an example is read only
while its decision is younger than ``Settings.training_retention_days`` (WARDEN_TRAINING_RETENTION_DAYS,
default 365); a post its author deleted, and every post of an account whose data was erased
(warden/cases/erasure.py blanks the snapshots' text), is never read.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import datasets as ds
from ..normalize import normalize_text

SOURCE = "moderators"
#: How much one moderator example weighs in training, against a row of a public data set (1.0):
#: a person's judgement of a post on this server, under this server's rules, counts twice.
WEIGHT = 2.0
#: Share of the examples (by a seeded hash of their text) never trained on, so that `warden eval
#: --decisions` has decisions the model did not learn from (``split == "test"``).
HELD_OUT = 0.2

POSITIVE_ACTIONS = frozenset({"remove", "hold", "strike", "suspend"})
NEGATIVE_ACTIONS = frozenset({"restore", "no_violation", "unsuspend", "unsilence"})
#: Actions on a post that a moderator took without saying whether it breaks a rule.
BORDERLINE_ACTIONS = frozenset({"limit", "label"})
CATEGORY_LABEL = {"STATEMENT_CATEGORY_VIOLENCE": "violence", "STATEMENT_CATEGORY_CYBER_VIOLENCE": "harassment"}
KEYWORD_LABEL = {"KEYWORD_HATE_SPEECH": "hate", "KEYWORD_CYBER_HARASSMENT": "harassment"}


@dataclass(frozen=True)
class ModeratorExample:
    """One labelled example: the evidence text and what the moderators decided about it."""

    text: str
    labels: dict[str, int | None]
    decided_at: datetime
    decision_id: str
    #: The decider's role now (moderator, senior, admin), or None where that account is gone.
    role: str | None
    #: "decision" (a moderator's) or "appeal" (an appeal's outcome, overriding the decision it answers).
    origin: str
    #: sha256 of the normalised text (what deduplicates; safe to print, unlike the text).
    digest: str
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)

    def as_training_example(self) -> ds.Example:
        return ds.Example(self.text, SOURCE, self.split, dict(self.labels),
                          {"decision_id": self.decision_id, "digest": self.digest})


def ground_of(label: str | None, statement: dict[str, Any] | None) -> str | None:
    """The detector label a decision's policy ground speaks for, or None."""
    if label in ds.LABELS:
        return label
    statement = statement or {}
    for keyword in statement.get("category_specification") or []:
        if keyword in KEYWORD_LABEL:
            return KEYWORD_LABEL[keyword]
    return CATEGORY_LABEL.get(statement.get("category") or "")


def label_of(action: str, ground: str | None) -> dict[str, int | None] | None:
    """The labels one decision's action gives its post, or None when it teaches nothing."""
    labels: dict[str, int | None] = {lab: None for lab in ds.LABELS}
    if action in POSITIVE_ACTIONS:
        if ground is None:
            return None
        labels[ground] = 1
    elif action in NEGATIVE_ACTIONS:
        labels["violence"] = 0
        if ground is not None:
            labels[ground] = 0
    else:
        return None
    return labels


def text_digest(text: str) -> str:
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _text(evidence: dict[str, Any] | None) -> str | None:
    if not evidence or evidence.get("erased_at"):
        return None
    text = evidence.get("text")
    return text if isinstance(text, str) and text.strip() else None


def read(session: Any, *, retention_days: int, now: datetime | None = None) -> list[ModeratorExample]:
    """Every example the database holds, oldest decision first: the mapping above, appeals over the
    decisions they answer, one per text (the latest), none older than ``retention_days``."""
    from sqlalchemy import select

    from warden.store.models import Account, Status
    from warden.store.moderation_models import ModerationDecision

    now = _aware(now or datetime.now(UTC))
    since = now - timedelta(days=retention_days)
    human = (ModerationDecision.actor_id.is_not(None) & ModerationDecision.automated.is_(False)) | \
        (ModerationDecision.kind == "appeal")
    rows = list(session.scalars(
        select(ModerationDecision).where(human, ModerationDecision.shadow.is_(False),
                                         ModerationDecision.created_at >= since)
        .order_by(ModerationDecision.created_at, ModerationDecision.id)))
    parent_ids = {d.parent_id for d in rows if d.kind == "appeal" and d.parent_id}
    parents = {d.id: d for d in session.scalars(
        select(ModerationDecision).where(ModerationDecision.id.in_(parent_ids)))} if parent_ids else {}
    status_ids = {d.status_id for d in [*rows, *parents.values()] if d.status_id is not None}
    deleted = set(session.scalars(select(Status.id).where(Status.id.in_(status_ids),
                                                          Status.deleted_at.is_not(None)))) if status_ids else set()
    actor_ids = {d.actor_id for d in rows if d.actor_id is not None}
    roles = dict(session.execute(select(Account.id, Account.role).where(Account.id.in_(actor_ids))).all()) \
        if actor_ids else {}

    by_decision: dict[str, ModeratorExample] = {}
    for d in rows:
        parent = parents.get(d.parent_id or "") if d.kind == "appeal" else None
        if d.kind == "appeal" and parent is None:
            continue  # the decision it answered is gone: nothing to relabel
        source = parent if parent is not None else d
        evidence = d.evidence if _text(d.evidence) else source.evidence
        text = _text(evidence)
        if text is None or source.status_id in deleted or d.status_id in deleted:
            continue
        if d.kind == "appeal" and d.action == "uphold":
            labels = label_of(parent.action, ground_of(parent.label, parent.statement))  # type: ignore[union-attr]
        else:
            labels = label_of(d.action, ground_of(d.label or source.label, d.statement or source.statement))
        if parent is not None:
            by_decision.pop(parent.id, None)  # the appeal's outcome overrides the decision it answers
        if labels is None:
            continue
        digest = text_digest(text)
        by_decision[d.id] = ModeratorExample(
            text=text, labels=labels, decided_at=_aware(d.created_at), decision_id=d.id,
            role=roles.get(d.actor_id) if d.actor_id is not None else None,
            origin="appeal" if d.kind == "appeal" else "decision", digest=digest,
            split="test" if _held_out(digest) else "train",
            meta={"action": d.action, "answers": parent.id if parent is not None else None})
    latest: dict[str, ModeratorExample] = {}
    for example in by_decision.values():  # in decision order: a later decision on the same text wins
        latest.pop(example.digest, None)
        latest[example.digest] = example
    return sorted(latest.values(), key=lambda e: (e.decided_at, e.decision_id))


def _held_out(digest: str) -> bool:
    return int(digest[:8], 16) / 16 ** 8 < HELD_OUT


def read_database(database_url: str, *, retention_days: int, now: datetime | None = None) -> list[ModeratorExample]:
    """``read`` on the database at ``database_url`` (the `--database` of both commands)."""
    from warden.store.db import Database

    db = Database(database_url)
    try:
        with db.read() as session:
            return read(session, retention_days=retention_days, now=now)
    finally:
        db.dispose()


def summary(examples: list[ModeratorExample], retention_days: int) -> dict[str, Any]:
    """What a trained model's meta.json records about the examples it learnt from (no text)."""
    train = [e for e in examples if e.split == "train"]
    return {"n": len(examples), "trained_on": len(train), "held_out": len(examples) - len(train),
            "weight": WEIGHT, "retention_days": retention_days,
            "positives": {lab: sum(e.labels.get(lab) == 1 for e in train) for lab in ds.LABELS},
            "negatives": {lab: sum(e.labels.get(lab) == 0 for e in train) for lab in ds.LABELS},
            "from": examples[0].decided_at.isoformat() if examples else None,
            "through": examples[-1].decided_at.isoformat() if examples else None}
