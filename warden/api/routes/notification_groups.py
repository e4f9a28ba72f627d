"""Unread counts, grouped notifications (v2 and the v2_alpha aliases), notification policy (v1, v2)
and notification requests. Included before `notifications`, so its fixed paths
(`/api/v1/notifications/unread_count`, `/requests`, `/policy`) are not taken as notification ids."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.pagination import link_header, paged, window_args
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter, iso
from warden.errors import NotFound, ValidationFailed
from warden.platform import notification_groups as groups
from warden.platform import notification_requests as requests_
from warden.platform.ids import as_id, parse_id
from warden.platform.notifications import GROUPED_TYPES
from warden.platform.pagination import clamp_limit
from warden.store.models import Account

router = APIRouter(tags=["notifications"])
READ, WRITE = "read:notifications", "write:notifications"


def _list(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(f"{name}[]") or request.query_params.getlist(name)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "on", "yes")


def _filters(request: Request) -> groups.Filters:
    grouped = _list(request, "grouped_types")
    account = request.query_params.get("account_id")
    return groups.Filters(types=_list(request, "types") or None, exclude_types=_list(request, "exclude_types") or None,
                          from_account_id=as_id(account) if account else None,
                          include_filtered=_flag(request, "include_filtered"),
                          grouped_types=tuple(grouped) if "grouped_types[]" in request.query_params
                          or "grouped_types" in request.query_params else GROUPED_TYPES)


def _limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    try:
        return clamp_limit(int(raw) if raw not in (None, "") else None, default, maximum)
    except ValueError:
        raise ValidationFailed("Validation failed: limit must be a number") from None


# --- unread counts ------------------------------------------------------------------------------


@router.get("/api/v1/notifications/unread_count", summary="How many notifications are after the marker")
async def unread_count(request: Request, viewer: Viewer = Depends(require(READ))) -> Response:
    svc, filters, limit = services(request), _filters(request), _limit(request, 100, 1000)

    def work() -> int:
        with svc.db.read() as session:
            return groups.unread_count(session, viewer.account_id, filters, limit=limit, grouped=False)

    return JSON({"count": await run(work)})


async def unread_group_count(request: Request, viewer: Viewer = Depends(require(READ))) -> Response:
    svc, filters, limit = services(request), _filters(request), _limit(request, 100, 1000)

    def work() -> int:
        with svc.db.read() as session:
            return groups.unread_count(session, viewer.account_id, filters, limit=limit, grouped=True)

    return JSON({"count": await run(work)})


# --- policy -------------------------------------------------------------------------------------


@router.get("/api/v2/notifications/policy", summary="The viewer's notification policy (v2)")
async def policy_v2(request: Request, viewer: Viewer = Depends(require(READ))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return requests_.policy_json(session, viewer.account_id)

    return JSON(await run(work))


@router.patch("/api/v2/notifications/policy", summary="Change the viewer's notification policy (v2)")
async def update_policy_v2(request: Request, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, params = services(request), await read_params(request)
    changes = {name: params.str(name) or "" for name in requests_.CATEGORIES if name in params}

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            requests_.update_policy(session, viewer.account_id, changes)
            return requests_.policy_json(session, viewer.account_id)

    return JSON(await run(work))


@router.get("/api/v1/notifications/policy", summary="The viewer's notification policy (v1, deprecated)")
async def policy_v1(request: Request, viewer: Viewer = Depends(require(READ))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return requests_.policy_v1_json(session, viewer.account_id)

    return JSON(await run(work))


@router.patch("/api/v1/notifications/policy", summary="Change the viewer's notification policy (v1, deprecated)")
async def update_policy_v1(request: Request, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, params = services(request), await read_params(request)
    changes = {new: "filter" if params.bool(old) else "accept"
               for old, new in requests_.V1_FIELDS.items() if old in params}

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            requests_.update_policy(session, viewer.account_id, changes)
            return requests_.policy_v1_json(session, viewer.account_id)

    return JSON(await run(work))


# --- requests -----------------------------------------------------------------------------------


def _request_json(presenter: Presenter, view: requests_.RequestView) -> dict[str, Any]:
    last = presenter.statuses([view.last_status]) if view.last_status is not None else []
    return {"id": str(view.request.id), "created_at": iso(view.request.created_at),
            "updated_at": iso(view.request.updated_at), "account": presenter.account(view.account),
            "notifications_count": str(view.count), "last_status": last[0] if last else None}


@router.get("/api/v1/notifications/requests", summary="Notification requests: filtered notifications by sender")
async def list_requests(request: Request, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = None,
                        viewer: Viewer = Depends(require(READ))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=40, maximum=80)

    def work() -> tuple[list[Any], list[int]]:
        with svc.db.read() as session:
            views = requests_.page(session, viewer.account_id, **window)
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [_request_json(presenter, v) for v in views], [v.request.id for v in views]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/notifications/requests/merged", summary="Whether accepted requests are merged (always, at once)")
async def requests_merged(viewer: Viewer = Depends(require(READ))) -> Response:
    return JSON({"merged": True})


async def _ids(request: Request) -> list[int]:
    params = await read_params(request)
    ids = [as_id(v) for v in params.list("id")]
    if not ids:
        raise ValidationFailed("Validation failed: id is missing")
    return [i for i in ids if i is not None]


@router.post("/api/v1/notifications/requests/accept", summary="Accept several notification requests")
async def accept_requests(request: Request, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, ids = services(request), await _ids(request)

    def work() -> None:
        with svc.db.write() as session:
            requests_.accept(session, viewer.account_id, ids, strict=False)

    await run(work)
    return JSON({})


@router.post("/api/v1/notifications/requests/dismiss", summary="Dismiss several notification requests")
async def dismiss_requests(request: Request, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, ids = services(request), await _ids(request)

    def work() -> None:
        with svc.db.write() as session:
            requests_.dismiss(session, viewer.account_id, ids, strict=False)

    await run(work)
    return JSON({})


@router.get("/api/v1/notifications/requests/{request_id}", summary="One notification request")
async def get_request(request: Request, request_id: str, viewer: Viewer = Depends(require(READ))) -> Response:
    svc, ident = services(request), parse_id(request_id)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            view = requests_.get(session, viewer.account_id, ident)
            return _request_json(Presenter(session, svc.settings, viewer.account_id), view)

    return JSON(await run(work))


@router.post("/api/v1/notifications/requests/{request_id}/accept", summary="Accept a notification request")
async def accept_request(request: Request, request_id: str, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, ident = services(request), parse_id(request_id)

    def work() -> None:
        with svc.db.write() as session:
            requests_.accept(session, viewer.account_id, [ident])

    await run(work)
    return JSON({})


@router.post("/api/v1/notifications/requests/{request_id}/dismiss", summary="Dismiss a notification request")
async def dismiss_request(request: Request, request_id: str, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc, ident = services(request), parse_id(request_id)

    def work() -> None:
        with svc.db.write() as session:
            requests_.dismiss(session, viewer.account_id, [ident])

    await run(work)
    return JSON({})


# --- grouped notifications (v2; v2_alpha is Mastodon 4.3-beta's name for the same) -------------------


def _results(presenter: Presenter, page: list[groups.Group]) -> dict[str, Any]:
    """Mastodon's GroupedNotificationsResults: the groups, and each account and status they name once."""
    session = presenter.session
    newest = presenter.notifications([g.newest for g in page])  # v1 rendering: visibility, warnings
    by_id = {int(n["id"]): n for n in newest}
    account_ids = {a for g in page for a in g.sample_account_ids}
    accounts = {a.id: a for a in session.query(Account).filter(Account.id.in_(account_ids))} if account_ids else {}
    out_groups, statuses = [], {}
    for group in page:
        rendered = by_id.get(group.newest.id)
        if rendered is None:  # its post is gone or not visible to the reader
            continue
        entry: dict[str, Any] = {
            "group_key": group.key, "notifications_count": group.count, "type": group.type,
            "most_recent_notification_id": str(group.newest.id), "page_min_id": str(min(group.page_ids)),
            "page_max_id": str(max(group.page_ids)), "latest_page_notification_at": iso(group.page_latest_at),
            "sample_account_ids": [str(a) for a in group.sample_account_ids if a in accounts],
        }
        if rendered.get("status") is not None:
            entry["status_id"] = rendered["status"]["id"]
            statuses[rendered["status"]["id"]] = rendered["status"]
        if "moderation_warning" in rendered:
            entry["moderation_warning"] = rendered["moderation_warning"]
        out_groups.append(entry)
    return {"accounts": [presenter.account(a) for a in accounts.values()], "statuses": list(statuses.values()),
            "notification_groups": out_groups}


