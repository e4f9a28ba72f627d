"""Search v2: accounts, hashtags and statuses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from warden.api.deps import Viewer, optional_viewer, run, services, viewer_id
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.errors import ValidationFailed
from warden.platform.ids import MAX_ID, as_id
from warden.platform.pagination import clamp_limit
from warden.platform.search import search

router = APIRouter(tags=["search"])


@router.get("/api/v2/search", summary="Search accounts, hashtags and statuses")
async def search_v2(request: Request, q: str = Query(...), type: str | None = None, resolve: bool = False,
                    following: bool = False, account_id: str | None = None, limit: int = 20, offset: int = 0,
                    viewer: Viewer | None = Depends(optional_viewer)) -> Response:
    if type not in (None, "", "accounts", "hashtags", "statuses"):
        raise ValidationFailed("Validation failed: type must be accounts, hashtags or statuses")
    if offset and viewer is None:
        raise ValidationFailed("Validation failed: offset needs an authenticated request")
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            found = search(session, viewer_id(viewer), q, type=type or None, limit=clamp_limit(limit, 20, 40),
                           offset=max(0, min(offset, MAX_ID)), account_id=as_id(account_id))
            presenter = Presenter(session, svc.settings, viewer_id(viewer))
            return {"accounts": presenter.accounts(found.accounts), "statuses": presenter.statuses(found.statuses),
                    "hashtags": [presenter.tag(t) for t in found.hashtags]}

    return JSON(await run(work))
