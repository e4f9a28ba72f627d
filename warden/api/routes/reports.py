"""User reports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from warden.api.deps import Viewer, require, run, services
from warden.api.params import read_params
from warden.api.ratelimit import limiter, with_quota
from warden.api.responses import JSON
from warden.api.serializers import Presenter
from warden.errors import ValidationFailed
from warden.platform import accounts, reports

router = APIRouter(tags=["reports"])


@router.post("/api/v1/reports", summary="Report an account and some of its statuses to the moderators")
async def create_report(request: Request, viewer: Viewer = Depends(require("write:reports"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    if not params.str("account_id"):
        raise ValidationFailed("Validation failed: account_id is required")
    quota = limiter(request).hit("reports", str(viewer.account_id))

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = viewer.account_in(session)
            report = reports.file_report(session, me, account_id=params.str("account_id", "") or "",
                                         status_ids=params.list("status_ids"), comment=params.str("comment", "") or "",
                                         forward=params.bool("forward"), category=params.str("category"),
                                         rule_ids=params.list("rule_ids"))
            target = accounts.get(session, report.target_account_id)
            return Presenter(session, svc.settings, me.id).report(report, target)

    return with_quota(JSON(await run(work)), quota)
