"""Notifications: list, get, dismiss, clear."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.pagination import paged, window_args
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.errors import NotFound
from warden.platform import notifications
from warden.platform.ids import as_id, parse_id

router = APIRouter(tags=["notifications"])


@router.get("/api/v1/notifications", summary="The viewer's notifications, newest first (a suspended account: "
                                             "only its moderation warnings)")
async def list_notifications(
    request: Request, max_id: str | None = None, since_id: str | None = None, min_id: str | None = None,
    limit: int | None = None, types: list[str] = Query([], alias="types[]"),
    exclude_types: list[str] = Query([], alias="exclude_types[]"), account_id: str | None = None,
    viewer: Viewer = Depends(require("read:notifications", suspended_ok=True)),
) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)
    types = types or request.query_params.getlist("types")
    exclude_types = exclude_types or request.query_params.getlist("exclude_types")
    if viewer.token.suspended:  # told why, in the app they use (with the signed appeal page); nothing else
        types = [t for t in types if t == "moderation_warning"] if types else ["moderation_warning"]
        if not types:
            return paged(request, [], [])

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = notifications.page(session, viewer.account_id, types=types or None,
                                      exclude_types=exclude_types or None,
                                      from_account_id=as_id(account_id),
                                      **window)
            return Presenter(session, svc.settings, viewer.account_id).notifications(rows), [n.id for n in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


_id = parse_id


@router.get("/api/v1/notifications/{notification_id}", summary="One notification")
async def get_notification(request: Request, notification_id: str,
                           viewer: Viewer = Depends(require("read:notifications"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            row = notifications.get(session, viewer.account_id, _id(notification_id))
            rendered = Presenter(session, svc.settings, viewer.account_id).notifications([row])
            if not rendered:
                raise NotFound()
            return rendered[0]

    return JSON(await run(work))


@router.post("/api/v1/notifications/clear", summary="Clear all notifications")
async def clear(request: Request, viewer: Viewer = Depends(require("write:notifications"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            notifications.clear(session, viewer.account_id)

    await run(work)
    return JSON({})


@router.post("/api/v1/notifications/{notification_id}/dismiss", summary="Dismiss one notification")
async def dismiss(request: Request, notification_id: str,
                  viewer: Viewer = Depends(require("write:notifications"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            notifications.dismiss(session, viewer.account_id, _id(notification_id))

    await run(work)
    return JSON({})
