"""Timelines: home, public (this server's) and hashtag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Services, Viewer, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.serializers import Presenter, cached_page_json, page_needs_general
from warden.platform import timelines

router = APIRouter(tags=["timelines"])


@router.get("/api/v1/timelines/home", summary="Statuses from the accounts the viewer follows")
async def home(request: Request, max_id: str | None = None, since_id: str | None = None, min_id: str | None = None,
               limit: int | None = None, viewer: Viewer = Depends(require("read:statuses"))) -> Response:
    return await home_response(request, services(request), viewer.account_id,
                               window_args(max_id, since_id, min_id, limit))


async def home_response(request: Request, svc: Services, viewer_id: int, window: dict[str, Any]) -> Response:
    """The home page for `viewer_id`: shared by the route above and its fast path (`api/fastpath.py`)."""
    def work() -> tuple[bytes, list[int]]:
        rows = None
        if svc.db.direct_reads:  # SQLite: the page read without an ORM session (`home_page_direct`)
            with svc.db.direct_read() as conn:
                rows = timelines.home_page_direct(conn, viewer_id, **window)
            if rows is not None and not page_needs_general(rows):  # (most pages: no session at all)
                return cached_page_json(svc.settings.base_url, viewer_id, rows), [row.id for row in rows]
        with svc.db.read() as session:
            if rows is None:
                rows = timelines.home_page(session, viewer_id, **window)
            return Presenter(session, svc.settings, viewer_id).page_json(rows), [s.id for s in rows]

    body, cursors = await run(work)
    return paged(request, body, cursors)


@router.get("/api/v1/timelines/public", summary="Public statuses on this server")
async def public(request: Request, local: bool = False, remote: bool = False, only_media: bool = False,
                 max_id: str | None = None, since_id: str | None = None, min_id: str | None = None,
                 limit: int | None = None, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        if remote:  # no federation on this server
            return [], []
        with svc.db.read() as session:
            rows = timelines.public(session, viewer_id(viewer), only_media=only_media, **window)
            presenter = Presenter(session, svc.settings, viewer_id(viewer))
            return presenter.statuses(rows, context="public"), [s.id for s in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/timelines/tag/{hashtag}", summary="Public statuses with a hashtag")
async def tag(request: Request, hashtag: str, local: bool = False, remote: bool = False, only_media: bool = False,
              max_id: str | None = None, since_id: str | None = None, min_id: str | None = None,
              limit: int | None = None, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        if remote:
            return [], []
        with svc.db.read() as session:
            rows = timelines.tag(session, viewer_id(viewer), hashtag, only_media=only_media, **window)
            presenter = Presenter(session, svc.settings, viewer_id(viewer))
            return presenter.statuses(rows, context="public"), [s.id for s in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)
