"""The viewer's saved things: bookmarks (with bookmark / unbookmark), favourites, blocks and mutes,
each a `Link`-paginated list (docs.joinmastodon.org/methods/bookmarks, favourites, blocks, mutes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.pagination import paged, window_args
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.platform import bookmarks

router = APIRouter(tags=["bookmarks"])


def _bookmark_action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, status_id: str, viewer: Viewer = Depends(require("write:bookmarks"))) -> Response:
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                status = getattr(bookmarks, name)(session, me, status_id)
                return Presenter(session, svc.settings, me.id).status(status)

        return JSON(await run(work))

    endpoint.__name__ = f"status_{name}"
    return endpoint


for _name in ("bookmark", "unbookmark"):
    router.add_api_route(f"/api/v1/statuses/{{status_id}}/{_name}", _bookmark_action(_name), methods=["POST"],
                         summary=f"{_name.capitalize()} a status")


def _status_list(kind: str, scope: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, max_id: str | None = None, since_id: str | None = None,
                       min_id: str | None = None, limit: int | None = None,
                       viewer: Viewer = Depends(require(scope))) -> Response:
        svc = services(request)
        window = window_args(max_id, since_id, min_id, limit)

        def work() -> tuple[list[Any], list[int]]:
            with svc.db.read() as session:
                rows, cursors = getattr(bookmarks, kind)(session, viewer.account_id, window)
                return Presenter(session, svc.settings, viewer.account_id).statuses(rows), cursors

        data, cursors = await run(work)
        return paged(request, data, cursors)

    endpoint.__name__ = f"{kind}_statuses"
    return endpoint


def _account_list(kind: str, scope: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, max_id: str | None = None, since_id: str | None = None,
                       min_id: str | None = None, limit: int | None = None,
                       viewer: Viewer = Depends(require(scope))) -> Response:
        svc = services(request)
        window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)

        def work() -> tuple[list[Any], list[int]]:
            with svc.db.read() as session:
                rows = getattr(bookmarks, kind)(session, viewer.account_id, window)
                presenter = Presenter(session, svc.settings, viewer.account_id)
                return [presenter.account(a) for _, a in rows], [cursor for cursor, _ in rows]

        data, cursors = await run(work)
        return paged(request, data, cursors)

    endpoint.__name__ = f"{kind}_accounts"
    return endpoint


router.add_api_route("/api/v1/bookmarks", _status_list("bookmarked", "read:bookmarks"), methods=["GET"],
                     summary="Statuses the viewer bookmarked")
router.add_api_route("/api/v1/favourites", _status_list("favourited", "read:favourites"), methods=["GET"],
                     summary="Statuses the viewer favourited")
router.add_api_route("/api/v1/blocks", _account_list("blocked", "read:blocks"), methods=["GET"],
                     summary="Accounts the viewer blocks")
router.add_api_route("/api/v1/mutes", _account_list("muted", "read:mutes"), methods=["GET"],
                     summary="Accounts the viewer mutes")
