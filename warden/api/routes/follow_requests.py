"""Follow requests to a locked account, and endorsements (accounts featured on a profile)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from warden.api.deps import Viewer, optional_viewer, require, run, services, viewer_id
from warden.api.pagination import paged, window_args
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.platform import accounts, follow_requests
from warden.platform.ids import as_id
from warden.store.models import Account

router = APIRouter(tags=["accounts"])


@router.get("/api/v1/follow_requests", summary="Accounts asking to follow the viewer")
async def list_requests(request: Request, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = None,
                        viewer: Viewer = Depends(require("read:follows"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            rows = follow_requests.pending(session, viewer.account_id, **window)
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [presenter.account(a) for _, a in rows], [cursor for cursor, _ in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


def _decide(name: str, action: Any, scope: str, path: str, summary: str) -> None:
    async def endpoint(request: Request, account_id: str, viewer: Viewer = Depends(require(scope))) -> Response:
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = viewer.account_in(session)
                return Presenter(session, svc.settings, me.id).relationship(action(session, me, account_id))

        return JSON(await run(work))

    endpoint.__name__ = name
    router.add_api_route(path, endpoint, methods=["POST"], summary=summary)


_decide("authorize_follow_request", follow_requests.authorize, "write:follows",
        "/api/v1/follow_requests/{account_id}/authorize", "Accept a follow request")
_decide("reject_follow_request", follow_requests.reject, "write:follows",
        "/api/v1/follow_requests/{account_id}/reject", "Reject a follow request")
_decide("account_endorse", follow_requests.endorse, "write:accounts",
        "/api/v1/accounts/{account_id}/pin", "Feature an account on one's profile (an account one follows)")
_decide("account_unendorse", follow_requests.unendorse, "write:accounts",
        "/api/v1/accounts/{account_id}/unpin", "Stop featuring an account on one's profile")
_decide("account_endorse_v2", follow_requests.endorse, "write:accounts",
        "/api/v1/accounts/{account_id}/endorse", "Feature an account on one's profile (Mastodon 4.4 name)")
_decide("account_unendorse_v2", follow_requests.unendorse, "write:accounts",
        "/api/v1/accounts/{account_id}/unendorse", "Stop featuring an account (Mastodon 4.4 name)")
_decide("account_remove_from_followers", follow_requests.remove_follower, "write:follows",
        "/api/v1/accounts/{account_id}/remove_from_followers", "Make an account stop following the viewer")


@router.post("/api/v1/accounts/{account_id}/note", summary="Set a private note on an account")
async def account_note(request: Request, account_id: str, viewer: Viewer = Depends(require("write:accounts"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    comment = params.str("comment", "") or ""

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = viewer.account_in(session)
            return Presenter(session, svc.settings, me.id).relationship(
                follow_requests.set_note(session, me, account_id, comment))

    return JSON(await run(work))


@router.get("/api/v1/endorsements", summary="Accounts the viewer features on their profile")
async def my_endorsements(request: Request, max_id: str | None = None, since_id: str | None = None,
                          min_id: str | None = None, limit: int | None = None,
                          viewer: Viewer = Depends(require("read:accounts"))) -> Response:
    return await _endorsements(request, viewer.account_id, viewer.account_id, max_id, since_id, min_id, limit)


@router.get("/api/v1/accounts/{account_id}/endorsements", summary="Accounts an account features on its profile")
async def account_endorsements(request: Request, account_id: str, max_id: str | None = None,
                               since_id: str | None = None, min_id: str | None = None, limit: int | None = None,
                               viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    return await _endorsements(request, account_id, viewer_id(viewer), max_id, since_id, min_id, limit)


async def _endorsements(request: Request, owner: int | str, viewer: int | None, max_id: str | None,
                        since_id: str | None, min_id: str | None, limit: int | None) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            account = accounts.get(session, owner)
            rows = follow_requests.endorsements(session, account.id, **window)
            presenter = Presenter(session, svc.settings, viewer)
            return [presenter.account(a) for _, a in rows], [cursor for cursor, _ in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/accounts", summary="Several accounts at once (id[])")
async def many_accounts(request: Request, viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    svc = services(request)
    ids = list(dict.fromkeys(i for i in (as_id(raw) for raw in request.query_params.getlist("id[]")
                                         + request.query_params.getlist("id")) if i is not None))[:40]

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))} if ids else {}
            return Presenter(session, svc.settings, viewer_id(viewer)).accounts([rows[i] for i in ids if i in rows])

    return JSON(await run(work))
