"""Erasing a suspended account's data (Mastodon's `DELETE /api/v1/admin/accounts/:id`).

What goes:
- the text, HTML and content warning of every post the account wrote (edit history too; the posts
  become deleted), its polls' options, and the posts it had scheduled;
- its media: the files, the attachments' rows with their alt text and upload names, and what was read
  from each image (the text in it, its hashes);
- its profile's display name and bio, its private notes on other accounts, its lists and filters;
- what it wrote to moderators: its appeals' text and its reports' comments (in the report and in the
  case the report opened);
- every copy of its posts' text that moderation kept: in each decision's and case's evidence snapshot,
  the post's text, content warning, highlighted spans and image readings, and the quoted parent text
  of other people's replies to it. With the snapshot text gone, the post is no longer a training
  example for the detector (warden/detection/training/moderators.py reads only snapshot text, and
  skips snapshots marked ``erased_at``).

What stays: the account row (suspended, as a tombstone), each decision with its statement of reasons
(DSA Art. 17 and 24: the action, ground, dates and the facts a moderator wrote), cases, appeals and
reports as records (their outcome, not the account's words), the fingerprints of its posts that a
decision removed (warden/cases/copies.py: numbers, not text, so that copies are still held) and the
hashes of images a decision put on the block list, and the audit log. Audit entries never held post
text, so erasing appends one entry and rewrites none: the hash chain stays intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warden.cases import audit
from warden.errors import Conflict, Forbidden, NotFound
from warden.platform.ids import parse_id
from warden.store.client2_models import AccountNote, Poll, ScheduledStatus, StatusEdit
from warden.store.client_models import CustomFilter, UserList
from warden.store.hash_models import ImageSignal
from warden.store.media_models import MediaAttachment
from warden.store.models import Account, Report, Status, utcnow
from warden.store.moderation_models import Appeal, ModerationCase, ModerationDecision

#: Evidence fields that hold what the author wrote (decisions.evidence_of, decisions.record_gate).
OWN_TEXT = ("text", "spoiler_text", "spans", "images")


@dataclass(frozen=True)
class Erasure:
    account_id: int
    statuses: int
    decisions: int
    cases: int
    media: int = 0
    appeals: int = 0
    reports: int = 0
    #: the storage keys of the erased media's files, for the caller to delete once this commits
    files: tuple[str, ...] = ()


def redacted(evidence: dict[str, Any], *, own: bool, at: str) -> dict[str, Any]:
    """The snapshot without the account's words: all of them where the post was its own (``own``),
    else only the quoted text of its post being replied to."""
    out = dict(evidence)
    if own:
        for key in OWN_TEXT:
            if key in out:
                out[key] = None
        out["erased_at"] = at
    if "in_reply_to_text" in out:
        out["in_reply_to_text"] = None
    return out


def erase_account(session: Session, account_id: Any, staff: Account) -> Erasure:
    """Erase the account's posts and the moderation copies of their text (see the module's text), in
    the caller's transaction. Only an admin, and only for a suspended account, as Mastodon asks."""
    if staff.role != "admin":
        raise Forbidden("Erasing an account's data needs an administrator")
    account = session.get(Account, parse_id(account_id))
    if account is None:
        raise NotFound("That account does not exist")
    if account.id == staff.id:
        raise Forbidden("You cannot erase your own account's data")
    if account.suspended_at is None:
        raise Conflict("Suspend the account before erasing its data (POST /api/v1/admin/accounts/:id/action "
                       "with type=suspend)")
    now = utcnow()
    at = now.isoformat()
    own_ids = list(session.scalars(select(Status.id).where(Status.account_id == account.id)))
    for status in session.scalars(select(Status).where(Status.account_id == account.id)):
        status.text, status.content_html, status.spoiler_text = "", "", ""
        status.deleted_at = status.deleted_at or now
        status.local_public = False
    session.execute(delete(StatusEdit).where(StatusEdit.account_id == account.id))
    for poll in session.scalars(select(Poll).where(Poll.account_id == account.id)):
        poll.options = ["" for _ in poll.options or []]  # the votes' counts still line up
    session.execute(delete(ScheduledStatus).where(ScheduledStatus.account_id == account.id))
    for status in session.scalars(select(Status).where(Status.account_id == account.id,
                                                       Status.media_list.is_not(None))):
        status.media_list = None
    media = list(session.scalars(select(MediaAttachment).where(MediaAttachment.account_id == account.id)))
    files = tuple(m.storage_key(variant) for m in media for variant in ("original", "small"))
    if media:
        session.execute(delete(ImageSignal).where(ImageSignal.media_id.in_([m.id for m in media])))
        session.execute(delete(MediaAttachment).where(MediaAttachment.account_id == account.id))
    account.display_name, account.note = "", ""
    for model in (AccountNote, CustomFilter, UserList):  # its own notes on others, its lists and filters
        session.execute(delete(model).where(model.account_id == account.id))
    appeals = 0
    for appeal in session.scalars(select(Appeal).where(Appeal.account_id == account.id)):
        appeal.text, appeals = "", appeals + 1
    report_ids, reported = set(), set()
    for report in session.scalars(select(Report).where(Report.account_id == account.id)):
        report.comment = ""
        report_ids.add(report.id)
        reported.add(report.target_account_id)
    replies = set(session.scalars(select(Status.id).where(Status.in_reply_to_account_id == account.id,
                                                           Status.account_id != account.id)))

    decisions = 0
    for decision in session.scalars(select(ModerationDecision).where(
            (ModerationDecision.account_id == account.id) | ModerationDecision.status_id.in_(sorted(replies) or [-1]))):
        own = decision.account_id == account.id
        if decision.evidence:
            decision.evidence = redacted(decision.evidence, own=own, at=at)
            decisions += 1
    cases = 0
    for case in session.scalars(select(ModerationCase).where(
            (ModerationCase.account_id == account.id) | ModerationCase.status_id.in_(sorted(replies) or [-1]))):
        content = (case.evidence or {}).get("content")
        if content:
            case.evidence = {**case.evidence, "content": redacted(content, own=case.account_id == account.id, at=at)}
            cases += 1
    # the comments its reports left in the cases they opened (cases.open_or_join's signals): cases of the
    # accounts it reported
    if reported:
        for case in session.scalars(select(ModerationCase).where(ModerationCase.account_id.in_(sorted(reported)))):
            signals = (case.evidence or {}).get("signals") or []
            if any(s.get("reporter_id") == account.id and s.get("comment") for s in signals):
                case.evidence = {**case.evidence, "signals": [
                    {**s, "comment": ""} if s.get("reporter_id") == account.id else s for s in signals]}
    audit.append(session, action="account.erased", subject=f"account:{account.id}", actor_id=staff.id,
                 data={"statuses": len(own_ids), "decisions": decisions, "cases": cases, "media": len(media),
                       "appeals": appeals, "reports": len(report_ids)})
    return Erasure(account_id=account.id, statuses=len(own_ids), decisions=decisions, cases=cases,
                   media=len(media), appeals=appeals, reports=len(report_ids), files=files)
