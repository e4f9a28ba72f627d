"""Statuses: posting (through the moderation gate), reading, threads, favourites and reblogs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from warden.api import client2_render
from warden.api.deps import (INLINE_DATABASE, Services, Viewer, offload, optional_viewer, require, run, services,
                              viewer_id)
from warden.api.params import Params, read_params
from warden.api.ratelimit import limiter, with_quota
from warden.api.responses import JSON, error
from warden.api.serializers import Presenter
from warden.errors import NotFound
from warden.media import service as media_service
from warden.platform import polls, scheduled, statuses
from warden.platform.statuses import PostResult
from warden.policy import images
from warden.policy.gate import prescore_staged
from warden.store.direct import load_detached
from warden.store.models import Account, Favourite, Status

router = APIRouter(tags=["statuses"])


def _blocked(result: PostResult) -> Response:
    verdict = result.verdict
    label = verdict.label or "this server's rules"
    return error(422, f"This post was not published: it was found to break the rules on {label}. "
                      f"You can appeal decision {verdict.decision_id}." if verdict.decision_id else
                      f"This post was not published: it was found to break the rules on {label}.",
                 decision_id=verdict.decision_id, reason=verdict.reason or None)


def _post_fields(params: Params) -> dict[str, Any]:
    return {"text": params.str("status", "") or "", "spoiler_text": params.str("spoiler_text", "") or "",
            "sensitive": params.bool("sensitive"), "language": params.str("language"),
            # None (not given) keeps an edited post's attachments; [] removes them
            "media_ids": params.list("media_ids") if "media_ids" in params else None}


def _texts_to_score(svc: Services, viewer: Viewer, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """The checks that need nothing (a post refused anyway costs the detector nothing), then what the
    detector must read of the post: its text (with a poll's options) and its images' alt and OCR text."""
    statuses.check_draft(svc.settings, fields["text"], fields["spoiler_text"], fields["language"])
    poll = fields.get("poll")
    texts = [(polls.scored_text(fields["text"], poll and poll.options), fields["spoiler_text"])]
    if fields.get("media_ids"):  # read at upload
        with svc.db.read() as session:
            texts += [(text, "") for text in images.texts_of(session, viewer.account_id, fields["media_ids"])]
    return texts


async def _post(svc: Services, viewer: Viewer, action: Any, fields: dict[str, Any],
                prepare: Any = None) -> tuple[PostResult, dict[str, Any] | None]:
    """Check and score the post, then write it (`_write_post`).

    On PostgreSQL all of it runs in the threadpool. On SQLite, where database work runs on the event
    loop (`deps.run`: a query is a millisecond of local CPU, and a thread would only add a GIL contest),
    all of it runs on the loop but the detector's encoder stage, which releases the GIL and goes to a
    thread when a post needs it (most are settled by the first stage). Measured with
    bench_platform.py --workers 2: a post written from a thread held the SQLite write lock twice as
    long as its CPU needed, waiting after every statement for the GIL that the loop and the other
    threads held, and the lock, not the CPU, capped the posts a second."""
    if not INLINE_DATABASE.get():
        def score_and_write() -> tuple[PostResult, dict[str, Any] | None]:
            for text, spoiler_text in _texts_to_score(svc, viewer, fields):
                svc.gate.prescore(text, spoiler_text)
            return _write_post(svc, viewer, action, fields, prepare)
        return await offload(score_and_write)
    for text, spoiler_text in _texts_to_score(svc, viewer, fields):
        rest = prescore_staged(svc.gate, text, spoiler_text)
        if rest is not None:
            await offload(rest)
    return _write_post(svc, viewer, action, fields, prepare)


def _write_post(svc: Services, viewer: Viewer, action: Any, fields: dict[str, Any],
                prepare: Any = None) -> tuple[PostResult, dict[str, Any] | None]:
    # The post is checked and scored (`_post`). On SQLite every write holds one lock, so it is held for
    # the writes alone: `prepare(session, author)` (the reads: what the post replies to and mentions,
    # the gate's policy and copy checks) runs in a read session, then `action(session, author,
    # prepared)` in the write transaction, and the new post is rendered for the answer after its
    # commit. On PostgreSQL, where writers do not queue on one lock, `action` prepares in its own
    # transaction (a second session cost more than it saved).
    author, prepared = None, None
    if prepare is not None and svc.db.is_sqlite:  # on PostgreSQL writers do not queue: one session is cheaper
        if svc.db.direct_reads:  # the author without the ORM's loading (0.2 ms of a post's 3 ms)
            with svc.db.direct_read() as conn:
                author = load_detached(conn, Account, viewer.account_id)
        with svc.db.read() as session:
            if author is not None:
                session.add(author)  # in the identity map (no query): the gate's `session.get` finds it
            else:
                author = viewer.account_in(session)
            prepared = prepare(session, author)
    for attempt in (1, 2):
        try:
            with svc.db.write() as session:
                # loaded again on a retry: the rollback of the first attempt expired the one it loaded
                writer = author if author is not None else viewer.account_in(session)
                result: PostResult = action(session, writer, prepared)
                if result.status is None:
                    return result, None
                if not result.created:
                    return result, Presenter(session, svc.settings, writer.id).statuses([result.status])[0]
            with svc.db.read() as session:  # a new post renders without queries (but for a poll's)
                return result, Presenter(session, svc.settings, writer.id).new_status(result.status, writer)
        except statuses.DuplicateRequest:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@router.post("/api/v1/statuses", summary="Publish a status (passes the moderation gate first)")
async def create_status(request: Request, viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    fields = _post_fields(params)
    fields["poll"] = polls.parse(params.data)
    if params.str("scheduled_at"):
        return await schedule_status(svc, viewer, params, fields)
    key = request.headers.get("idempotency-key")
    quota = limiter(request).hit("statuses", str(viewer.account_id))

    visibility, in_reply_to = params.str("visibility", "public") or "public", params.str("in_reply_to_id")

    def prepare(session: Any, author: Account) -> statuses.Prepared:
        return statuses.prepare(session, svc.settings, author, text=fields["text"],
                                spoiler_text=fields["spoiler_text"], visibility=visibility,
                                in_reply_to_id=in_reply_to, language=fields["language"], gate=svc.gate,
                                media_ids=fields["media_ids"], poll=fields["poll"])

    def action(session: Any, author: Account, prepared: statuses.Prepared | None) -> PostResult:
        return statuses.create(session, svc.settings, author, visibility=visibility, in_reply_to_id=in_reply_to,
                               idempotency_key=key, gate=svc.gate, prepared=prepared, **fields)

    result, data = await _post(svc, viewer, action, fields, prepare)
    if data is None:
        return _blocked(result)
    return with_quota(JSON(data), quota)


async def schedule_status(svc: Services, viewer: Viewer, params: Params, fields: dict[str, Any]) -> Response:
    """`scheduled_at` given: keep the post for later and answer a ScheduledStatus (platform/scheduled.py)."""
    when = scheduled.parse_time(params.str("scheduled_at") or "")
    statuses.check_draft(svc.settings, fields["text"], fields["spoiler_text"], fields["language"])
    poll = fields.get("poll")
    in_reply_to = params.str("in_reply_to_id")

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            author = viewer.account_in(session)
            if in_reply_to:
                statuses.get_visible(session, author.id, in_reply_to)
            media_ids = fields.get("media_ids") or []
            media_service.claimable(session, author.id, media_ids)  # own, unattached, at most four: now, not later
            row = scheduled.schedule(session, author, when, {"media_ids": [str(i) for i in media_ids],
                "text": fields["text"], "spoiler_text": fields["spoiler_text"], "sensitive": fields["sensitive"],
                "language": fields["language"], "visibility": params.str("visibility", "public") or "public",
                "in_reply_to_id": in_reply_to, "poll": poll.as_params() if poll else None})
            return client2_render.scheduled_status(row)

    return JSON(await run(work))


@router.put("/api/v1/statuses/{status_id}", summary="Edit a status (passes the moderation gate again)")
async def edit_status(request: Request, status_id: str, viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    fields = _post_fields(params)

    def action(session: Any, author: Account, _prepared: None) -> PostResult:
        return statuses.edit(session, svc.settings, author, status_id, gate=svc.gate, **fields)

    result, data = await _post(svc, viewer, action, fields)
    if data is None:
        return _blocked(result)
    return JSON(data)


@router.get("/api/v1/statuses/{status_id}", summary="A status")
async def get_status(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            status = statuses.get_visible(session, viewer_id(viewer), status_id)
            rendered = Presenter(session, svc.settings, viewer_id(viewer)).statuses([status])
            if not rendered:
                raise NotFound()
            return rendered[0]

    return JSON(await run(work))


@router.delete("/api/v1/statuses/{status_id}", summary="Delete a status (returns it with its source text)")
async def delete_status(request: Request, status_id: str, viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            author = viewer.account_in(session)
            status = statuses.delete_status(session, author, status_id)
            presenter = Presenter(session, svc.settings, author.id)
            data = presenter._status(status, author, False, False)
            data["text"] = status.text
            return data

    return JSON(await run(work))


@router.get("/api/v1/statuses/{status_id}/context", summary="Ancestors and descendants of a status")
async def status_context(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            ancestors, descendants = statuses.context(session, viewer_id(viewer), status_id)
            presenter = Presenter(session, svc.settings, viewer_id(viewer))
            return {"ancestors": presenter.statuses(ancestors, context="thread"),
                    "descendants": presenter.statuses(descendants, context="thread")}

    return JSON(await run(work))


def _interaction(name: str, scope: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, status_id: str, viewer: Viewer = Depends(require(scope))) -> Response:
        params = await read_params(request)
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                if name == "reblog":
                    status = statuses.reblog(session, me, status_id, params.str("visibility", "public") or "public")
                else:
                    status = getattr(statuses, name)(session, me, status_id)
                return Presenter(session, svc.settings, me.id).status(status)

        return JSON(await run(work))

    endpoint.__name__ = f"status_{name}"
    return endpoint


for _name, _scope in (("favourite", "write:favourites"), ("unfavourite", "write:favourites"),
                      ("reblog", "write:statuses"), ("unreblog", "write:statuses")):
    router.add_api_route(f"/api/v1/statuses/{{status_id}}/{_name}", _interaction(_name, _scope), methods=["POST"],
                         summary=f"{_name.capitalize()} a status")


@router.get("/api/v1/statuses/{status_id}/favourited_by", summary="Accounts that favourited a status")
async def favourited_by(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            status = statuses.get_visible(session, viewer_id(viewer), status_id)
            rows = session.scalars(select(Account).join(Favourite, Favourite.account_id == Account.id)
                                   .where(Favourite.status_id == status.id, Account.suspended_at.is_(None))
                                   .order_by(Favourite.id.desc()).limit(80))
            return Presenter(session, svc.settings, viewer_id(viewer)).accounts(list(rows))

    return JSON(await run(work))


@router.get("/api/v1/statuses/{status_id}/reblogged_by", summary="Accounts that reblogged a status")
async def reblogged_by(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            status = statuses.get_visible(session, viewer_id(viewer), status_id)
            rows = session.scalars(select(Account).join(Status, Status.account_id == Account.id)
                                   .where(Status.reblog_of_id == status.id, Status.deleted_at.is_(None),
                                          Account.suspended_at.is_(None))
                                   .order_by(Status.id.desc()).limit(80))
            return Presenter(session, svc.settings, viewer_id(viewer)).accounts(list(rows))

    return JSON(await run(work))
