"""Polls: created with a status (their options pass the moderation gate with its text), voted on,
and ended at `expires_at`.

A poll ends by time alone: `expired` is computed on every read. The `poll` notification to its voters
and its author is sent once, by whichever comes first after the end: the server's scheduler tick
(`finish_due`, every few seconds, `platform/scheduler.py`) or a read of the poll (`finish_if_due`).
Exactly one of them wins the `ended_notified_at` update, so the notification is never sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from warden.errors import NotFound, ValidationFailed
from warden.platform import notifications
from warden.platform.ids import parse_id
from warden.store.client2_models import Poll, PollVote
from warden.store.models import Notification, Status, utcnow
from warden.store.outbox import emit

MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300            # five minutes, as Mastodon
MAX_EXPIRATION = 2_629_746      # one month, as Mastodon
LIMITS = {"max_options": MAX_OPTIONS, "max_characters_per_option": MAX_OPTION_CHARS,
          "min_expiration": MIN_EXPIRATION, "max_expiration": MAX_EXPIRATION}


@dataclass(frozen=True)
class PollSpec:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False

    def as_params(self) -> dict[str, Any]:
        return {"options": list(self.options), "expires_in": self.expires_in, "multiple": self.multiple,
                "hide_totals": self.hide_totals}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "on", "yes", "t")


def parse(data: dict[str, Any]) -> PollSpec | None:
    """The poll in a status request: `poll[options][]` & co. in a form, or a `poll` object in JSON.
    None when the request has no poll; 422 for a poll that breaks Mastodon's limits."""
    raw = data.get("poll")
    if isinstance(raw, dict):  # JSON, or a form whose `poll[expires_in]` & co. params.py nested
        options = raw.get("options", data.get("poll[options]"))
        expires_in = raw.get("expires_in")
        multiple, hide_totals = raw.get("multiple", False), raw.get("hide_totals", False)
    elif any(key.startswith("poll[") for key in data):
        options = data.get("poll[options]", data.get("poll[options][]"))
        expires_in = data.get("poll[expires_in]")
        multiple, hide_totals = data.get("poll[multiple]", False), data.get("poll[hide_totals]", False)
    elif raw in (None, ""):
        return None
    else:
        raise ValidationFailed("Validation failed: poll must be an object with options and expires_in")
    if isinstance(options, dict):
        options = list(options.values())
    if isinstance(options, str):
        options = [options]
    if not isinstance(options, list) or not all(isinstance(o, (str, int, float)) for o in options):
        raise ValidationFailed("Validation failed: poll[options] must be a list of strings")
    titles = tuple(str(o).strip() for o in options)
    if len(titles) < 2:
        raise ValidationFailed("Validation failed: Poll must have at least 2 options")
    if len(titles) > MAX_OPTIONS:
        raise ValidationFailed(f"Validation failed: Poll can't have more than {MAX_OPTIONS} options")
    if any(not t for t in titles):
        raise ValidationFailed("Validation failed: Poll options can't be blank")
    if any(len(t) > MAX_OPTION_CHARS for t in titles):
        raise ValidationFailed(f"Validation failed: Poll options can't be longer than {MAX_OPTION_CHARS} characters")
    if len(set(titles)) != len(titles):
        raise ValidationFailed("Validation failed: Poll options must be unique")
    if isinstance(expires_in, bool):
        expires_in = None
    try:
        seconds = int(str(expires_in))
    except (TypeError, ValueError):
        raise ValidationFailed("Validation failed: poll[expires_in] must be a number of seconds") from None
    if seconds < MIN_EXPIRATION:
        raise ValidationFailed("Validation failed: Poll duration is too short")
    if seconds > MAX_EXPIRATION:
        raise ValidationFailed("Validation failed: Poll duration is too long")
    return PollSpec(options=titles, expires_in=seconds, multiple=_flag(multiple), hide_totals=_flag(hide_totals))


def scored_text(text: str, options: tuple[str, ...] | list[str] | None) -> str:
    """What the moderation gate scores for a post with a poll: its text and every option, one a line,
    so a threat split into poll options is judged like the threat."""
    return "\n".join([text, *options]) if options else text


def attach(session: Session, status: Status, spec: PollSpec) -> Poll:
    poll = Poll(status_id=status.id, account_id=status.account_id, options=list(spec.options),
                multiple=spec.multiple, hide_totals=spec.hide_totals,
                expires_at=utcnow() + timedelta(seconds=spec.expires_in))
    session.add(poll)
    return poll


def for_status(session: Session, status_id: int) -> Poll | None:
    return session.scalar(select(Poll).where(Poll.status_id == status_id))


def expired(poll: Any) -> bool:
    return poll.expires_at <= utcnow()


def get_visible(session: Session, viewer_id: int | None, poll_id: int | str) -> Poll:
    from warden.platform.statuses import can_see

    poll = session.get(Poll, parse_id(poll_id))
    if poll is None:
        raise NotFound()
    status = session.get(Status, poll.status_id)
    if status is None or not can_see(session, viewer_id, status):
        raise NotFound()
    return poll