async def grouped(request: Request, viewer: Viewer = Depends(require(READ))) -> Response:
    svc, filters = services(request), _filters(request)
    q = request.query_params
    window = window_args(q.get("max_id"), q.get("since_id"), q.get("min_id"), None)
    window["limit"] = _limit(request, 40, 80)

    def work() -> tuple[dict[str, Any], list[int]]:
        with svc.db.read() as session:
            page = groups.page(session, viewer.account_id, filters, **window)
            ids = sorted((i for g in page for i in g.page_ids), reverse=True)
            return _results(Presenter(session, svc.settings, viewer.account_id), page), ids

    data, ids = await run(work)
    response = JSON(data)
    if ids:
        link_header(request, response, ids[0], ids[-1])
    return response


async def group(request: Request, group_key: str, viewer: Viewer = Depends(require(READ))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            found = groups.one(session, viewer.account_id, group_key)
            data = _results(Presenter(session, svc.settings, viewer.account_id), [found])
            if not data["notification_groups"]:
                raise NotFound()
            return data

    return JSON(await run(work))


async def dismiss_group(request: Request, group_key: str, viewer: Viewer = Depends(require(WRITE))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            groups.dismiss(session, viewer.account_id, group_key)

    await run(work)
    return JSON({})


async def group_accounts(request: Request, group_key: str, viewer: Viewer = Depends(require(READ))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            ids = groups.accounts_of(session, viewer.account_id, group_key)
            rows = {a.id: a for a in session.query(Account).filter(Account.id.in_(ids))} if ids else {}
            presenter = Presenter(session, svc.settings, viewer.account_id)
            return [presenter.account(rows[i]) for i in ids if i in rows]

    return JSON(await run(work))


for _version in ("v2", "v2_alpha"):
    _base = f"/api/{_version}/notifications"
    _note = " (Mastodon 4.3 beta's path)" if _version == "v2_alpha" else ""
    router.add_api_route(f"{_base}/unread_count", unread_group_count, methods=["GET"],
                         summary=f"How many notification groups are after the marker{_note}")
    router.add_api_route(_base, grouped, methods=["GET"], summary=f"The viewer's notifications, grouped{_note}")
    router.add_api_route(f"{_base}/{{group_key}}", group, methods=["GET"], summary=f"One notification group{_note}")
    router.add_api_route(f"{_base}/{{group_key}}/dismiss", dismiss_group, methods=["POST"],
                         summary=f"Dismiss every notification of a group{_note}")
    if _version == "v2":
        router.add_api_route(f"{_base}/{{group_key}}/accounts", group_accounts, methods=["GET"],
                             summary="The accounts of a notification group, newest first")
