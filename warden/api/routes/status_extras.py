"""Statuses beyond posting: edit history and source, pins, muted conversations, polls and scheduled
statuses (issue 33)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from warden.api import client2_render
from warden.api.deps import Viewer, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.platform import polls, scheduled, status_extras, statuses
from warden.platform.ids import as_id
from warden.store.models import Account, Status

router = APIRouter(tags=["statuses"])


@router.get("/api/v1/statuses/{status_id}/history", summary="Every version of a status (StatusEdit list)")
async def status_history(request: Request, status_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            status = statuses.get_visible(session, viewer_id(viewer), status_id)
            presenter = Presenter(session, svc.settings, viewer_id(viewer))
            account = presenter.account(session.get(Account, status.account_id))  # type: ignore[arg-type]
            return [client2_render.status_edit(presenter, edit, account)
                    for edit in status_extras.history(session, status)]

    return JSON(await run(work))


@router.get("/api/v1/statuses/{status_id}/source", summary="A status's source text, for editing it")
async def status_source(request: Request, status_id: str, viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            status = status_extras.own_status(session, viewer.account_in(session), status_id)
            return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text or ""}

    return JSON(await run(work))


def _status_action(name: str, scope: str, action: Any):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, status_id: str, viewer: Viewer = Depends(require(scope))) -> Response:
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                status = action(session, me, status_id)
                session.flush()
                return Presenter(session, svc.settings, me.id).status(status)

        return JSON(await run(work))

    endpoint.__name__ = f"status_{name}"
    return endpoint


for _name, _scope, _action, _summary in (
        ("pin", "write:accounts", status_extras.pin, "Pin one's own status to one's profile (at most 5)"),
        ("unpin", "write:accounts", status_extras.unpin, "Unpin a status from one's profile"),
        ("mute", "write:mutes", status_extras.mute, "Mute a conversation: no more notifications from it"),
        ("unmute", "write:mutes", status_extras.unmute, "Unmute a conversation")):
    router.add_api_route(f"/api/v1/statuses/{{status_id}}/{_name}", _status_action(_name, _scope, _action),
                         methods=["POST"], summary=_summary)


# --- polls ----------------------------------------------------------------------------------------


def _poll_json(session: Any, svc: Any, viewer: int | None, poll: Any) -> dict[str, Any]:
    return polls.render(session, [poll], viewer)[poll.status_id]


@router.get("/api/v1/polls/{poll_id}", summary="A poll")
async def get_poll(request: Request, poll_id: str, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            poll = polls.get_visible(session, viewer_id(viewer), poll_id)
            if not (poll.ended_notified_at is None and polls.expired(poll)):
                return _poll_json(session, svc, viewer_id(viewer), poll)
        with svc.db.write() as session:  # the first read after its end announces the end (platform/polls.py)
            poll = polls.get_visible(session, viewer_id(viewer), poll_id)
            polls.finish_if_due(session, poll)
            return _poll_json(session, svc, viewer_id(viewer), poll)

    return JSON(await run(work))


@router.post("/api/v1/polls/{poll_id}/votes", summary="Vote in a poll")
async def vote(request: Request, poll_id: str, viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    choices = params.list("choices")

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            poll = polls.vote(session, viewer.account_id, poll_id, choices)
            return _poll_json(session, svc, viewer.account_id, poll)

    return JSON(await run(work))


# --- scheduled statuses ---------------------------------------------------------------------------


@router.get("/api/v1/scheduled_statuses", summary="The viewer's scheduled statuses")
async def list_scheduled(request: Request, max_id: str | None = None, since_id: str | None = None,
                         min_id: str | None = None, limit: int | None = None,
                         viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = scheduled.page(session, viewer.account_id, **window)
            return [client2_render.scheduled_status(r) for r in rows], [r.id for r in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/scheduled_statuses/{scheduled_id}", summary="A scheduled status")
async def get_scheduled(request: Request, scheduled_id: str, viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return client2_render.scheduled_status(scheduled.get(session, viewer.account_id, scheduled_id))

    return JSON(await run(work))


@router.put("/api/v1/scheduled_statuses/{scheduled_id}", summary="Move a scheduled status to another time")
async def update_scheduled(request: Request, scheduled_id: str,
                           viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            scheduled.get(session, viewer.account_id, scheduled_id)  # someone else's: 404 before any 422
            when = scheduled.parse_time(params.str("scheduled_at") or "")
            return client2_render.scheduled_status(scheduled.reschedule(session, viewer.account_id, scheduled_id, when))

    return JSON(await run(work))


@router.delete("/api/v1/scheduled_statuses/{scheduled_id}", summary="Cancel a scheduled status")
async def cancel_scheduled(request: Request, scheduled_id: str,
                           viewer: Viewer = Depends(require("write:statuses"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            scheduled.cancel(session, viewer.account_id, scheduled_id)

    await run(work)
    return JSON({})




@router.get("/api/v1/statuses", summary="Several statuses at once (id[]; the ones the viewer may see)")
async def many_statuses(request: Request, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    ids = list(dict.fromkeys(i for i in (as_id(raw) for raw in request.query_params.getlist("id[]")
                                         + request.query_params.getlist("id")) if i is not None))[:20]

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = {s.id: s for s in session.scalars(select(Status).where(Status.id.in_(ids)))} if ids else {}
            visible = [rows[i] for i in ids if i in rows and statuses.can_see(session, viewer_id(viewer), rows[i])]
            return Presenter(session, svc.settings, viewer_id(viewer)).statuses(visible)

    return JSON(await run(work))
