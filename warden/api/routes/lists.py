"""Lists: CRUD, members, the list timeline and the lists an account is on (docs.joinmastodon.org/methods/lists)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.pagination import paged, window_args
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.platform import lists

router = APIRouter(tags=["lists"])


@router.get("/api/v1/lists", summary="The viewer's lists")
async def all_lists(request: Request, viewer: Viewer = Depends(require("read:lists"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return [lists.list_json(row) for row in lists.all_of(session, viewer.account_id)]

    return JSON(await run(work))


@router.get("/api/v1/lists/{list_id}", summary="One of the viewer's lists")
async def get_list(request: Request, list_id: str, viewer: Viewer = Depends(require("read:lists"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return lists.list_json(lists.owned(session, viewer.account_id, list_id))

    return JSON(await run(work))


@router.post("/api/v1/lists", summary="Create a list")
async def create_list(request: Request, viewer: Viewer = Depends(require("write:lists"))) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = lists.create(session, viewer.account_id, title=params.str("title"),
                               replies_policy=params.str("replies_policy"), exclusive=params.bool("exclusive"))
            return lists.list_json(row)

    return JSON(await run(work))


@router.put("/api/v1/lists/{list_id}", summary="Change a list's title, replies policy or exclusivity")
async def update_list(request: Request, list_id: str, viewer: Viewer = Depends(require("write:lists"))) -> Response:
    params = await read_params(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = lists.update(session, viewer.account_id, list_id, title=params.str("title"),
                               replies_policy=params.str("replies_policy"),
                               exclusive=params.bool("exclusive") if "exclusive" in params else None)
            return lists.list_json(row)

    return JSON(await run(work))


@router.delete("/api/v1/lists/{list_id}", summary="Delete a list")
async def delete_list(request: Request, list_id: str, viewer: Viewer = Depends(require("write:lists"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            lists.remove(session, viewer.account_id, list_id)

    await run(work)
    return JSON({})


@router.get("/api/v1/lists/{list_id}/accounts", summary="The accounts on a list")
async def list_accounts(request: Request, list_id: str, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = None,
                        viewer: Viewer = Depends(require("read:lists"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=40, maximum=40)
    everything = limit == 0  # Mastodon: limit=0 is every account, unpaginated

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = lists.members(session, viewer.account_id, list_id, max_id=window["max_id"],
                                 since_id=window["since_id"], min_id=window["min_id"],
                                 limit=None if everything else window["limit"])
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [presenter.account(a) for _, a in rows], ([] if everything else [c for c, _ in rows])

    data, cursors = await run(work)
    return paged(request, data, cursors)


def _members_change(add: bool):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, list_id: str, viewer: Viewer = Depends(require("write:lists"))) -> Response:
        params = await read_params(request)
        svc = services(request)

        def work() -> None:
            with svc.db.write() as session:
                change = lists.add_accounts if add else lists.remove_accounts
                change(session, viewer.account_id, list_id, params.list("account_ids"))

        await run(work)
        return JSON({})

    endpoint.__name__ = "add_list_accounts" if add else "remove_list_accounts"
    return endpoint


router.add_api_route("/api/v1/lists/{list_id}/accounts", _members_change(True), methods=["POST"],
                     summary="Add accounts the viewer follows to a list")
router.add_api_route("/api/v1/lists/{list_id}/accounts", _members_change(False), methods=["DELETE"],
                     summary="Remove accounts from a list")


@router.get("/api/v1/timelines/list/{list_id}", summary="Statuses from the accounts on a list")
async def list_timeline(request: Request, list_id: str, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = None,
                        viewer: Viewer = Depends(require("read:lists"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            row = lists.owned(session, viewer.account_id, list_id)
            rows = lists.timeline(session, row, **window)
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return presenter.statuses(rows, context="home"), [s.id for s in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/accounts/{account_id}/lists", summary="The viewer's lists that contain an account")
async def account_lists(request: Request, account_id: str, viewer: Viewer = Depends(require("read:lists"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return [lists.list_json(row) for row in lists.lists_with(session, viewer.account_id, account_id)]

    return JSON(await run(work))
