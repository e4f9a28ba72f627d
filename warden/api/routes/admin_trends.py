"""Trends review (Mastodon's admin trends API) and announcements (Warden's admin API): staff only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Staff, require_staff, run, services
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.cases import audit
from warden.platform import announcements, scheduled, trends
from warden.platform.pagination import clamp_limit

router = APIRouter(tags=["admin"])


def admin_tags(presenter: Presenter, rows: list[Any]) -> list[dict[str, Any]]:
    from warden.api.routes.discovery import tag_json

    tags = [t for t, _ in rows] if rows and isinstance(rows[0], tuple) else rows
    states = trends.reviews(presenter.session, "tag", [t.id for t in tags])
    out = []
    for data, tag in zip(tag_json(presenter, tags), tags, strict=True):
        state = states.get(tag.id)
        data.update({"trendable": state == "approved" or (state is None and not trends.require_review()),
                     "usable": True, "listable": state != "rejected", "requires_review": state is None})
        out.append(data)
    return out


@router.get("/api/v1/admin/trends/tags", summary="Trending hashtags, reviewed or not (trends review)")
async def admin_trending_tags(request: Request, limit: int | None = None,
                              staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = trends.tag_ranking(session, limit=clamp_limit(limit, 20, 40), include_rejected=True)
            return admin_tags(Presenter(session, svc.settings, staff.account_id), rows)

    return JSON(await run(work))


@router.get("/api/v1/admin/trends/statuses", summary="Trending posts, reviewed or not (trends review)")
async def admin_trending_statuses(request: Request, limit: int | None = None,
                                  staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            rows = trends.status_ranking(session, None, limit=clamp_limit(limit, 20, 40), include_rejected=True)
            states = trends.reviews(session, "status", [s.id for s in rows])
            data = Presenter(session, svc.settings, staff.account_id).statuses(rows)
            for item in data:
                item["warden_trend_review"] = states.get(int(item["id"]))
            return data

    return JSON(await run(work))


@router.get("/api/v1/admin/trends/links", summary="Trending links (none: no link previews)")
async def admin_trending_links(staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    return JSON([])


def review_and_audit(session: Any, svc: Any, staff_id: int, kind: str, target_id: str, state: str) -> Any:
    target = trends.review(session, staff_id, kind, target_id, state)
    audit.append(session, actor_id=staff_id, action=f"trends.{kind}.{state}", subject=f"{kind}:{target.id}")
    return target


def _review(kind: str, state: str) -> None:
    verb = "approve" if state == "approved" else "reject"

    async def endpoint(request: Request, target_id: str, staff: Staff = Depends(require_staff("admin:write"))) -> Response:
        svc = services(request)

        def work() -> Any:
            with svc.db.write() as session:
                target = review_and_audit(session, svc, staff.account_id, kind, target_id, state)
                presenter = Presenter(session, svc.settings, staff.account_id)
                if kind == "tag":
                    return admin_tags(presenter, [target])[0]
                rendered = presenter.statuses([target])
                return rendered[0] if rendered else {"id": str(target.id)}

        return JSON(await run(work))

    endpoint.__name__ = f"trends_{kind}_{verb}"
    plural = "tags" if kind == "tag" else "statuses"
    router.add_api_route(f"/api/v1/admin/trends/{plural}/{{target_id}}/{verb}", endpoint, methods=["POST"],
                         summary=f"{verb.capitalize()} a {kind} for trends (trends review)")


for _kind in ("tag", "status"):
    for _state in ("approved", "rejected"):
        _review(_kind, _state)


# --- announcements (Warden's admin API) -----------------------------------------------------------


@router.post("/api/warden/v1/announcements", summary="Publish an announcement to every user (staff)")
async def create_announcement(request: Request, staff: Staff = Depends(require_staff("admin:write"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    starts = scheduled.parse_time(params.str("starts_at") or "") if params.str("starts_at") else None
    ends = scheduled.parse_time(params.str("ends_at") or "") if params.str("ends_at") else None

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row = announcements.create(session, staff.account_id, params.str("text", "") or "", starts_at=starts,
                                       ends_at=ends, all_day=params.bool("all_day"), base_url=svc.settings.base_url)
            audit.append(session, actor_id=staff.account_id, action="announcement.create",
                         subject=f"announcement:{row.id}")
            return announcements.render(session, [row], staff.account_id)[0]

    return JSON(await run(work))


@router.delete("/api/warden/v1/announcements/{announcement_id}", summary="Withdraw an announcement (staff)")
async def delete_announcement(request: Request, announcement_id: str,
                              staff: Staff = Depends(require_staff("admin:write"))) -> Response:
    svc = services(request)

    def work() -> None:
        with svc.db.write() as session:
            announcements.withdraw(session, announcement_id)
            audit.append(session, actor_id=staff.account_id, action="announcement.withdraw",
                         subject=f"announcement:{announcement_id}")

    await run(work)
    return JSON({})
