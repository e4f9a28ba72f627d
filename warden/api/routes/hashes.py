"""Partners' PDQ hash lists (`/api/warden/v1/hashes`, partner token): submit hashes, read the whole block
list with each hash's provenance (Link-paginated, newest first), withdraw one of your own. Thin: each
endpoint calls warden/cases/hashlist.py in one transaction."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from warden.api.deps import require_partner, run, services
from warden.api.pagination import paged, window_args
from warden.api.responses import JSON
from warden.cases import hashlist
from warden.errors import ValidationFailed

router = APIRouter(prefix="/api/warden/v1", tags=["moderation"])


class HashBatch(BaseModel):
    hashes: list[Any] = Field(description="Up to 1,000 items: {hash: 64 hex characters (PDQ), quality: 0-100 "
                                          "(default 100), label, reference}")


class WithdrawIn(BaseModel):
    reason: str = Field("", max_length=200)


@router.post("/hashes", summary="Add PDQ hashes to the block list (partner token; up to 1,000; one result "
                                "per item, in order: the stored hash or {error})")
async def submit_hashes(request: Request, body: HashBatch, partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.write() as session:
            return hashlist.submit(session, partner, body.hashes)

    return JSON({"hashes": await run(work)})


@router.get("/hashes", summary="The hash block list with provenance, newest first (partner token; "
                               "active=true|false filters, mine=true: only yours)")
async def list_hashes(request: Request, max_id: str | None = None, since_id: str | None = None,
                      min_id: str | None = None, limit: int | None = Query(None),
                      active: str | None = None, mine: bool = False,
                      partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=100, maximum=500)
    if active not in (None, "", "true", "false"):
        raise ValidationFailed("Validation failed: active must be true or false")
    state = None if active in (None, "") else active == "true"

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return hashlist.listing(session, active=state, mine=partner if mine else None, **window)  # type: ignore[arg-type]

    rows = await run(work)
    return paged(request, rows, [int(r["id"]) for r in rows])  # type: ignore[arg-type]


@router.get("/hashes/{hash_id}", summary="One hash of the block list with its provenance (partner token)")
async def get_hash(request: Request, hash_id: str, partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            entry = hashlist.get(session, hash_id)
            return hashlist.as_json(entry, partner_name=hashlist.partner_name(session, entry))

    return JSON(await run(work))


@router.delete("/hashes/{hash_id}", summary="Withdraw one of your hashes: it stops matching at once and stays "
                                            "listed with withdrawn_at (partner token)")
async def withdraw_hash(request: Request, hash_id: str, partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)
    reason = ""
    if await request.body():
        try:
            reason = WithdrawIn.model_validate_json(await request.body()).reason
        except ValueError:
            raise ValidationFailed('Validation failed: the body must be JSON like {"reason": "..."}') from None

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            return hashlist.as_json(hashlist.withdraw(session, partner, hash_id, reason), partner_name=partner.name)

    return JSON(await run(work))
