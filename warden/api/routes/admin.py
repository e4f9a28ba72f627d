"""Mastodon's admin API for reports and accounts (v1), with Mastodon's JSON shapes, so existing admin
tools work against Warden. Staff only: the token needs the admin scope and the account a moderator role."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from warden.api.deps import Staff, require_staff, run, services
from warden.api.pagination import paged, window_args
from warden.api.params import read_params
from warden.api.responses import JSON
from warden.api.serializers import Presenter, iso
from warden.cases import admin, audit, erasure
from warden.errors import NotFound
from warden.platform.ids import as_id
from warden.store.models import Account, InstanceRule, Report, Status
from warden.store.moderation_models import ReportState

log = logging.getLogger("warden.admin")
router = APIRouter(tags=["admin"])


def admin_account(presenter: Presenter, account: Account) -> dict[str, Any]:
    return {
        "id": str(account.id), "username": account.username, "domain": None, "created_at": iso(account.created_at),
        "email": account.email, "ip": None, "ips": [], "locale": account.locale, "invite_request": None,
        "role": {"id": account.role, "name": account.role.capitalize() if account.role != "user" else "",
                 "color": "", "permissions": "0", "highlighted": account.role != "user"},
        "confirmed": True, "approved": True, "disabled": account.suspended_at is not None,
        "silenced": account.silenced_at is not None, "suspended": account.suspended_at is not None,
        "sensitized": False, "account": presenter.account(account), "created_by_application_id": None,
        "invited_by_account_id": None,
    }


def admin_report(session: Session, presenter: Presenter, report: Report) -> dict[str, Any]:
    state = session.get(ReportState, report.id)
    ids = {report.account_id, report.target_account_id}
    if state is not None:
        ids |= {i for i in (state.assigned_account_id, state.action_taken_by_account_id) if i}
    people = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}

    def person(account_id: int | None) -> dict[str, Any] | None:
        return admin_account(presenter, people[account_id]) if account_id in people else None

    statuses = list(session.scalars(select(Status).where(Status.id.in_(report.status_ids or []))))
    rules = list(session.scalars(select(InstanceRule).where(InstanceRule.id.in_(report.rule_ids or []))))
    return {
        "id": str(report.id), "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at), "category": report.category, "comment": report.comment,
        "forwarded": report.forward, "created_at": iso(report.created_at),
        "updated_at": iso(state.updated_at if state is not None else report.created_at),
        "account": person(report.account_id), "target_account": person(report.target_account_id),
        "assigned_account": person(state.assigned_account_id) if state else None,
        "action_taken_by_account": person(state.action_taken_by_account_id) if state else None,
        "statuses": presenter.statuses(statuses), "rules": [{"id": str(r.id), "text": r.text, "hint": r.hint}
                                                            for r in rules],
        "warden": {"case_id": str(state.case_id) if state and state.case_id else None,
                   "decision_id": state.decision_id if state else None},
    }


def _flag(value: str | None) -> bool | None:
    if value in (None, ""):
        return None
    return value.lower() in ("1", "true", "on", "yes", "t")


# --- reports -----------------------------------------------------------------------------------


@router.get("/api/v1/admin/reports", summary="Reports (Mastodon admin API)")
async def list_reports(request: Request, resolved: str | None = None, account_id: str | None = None,
                       target_account_id: str | None = None, max_id: str | None = None, since_id: str | None = None,
                       min_id: str | None = None, limit: int | None = Query(None),
                       staff: Staff = Depends(require_staff("admin:read:reports"))) -> Response:
    svc = services(request)
    window = window_args(max_id, since_id, min_id, limit, default=100, maximum=200)

    def work() -> tuple[list[dict[str, Any]], list[int]]:
        with svc.db.read() as session:
            rows = admin.reports(session, resolved=bool(_flag(resolved)),
                                 account_id=as_id(account_id), target_account_id=as_id(target_account_id),
                                 **window)  # type: ignore[arg-type]
            presenter = Presenter(session, svc.settings, staff.account_id)
            return [admin_report(session, presenter, r) for r in rows], [r.id for r in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/admin/reports/{report_id}", summary="A report with its statuses (Mastodon admin API; audited)")
async def get_report(request: Request, report_id: str,
                     staff: Staff = Depends(require_staff("admin:read:reports"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            row, _ = admin.report(session, report_id)
            audit.append(session, action="evidence.viewed", subject=f"report:{row.id}", actor_id=staff.account_id)
            return admin_report(session, Presenter(session, svc.settings, staff.account_id), row)

    return JSON(await run(work))


def _report_action(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, report_id: str,
                       staff: Staff = Depends(require_staff("admin:write:reports"))) -> Response:
        svc = services(request)

        def work() -> dict[str, Any]:
            with svc.db.write() as session:
                me = session.get(Account, staff.account_id)
                if me is None:
                    raise NotFound()
                if name == "assign_to_self":
                    row = admin.assign(session, report_id, me)
                elif name == "unassign":
                    row = admin.assign(session, report_id, None)
                elif name == "resolve":
                    row = admin.resolve(session, report_id, me, settings=svc.settings)
                else:
                    row = admin.reopen(session, report_id, me)
                session.flush()
                return admin_report(session, Presenter(session, svc.settings, me.id), row)

        return JSON(await run(work))

    endpoint.__name__ = f"report_{name}"
    return endpoint


for _name in ("assign_to_self", "unassign", "resolve", "reopen"):
    router.add_api_route(f"/api/v1/admin/reports/{{report_id}}/{_name}", _report_action(_name), methods=["POST"],
                         summary=f"{_name.replace('_', ' ').capitalize()} a report (Mastodon admin API)")


# --- accounts -----------------------------------------------------------------------------------


@router.get("/api/v1/admin/accounts", summary="Accounts (Mastodon admin API v1)")
async def list_accounts(request: Request, max_id: str | None = None, since_id: str | None = None,
                        min_id: str | None = None, limit: int | None = Query(None),
                        staff: Staff = Depends(require_staff("admin:read:accounts"))) -> Response:
    svc = services(request)
    query = request.query_params
    filters = {k: (_flag(query.get(k)) if k not in ("username", "display_name", "email") else query.get(k))
               for k in ("local", "remote", "active", "pending", "disabled", "silenced", "suspended", "staff",
                         "username", "display_name", "email")}
    window = window_args(max_id, since_id, min_id, limit, default=100, maximum=200)

    def work() -> tuple[list[dict[str, Any]], list[int]]:
        with svc.db.read() as session:
            rows = admin.accounts(session, filters, **window)  # type: ignore[arg-type]
            presenter = Presenter(session, svc.settings, staff.account_id)
            return [admin_account(presenter, a) for a in rows], [a.id for a in rows]

    data, cursors = await run(work)
    return paged(request, data, cursors)


@router.get("/api/v1/admin/accounts/{account_id}", summary="An account (Mastodon admin API)")
async def get_account(request: Request, account_id: str,
                      staff: Staff = Depends(require_staff("admin:read:accounts"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            ident = as_id(account_id)
            account = session.get(Account, ident) if ident is not None else None
            if account is None:
                raise NotFound()
            return admin_account(Presenter(session, svc.settings, staff.account_id), account)

    return JSON(await run(work))


@router.post("/api/v1/admin/accounts/{account_id}/action",
             summary="Act on an account: none, sensitive, disable, silence or suspend (Mastodon admin API)")
async def account_action(request: Request, account_id: str,
                         staff: Staff = Depends(require_staff("admin:write:accounts"))) -> Response:
    params = await read_params(request)
    svc = services(request)
    engine = services(request).extras["moderation"]

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = session.get(Account, staff.account_id)
            if me is None:
                raise NotFound()
            admin.account_action(session, svc.settings, engine.store.active(session), account_id, me,
                                 type=params.str("type", "") or "", text=params.str("text", "") or "",
                                 report_id=params.str("report_id"))
            return {}

    return JSON(await run(work))


@router.delete("/api/v1/admin/accounts/{account_id}",
               summary="Erase a suspended account's posts and the moderation copies of their text (Mastodon admin API)")
async def erase_account(request: Request, account_id: str,
                        staff: Staff = Depends(require_staff("admin:write:accounts"))) -> Response:
    """Mastodon's "delete the user's data": admins only, for a suspended account (cases/erasure.py
    says what goes and what stays). Answers the account as the admin API shows it."""
    svc = services(request)

    def work() -> tuple[dict[str, Any], tuple[str, ...]]:
        with svc.db.write() as session:
            me = session.get(Account, staff.account_id)
            if me is None:
                raise NotFound()
            done = erasure.erase_account(session, account_id, me)
            account = session.get(Account, done.account_id)
            assert account is not None
            return admin_account(Presenter(session, svc.settings, me.id), account), done.files

    data, files = await run(work)
    storage = svc.extras.get("media_storage")
    for key in files if storage is not None else ():  # after the commit: a crash between leaves files no row reaches
        try:
            await run(storage.delete, key)
        except Exception:  # already gone, or the storage away: the row is gone, so nobody reaches the file
            log.warning("erasure: could not delete media file %s", key)
    return JSON(data)


@router.post("/api/v1/admin/accounts/{account_id}/unsuspend", summary="Lift a suspension (Mastodon admin API)")
async def unsuspend_account(request: Request, account_id: str,
                            staff: Staff = Depends(require_staff("admin:write:accounts"))) -> Response:
    svc = services(request)
    engine = services(request).extras["moderation"]

    def work() -> dict[str, Any]:
        with svc.db.write() as session:
            me = session.get(Account, staff.account_id)
            if me is None:
                raise NotFound()
            account = admin.unsuspend(session, svc.settings, engine.store.active(session), account_id, me)
            session.flush()
            return admin_account(Presenter(session, svc.settings, me.id), account)

    return JSON(await run(work))