def vote(session: Session, viewer_id: int, poll_id: int | str, choices: list[str]) -> Poll:
    """Vote `choices` (option indexes) in a poll the viewer may see. 422, as Mastodon, for an ended
    poll, a second vote, one's own poll, no choice, several choices in a single-choice poll, or an
    index that names no option."""
    poll = get_visible(session, viewer_id, poll_id)
    if expired(poll):
        raise ValidationFailed("Validation failed: The poll has already ended")
    if poll.account_id == viewer_id:
        raise ValidationFailed("Validation failed: You cannot vote in your own poll")
    if session.scalar(select(PollVote.id).where(PollVote.poll_id == poll.id, PollVote.account_id == viewer_id)):
        raise ValidationFailed("Validation failed: You have already voted on this poll")
    indexes: list[int] = []
    for choice in choices:
        if not (choice.isascii() and choice.isdigit()) or int(choice) >= len(poll.options):
            raise ValidationFailed("Validation failed: Choice is not a valid option")
        indexes.append(int(choice))
    indexes = list(dict.fromkeys(indexes))
    if not indexes:
        raise ValidationFailed("Validation failed: Choices can't be blank")
    if len(indexes) > 1 and not poll.multiple:
        raise ValidationFailed("Validation failed: This poll allows a single choice only")
    session.add_all([PollVote(poll_id=poll.id, account_id=viewer_id, choice=i) for i in indexes])
    session.flush()
    return poll


def render(session: Session, polls: list[Any], viewer_id: int | None) -> dict[int, dict[str, Any]]:
    """Mastodon Poll entities keyed by status id, in two queries whatever the number of polls."""
    if not polls:
        return {}
    ids = [p.id for p in polls]
    tallies: dict[int, dict[int, int]] = {}
    for poll_id, choice, n in session.execute(
            select(PollVote.poll_id, PollVote.choice, func.count()).where(PollVote.poll_id.in_(ids))
            .group_by(PollVote.poll_id, PollVote.choice)):
        tallies.setdefault(poll_id, {})[choice] = n
    voters = dict(session.execute(select(PollVote.poll_id, func.count(func.distinct(PollVote.account_id)))
                                  .where(PollVote.poll_id.in_(ids)).group_by(PollVote.poll_id)).all())
    mine: dict[int, list[int]] = {}
    if viewer_id is not None:
        for poll_id, choice in session.execute(select(PollVote.poll_id, PollVote.choice).where(
                PollVote.poll_id.in_(ids), PollVote.account_id == viewer_id).order_by(PollVote.choice)):
            mine.setdefault(poll_id, []).append(choice)
    from warden.api.serializers import iso  # the one timestamp format

    out: dict[int, dict[str, Any]] = {}
    for poll in polls:
        ended = expired(poll)
        show = ended or not poll.hide_totals
        counts = tallies.get(poll.id, {})
        data: dict[str, Any] = {
            "id": str(poll.id), "expires_at": iso(poll.expires_at), "expired": ended, "multiple": poll.multiple,
            "votes_count": sum(counts.values()),
            "voters_count": voters.get(poll.id, 0) if poll.multiple else None,
            "options": [{"title": title, "votes_count": counts.get(i, 0) if show else None}
                        for i, title in enumerate(poll.options)],
            "emojis": [],
        }
        if viewer_id is not None:
            data["voted"] = poll.account_id == viewer_id or poll.id in mine
            data["own_votes"] = mine.get(poll.id, [])
        out[poll.status_id] = data
    return out


# --- the end of a poll ------------------------------------------------------------------------------


def _announce_end(session: Session, poll: Poll) -> None:
    """Tell the voters and the author that `poll` ended, once: the update that sets
    `ended_notified_at` decides which process does it."""
    claimed = session.execute(update(Poll).where(Poll.id == poll.id, Poll.ended_notified_at.is_(None))
                              .values(ended_notified_at=utcnow()))
    if not claimed.rowcount:
        return
    voters = session.scalars(select(PollVote.account_id).where(PollVote.poll_id == poll.id).distinct())
    for voter in voters:
        notifications.notify(session, account_id=voter, from_account_id=poll.account_id, type="poll",
                             status_id=poll.status_id)
    # the author is told too (notify() never notifies anyone of their own doing)
    row = Notification(account_id=poll.account_id, from_account_id=poll.account_id, type="poll",
                       status_id=poll.status_id)
    session.add(row)
    session.flush()
    emit(session, "notification.created", row.id, {"notification_id": row.id, "account_id": poll.account_id})


def finish_if_due(session: Session, poll: Poll) -> None:
    if poll.ended_notified_at is None and expired(poll):
        _announce_end(session, poll)


def finish_due(session: Session, limit: int = 100) -> int:
    """Announce the end of every poll that ended and was not announced yet. Returns how many."""
    due = list(session.scalars(select(Poll).where(Poll.ended_notified_at.is_(None), Poll.expires_at <= utcnow())
                               .order_by(Poll.expires_at).limit(limit)))
    for poll in due:
        status = session.get(Status, poll.status_id)
        if status is None or status.deleted_at is not None:
            session.execute(update(Poll).where(Poll.id == poll.id).values(ended_notified_at=utcnow()))
            continue
        _announce_end(session, poll)
    return len(due)
