"""Copies of removed posts: what goes in the index (the text of every post a decision removed), how a
draft is looked up before publication, how a restored post leaves the index, and which case a copy joins.

The index lives in the database, so every server process sees a removal at once: a removed post's
fingerprint (warden/detection/text_fingerprint.py) is a row of `removed_texts` and its LSH band keys
rows of `removed_text_keys`, written in the removal decision's transaction. A draft is looked up with
one indexed query over its own keys; the candidates it returns are confirmed on their estimated
similarity, so a band shared by chance does not hold a benign post.

A copy is held, and joins the case of the decision that removed the original while that case is
undecided; otherwise the case of that decision's copies (open key ``copies:<decision id>``), which
every later copy joins until a moderator decides it. Deciding a case decides its copies too
(`cases.decide`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from warden.cases import audit
from warden.detection import text_fingerprint
from warden.detection.text_fingerprint import Fingerprint
from warden.store.copy_models import RemovedText, RemovedTextKey
from warden.store.models import Status, utcnow
from warden.store.moderation_models import CaseSignal, ModerationCase, ModerationDecision

#: The rule of a gate's hold for a copy: ``copy:<removal decision id>``.
RULE_PREFIX = "copy:"
#: A case signal for one copy: ``copy:<status id>``.
SIGNAL_PREFIX = "copy:"


@dataclass(frozen=True)
class Match:
    removed_text_id: int
    status_id: int
    decision_id: str
    label: str | None
    #: estimated Jaccard similarity of the shingles (1.0 for a short post's exact words)
    similarity: float

    def as_evidence(self) -> dict[str, Any]:
        return {"status_id": str(self.status_id), "decision_id": self.decision_id,
                "similarity": round(self.similarity, 3)}


def is_copy_hold(decision: ModerationDecision | None) -> bool:
    return decision is not None and (decision.rule or "").startswith(RULE_PREFIX)


# --- the index -----------------------------------------------------------------------------------


def add_status(session: Session, decision: ModerationDecision, status: Status) -> RemovedText | None:
    """Fingerprint post `status`, which `decision` removed (in the caller's transaction). A post that
    was itself held as a copy is not added: its original is in the index already, and its copies
    should join the original's case, not one per copy."""
    gate = session.get(ModerationDecision, status.decision_id) if status.decision_id else None
    if is_copy_hold(gate):
        return None
    found = text_fingerprint.fingerprint(_text(status))
    if found is None:
        return None
    if session.scalar(select(RemovedText.id).where(RemovedText.status_id == status.id,
                                                   RemovedText.withdrawn_at.is_(None)).limit(1)) is not None:
        return None  # removed twice: indexed already
    entry = RemovedText(status_id=status.id, decision_id=decision.id, label=decision.label,
                        version=text_fingerprint.VERSION, words=found.words, signature=found.signature,
                        created_at=utcnow())
    session.add(entry)
    session.flush()
    session.add_all([RemovedTextKey(key=key, removed_text_id=entry.id) for key in sorted(set(found.keys))])
    return entry


def withdraw_status(session: Session, *, status_id: int, reason: str, decision_id: str | None = None) -> int:
    """Take post `status_id` out of the index (it was restored, e.g. on appeal): its keys are deleted,
    its row kept with when and why."""
    entries = list(session.scalars(select(RemovedText).where(RemovedText.status_id == status_id,
                                                             RemovedText.withdrawn_at.is_(None))))
    if not entries:
        return 0
    now = utcnow()
    for entry in entries:
        entry.withdrawn_at, entry.withdrawn_reason = now, reason[:200]
    session.execute(delete(RemovedTextKey).where(RemovedTextKey.removed_text_id.in_([e.id for e in entries])))
    audit.append(session, action="copies.withdrawn", subject=f"status:{status_id}",
                 data={"removed_text_ids": [e.id for e in entries], "decision_id": decision_id})
    return len(entries)


def _lookup(keys: int) -> Any:
    """The lookup for a draft of `keys` keys (42 band keys, or one exact-words key), built once, in
    Core with one parameter per key: building an IN over 42 values anew, or expanding one, cost more
    than running it. It returns the removed posts sharing a key with the draft, with their signatures."""
    texts, kept = RemovedText.__table__.c, RemovedTextKey.__table__.c
    return (select(texts.id, texts.status_id, texts.decision_id, texts.label, texts.signature)
            .join(RemovedTextKey.__table__, kept.removed_text_id == texts.id)
            .where(kept.key.in_([bindparam(f"k{i}") for i in range(keys)]), texts.version == bindparam("version"),
                   texts.withdrawn_at.is_(None), texts.status_id != bindparam("exclude"))
            .distinct())


_LOOKUPS = {1: _lookup(1), text_fingerprint.BANDS: _lookup(text_fingerprint.BANDS)}


def match(session: Session, text: str, *, threshold: float, exclude_status_id: int | None = None,
          normalised: str | None = None, found: Fingerprint | None = None) -> Match | None:
    """The removed post `text` copies (the most similar at or above `threshold`, a little above it for
    a post of under ten words: `text_fingerprint.threshold_for`), or None.
    `normalised`: the text as the detector normalised it, when it has; `found`: its fingerprint."""
    found = found or text_fingerprint.fingerprint(text, normalised=normalised)
    if found is None:
        return None
    needed = text_fingerprint.threshold_for(found.words, threshold)
    best: Match | None = None
    parameters: dict[str, Any] = {f"k{i}": key for i, key in enumerate(found.keys)}
    parameters.update(version=text_fingerprint.VERSION, exclude=exclude_status_id if exclude_status_id is not None else -1)
    rows = session.connection().execute(_LOOKUPS[len(found.keys)], parameters)
    for row in rows:
        if found.exact or row.signature is None:
            # a short post matches only the same words: its one key is those words (a band key of a
            # long post never equals it)
            similarity = 1.0 if found.exact and row.signature is None else 0.0
        else:
            similarity = text_fingerprint.similarity(found.signature, row.signature)  # type: ignore[arg-type]
        if similarity < needed:
            continue
        if best is None or (similarity, -row.id) > (best.similarity, -best.removed_text_id):
            best = Match(removed_text_id=row.id, status_id=row.status_id, decision_id=row.decision_id,
                         label=row.label, similarity=similarity)
    return best


def _text(status: Status) -> str:
    return f"{status.spoiler_text}\n{status.text}".strip() if status.spoiler_text else status.text


# --- the case a copy joins -----------------------------------------------------------------------


def case_key(session: Session, removal_id: str) -> str:
    """The open key of the case a copy of the post `removal_id` removed joins: the removal's own
    case while undecided, else the case of that removal's copies."""
    removal = session.get(ModerationDecision, removal_id)
    if removal is not None and removal.case_id is not None:
        case = session.get(ModerationCase, removal.case_id)
        if case is not None and case.open_key:
            return case.open_key
    return f"copies:{removal_id}"


def join_case(session: Session, settings: Any, compiled: Any, status: Status,
              hold: ModerationDecision) -> ModerationCase:
    """Put the held copy `status` (the gate's hold `hold`) in its case, opening it if need be."""
    from warden.cases import cases

    copy_of = dict((hold.evidence or {}).get("copy_of") or {})
    removal_id = copy_of.get("decision_id") or (hold.rule or "")[len(RULE_PREFIX):]
    key = case_key(session, removal_id)
    case = cases.open_or_join(session, settings, compiled, status_id=status.id, account_id=status.account_id,
                              source_type="detector", source_ref=f"{SIGNAL_PREFIX}{status.id}", label=hold.label,
                              scores=hold.scores, key=key,
                              detail={"reason": hold.explanation, "status_id": str(status.id), "copy_of": copy_of})
    if key.startswith("copies:") and "copy_of" not in (case.evidence or {}):
        removal = session.get(ModerationDecision, removal_id)
        case.evidence = {**(case.evidence or {}),
                         "copy_of": {**copy_of, "case_id": str(removal.case_id) if removal and removal.case_id
                                     else None}}
    return case


def copy_status_ids(session: Session, case_id: int) -> list[int]:
    """The copies that joined case `case_id`, in the order they came."""
    return of_cases(session, [case_id]).get(case_id, [])


def of_cases(session: Session, case_ids: list[int]) -> dict[int, list[int]]:
    """The copies that joined each of these cases (one query), in the order they came."""
    if not case_ids:
        return {}
    rows = session.execute(select(CaseSignal.case_id, CaseSignal.source_ref).where(
        CaseSignal.case_id.in_(case_ids), CaseSignal.source_type == "detector",
        CaseSignal.source_ref.like(f"{SIGNAL_PREFIX}%")).order_by(CaseSignal.id))
    found: dict[int, list[int]] = {}
    for case_id, ref in rows:
        found.setdefault(case_id, []).append(int(ref[len(SIGNAL_PREFIX):]))
    return found
