"""Warden's moderation API (`/api/warden/v1`): partner notices, cases, decisions and appeals.

Thin: each endpoint authenticates, calls one service in warden/cases/ in one transaction, renders JSON.
A suspended account may still read its decisions (statements of reasons) and appeal them: those
endpoints accept its token (`suspended_ok`); every other endpoint refuses it. An author without a usable
token appeals through the signed link sent with the decision (`/appeal-links/{token}`, cases/appeal_links.py).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from warden.api.deps import Staff, Viewer, offload, require, require_partner, require_staff, run, services
from warden.api.ratelimit import limiter, with_quota
from warden.api.responses import JSON
from warden.cases import appeal_links, appeals, audit, bulk, cases, copies, decisions, notices, search
from warden.cases.runtime import Moderation
from warden.errors import NotFound, ValidationFailed
from warden.platform.ids import MAX_ID
from warden.store.models import Account

router = APIRouter(prefix="/api/warden/v1", tags=["moderation"])


class NoticeBatch(BaseModel):
    notices: list[Any] = Field(description="Up to 500 items: {url, category, explanation}")


class CaseDecisionIn(BaseModel):
    action: Literal["remove", "no_violation", "limit", "label", "strike", "suspend"]
    policy: str | None = Field(None, description="The policy label the decision relies on (e.g. violence)")
    explanation: str = Field("", max_length=5000, description="Facts and reasons, sent to author and notifiers")


class CaseFilterIn(BaseModel):
    state: str | None = Field(None, description="undecided (default), open, claimed, escalated, decided or all")
    label: str | None = None
    source: str | None = Field(None, description="trusted_flagger, partner, user or detector")
    queue: str | None = Field(None, description="A queue by report type (the policy's queues, or general)")
    account: str | None = Field(None, description="The author's username")
    text: str | None = Field(None, description="Words in the post (case aside)")
    partner: str | None = Field(None, description="A partner's name or part of it")


class BulkDecisionIn(BaseModel):
    case_ids: list[str | int] | None = Field(None, description=f"Up to {bulk.MAX_CASES} case ids")
    filter: CaseFilterIn | None = Field(None, description="Instead of case_ids: every case matching this search "
                                                          f"(refused when more than {bulk.MAX_CASES} match)")
    action: Literal["remove", "no_violation", "limit", "label", "strike", "suspend"]
    policy: str | None = Field(None, description="The policy label the decisions rely on (e.g. violence)")
    explanation: str = Field("", max_length=5000, description="Facts and reasons, sent to authors and notifiers")
    preview: bool = Field(False, description="Decide nothing: answer the matching cases and the strikes and "
                                             "suspensions the decision would bring")


class EscalationIn(BaseModel):
    note: str = Field("", max_length=5000)


class AppealIn(BaseModel):
    decision_id: str
    text: str = Field(max_length=5000)


class AppealDecisionIn(BaseModel):
    outcome: Literal["upheld", "overturned"]
    explanation: str = Field("", max_length=5000)


def _engine(request: Request) -> Moderation:
    return services(request).extras["moderation"]  # type: ignore[no-any-return]


def _account(session: Any, staff: Staff) -> Account:
    account = session.get(Account, staff.account_id)
    if account is None:
        raise NotFound()
    return account


# --- partner notices ------------------------------------------------------------------------------


@router.post("/notices", status_code=202, summary="Submit a batch of notices (partner token; up to 500)")
async def submit_notices(request: Request, body: NoticeBatch, partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)
    # Each notice of the batch counts (a batch holds up to 500).
    quota = limiter(request).hit("notices", str(partner.id), cost=min(len(body.notices), notices.MAX_BATCH))

    def work() -> list[dict[str, Any]]:
        with svc.db.write() as session:
            return notices.submit(session, svc.settings, partner, body.notices)

    return with_quota(JSON({"notices": await run(work)}, status_code=202), quota)


@router.get("/notices/{notice_id}", summary="A notice's status and, once decided, the decision with its "
                                            "statement of reasons (partner token)")
async def get_notice(request: Request, notice_id: str, partner: Any = Depends(require_partner)) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return notices.get_notice(session, partner, notice_id)

    return JSON(await run(work))


# --- cases ---------------------------------------------------------------------------------------


@router.get("/cases", summary="Cases by priority (status=open: undecided; or claimed, escalated, decided, all), "
                              "searched by account, text, partner, label, source and queue; only the queues "
                              "the caller's role may see")
async def list_cases(request: Request, status: str = Query("open"), limit: int = Query(100, ge=1, le=500),
                     offset: int = Query(0, ge=0, le=MAX_ID), account: str | None = None, text: str | None = None,
                     partner: str | None = None, label: str | None = None, source: str | None = None,
                     queue: str | None = None, staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    svc = services(request)
    # `status` picks the state (cases.listing); the search adds the rest and the caller's queues.
    found = search.CaseSearch.parse({"state": "all", "account": account, "text": text, "partner": partner,
                                     "label": label, "source": source, "queue": queue}, strict=True)
    where = search.conditions(found, cases.visible_roles(staff.account.role))

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            found = cases.listing(session, state=status, limit=limit, offset=offset, where=where)
            joined = copies.of_cases(session, [c.id for c in found])
            return [cases.as_json(c, copies=joined.get(c.id)) for c in found]

    return JSON(await run(work))


@router.post("/cases/bulk-decision", summary="Decide many cases with one action and reason (case_ids, or every "
                                             "case matching a filter); one result per case")
async def bulk_decision(request: Request, body: BulkDecisionIn,
                        staff: Staff = Depends(require_staff("admin:write"))) -> Response:
    svc, engine = services(request), _engine(request)
    if (body.case_ids is None) == (body.filter is None):
        raise ValidationFailed("Validation failed: give either case_ids or filter")
    ids = bulk.case_ids(body.case_ids) if body.case_ids is not None else None
    wanted = search.CaseSearch.parse(body.filter.model_dump(), strict=True) if body.filter is not None else None

    def select_cases() -> dict[str, Any]:
        with svc.db.read() as session:
            compiled = engine.store.active(session)
            if body.policy is not None and body.policy not in compiled.policy.labels:
                raise ValidationFailed(f"Validation failed: policy must be one of {', '.join(compiled.policy.labels)}")
            chosen, matched = ids, None
            if wanted is not None:
                matched, chosen = bulk.matching(session, search.conditions(wanted, cases.visible_roles(staff.account.role)))
                if matched > bulk.MAX_CASES:
                    raise ValidationFailed(f"Validation failed: {matched} cases match the filter; a bulk decision "
                                           f"takes at most {bulk.MAX_CASES}: narrow the filter")
            assert chosen is not None
            preview = None
            if body.preview:
                preview = [c.as_json() for c in bulk.consequences(session, compiled, chosen, body.action)]
            return {"matched": matched, "ids": chosen, "consequences": preview}

    selected = await run(select_cases)
    if body.preview:
        return JSON({"matched": len(selected["ids"]), "case_ids": [str(i) for i in selected["ids"]],
                     "consequences": selected["consequences"]})

    def work() -> list[bulk.Result]:
        return bulk.decide_many(svc.db, svc.settings, engine.store.active, staff.account_id, selected["ids"],
                                action=body.action, label=body.policy, explanation=body.explanation)

    results = await offload(work)  # many transactions: off the event loop
    decided = sum(1 for r in results if r.ok)
    return JSON({"decided": decided, "failed": len(results) - decided, "results": [r.as_json() for r in results]})


@router.get("/cases/{case_id}", summary="A case with its evidence snapshot (the access is audited)")
async def get_case(request: Request, case_id: str, staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            case = cases.get(session, case_id)
            cases.check_queue(case, staff.account)
            audit.append(session, action="evidence.viewed", subject=f"case:{case.id}", actor_id=staff.account_id)
            return cases.as_json(case, evidence=True, copies=copies.copy_status_ids(session, case.id))

    return JSON(await run(work))


def _case_action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, case_id: str, staff: Staff = Depends(require_staff("admin:write"))) -> Response:
        svc = services(request)
        note = ""
        if name == "escalate" and await request.body():
            try:
                note = EscalationIn.model_validate_json(await request.body()).note
            except ValueError:
                raise ValidationFailed('Validation failed: the body must be JSON like {"note": "..."}') from None

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = _account(session, staff)
                if name == "claim":
                    case = cases.claim(session, case_id, me)
                elif name == "release":
                    case = cases.release(session, case_id, me)
                else:
                    case = cases.escalate(session, case_id, me, note)
                return cases.as_json(case)

        return JSON(await run(work))

    endpoint.__name__ = f"case_{name}"
    return endpoint


for _name, _summary in (("claim", "Claim a case (a lock for 15 minutes)"), ("release", "Release a claimed case"),
                        ("escalate", "Escalate a case to a senior moderator")):
    router.add_api_route(f"/cases/{{case_id}}/{_name}", _case_action(_name), methods=["POST"], summary=_summary)


@router.post("/cases/{case_id}/decision", summary="Decide a case; the decision answers every notice and report on it")
async def decide_case(request: Request, case_id: str, body: CaseDecisionIn,
                      staff: Staff = Depends(require_staff("admin:write"))) -> Response:
    svc = services(request)
    engine = _engine(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            compiled = engine.store.active(session)
            case, decision = cases.decide(session, svc.settings, compiled, case_id, _account(session, staff),
                                          action=body.action, label=body.policy, explanation=body.explanation)
            return {"case": cases.as_json(case, copies=copies.copy_status_ids(session, case.id)),
                    "decision": decisions.as_json(decision)}

    return JSON(await run(work))


# --- decisions and appeals -------------------------------------------------------------------------


def _owner_or_staff(session: Any, viewer: Viewer, owner_id: int | None, not_found: str) -> None:
    """Only the account a record is about, or staff, may read it; others get a 404, not a 403."""
    me = session.get(Account, viewer.account_id)
    if me is None or (owner_id != me.id and me.role not in cases.STAFF_ROLES):
        raise NotFound(not_found)


@router.get("/decisions", summary="Your own decisions with their statements of reasons, newest first "
                                   "(a suspended account may read them too)")
async def my_decisions(request: Request, limit: int = Query(40, ge=1, le=200),
                       viewer: Viewer = Depends(require("read", suspended_ok=True))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return [decisions.as_json(d, appeal_link=decisions.appeal_link(svc.settings, d))
                    for d in decisions.of_account(session, viewer.account_id, limit=limit)]

    return JSON(await run(work))


@router.get("/decisions/{decision_id}", summary="A decision and its statement of reasons (its author, or staff)")
async def get_decision(request: Request, decision_id: str,
                       viewer: Viewer = Depends(require("read", suspended_ok=True))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            decision = decisions.get(session, decision_id)
            _owner_or_staff(session, viewer, decision.account_id, "No such decision")
            link = decisions.appeal_link(svc.settings, decision) if decision.account_id == viewer.account_id else None
            return decisions.as_json(decision, appeal_link=link)

    return JSON(await run(work))


@router.post("/appeals", status_code=201, summary="Appeal a decision on your content or account")
async def file_appeal(request: Request, body: AppealIn,
                      viewer: Viewer = Depends(require("write", suspended_ok=True))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = viewer.account_in(session)
            return appeals.as_json(session, appeals.file(session, me, decision_id=body.decision_id, text=body.text))

    return JSON(await run(work), status_code=201)


class LinkAppealIn(BaseModel):
    text: str = Field(max_length=5000)


@router.get("/appeal-links/{token}", summary="The decision an appeal link was sent for, with its statement of "
                                               "reasons and any appeal (the link is the credential; no token)")
async def read_appeal_link(request: Request, token: str) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            decision, _ = appeal_links.open_link(session, svc.settings, token)
            appeal = appeals.of_decision(session, decision.id)
            return {"decision": decisions.as_json(decision),
                    "appeal": appeals.as_json(session, appeal) if appeal is not None else None}

    return JSON(await run(work))


@router.post("/appeal-links/{token}", status_code=201,
             summary="Appeal the decision an appeal link was sent for, without a token (a suspended author)")
async def appeal_by_link(request: Request, token: str, body: LinkAppealIn) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            decision, account = appeal_links.open_link(session, svc.settings, token)
            return appeals.as_json(session, appeals.file(session, account, decision_id=decision.id, text=body.text))

    return JSON(await run(work), status_code=201)


@router.get("/appeals", summary="Appeals (status=open, upheld, overturned or all; staff)")
async def list_appeals(request: Request, status: str = Query("open"), limit: int = Query(100, ge=1, le=500),
                       staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return [appeals.as_json(session, a) for a in appeals.listing(session, state=status, limit=limit)]

    return JSON(await run(work))


@router.get("/appeals/{appeal_id}", summary="An appeal (the appellant, or staff)")
async def get_appeal(request: Request, appeal_id: str,
                     viewer: Viewer = Depends(require("read", suspended_ok=True))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            appeal = appeals.get(session, appeal_id)
            _owner_or_staff(session, viewer, appeal.account_id, "No such appeal")
            return appeals.as_json(session, appeal)

    return JSON(await run(work))


@router.post("/appeals/{appeal_id}/decision",
             summary="Decide an appeal (a senior moderator who did not take the original decision)")
async def decide_appeal(request: Request, appeal_id: str, body: AppealDecisionIn,
                        staff: Staff = Depends(require_staff("admin:write", senior=True))) -> Response:
    svc = services(request)
    engine = _engine(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            compiled = engine.store.active(session)
            appeal, _ = appeals.decide(session, svc.settings, compiled, appeal_id, _account(session, staff),
                                       outcome=body.outcome, explanation=body.explanation)
            return appeals.as_json(session, appeal)

    return JSON(await run(work))


@router.get("/policy", summary="The policy versions in force (active and shadow)")
async def get_policy(request: Request, staff: Staff = Depends(require_staff("admin:read"))) -> Response:
    engine = _engine(request)
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            active, shadow = engine.store.get(session)
            return {"active": active.version, "shadow": shadow.version if shadow else None,
                    "detection": engine.detector is not None}

    return JSON(await run(work))
