"""Outcomes for the people involved: a reporter's report, and the author's statement and appeal pages.

* `GET /api/warden/v1/reports/{id}`: the outcome of a report, for its reporter only (others: 404).
* `GET|POST /appeal/{token}`: the signed appeal page (DSA Art. 20). The signed link sent to the author
  (cases/appeal_links.py) is the credential, so it works while the account is suspended and without
  any token: it shows the statement of reasons, the author's other decisions, and an appeal form.
  Everything shown is escaped (Jinja autoescape); the form carries a token derived from the link
  (HMAC) and a cross-site Origin is refused, so another site cannot file an appeal in the author's name.
* `GET|POST /disputes/strikes/{decision_id}`: where Mastodon apps send an author who taps a
  moderation warning (Mastodon's own path). The author signs in with their password (a suspended
  account too; password attempts are throttled like every login) and is sent to the signed page.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from warden.api.deps import Viewer, offload, require, run, services
from warden.api.params import read_params
from warden.api.ratelimit import password_throttle
from warden.api.responses import JSON
from warden.cases import appeal_links, appeals, decisions, outcomes
from warden.config import Settings
from warden.errors import NotFound, WardenError
from warden.platform import auth
from warden.platform.ratelimit import RateLimited
from warden.platform.server_key import secret_key
from warden.store.moderation_models import ModerationDecision

router = APIRouter(tags=["moderation"])
templates = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]))
STATEMENT_FIELDS = ("decision_visibility", "decision_account", "decision_ground", "category",
                    "category_specification", "content_type", "content_date", "application_date", "source_type",
                    "automated_detection", "automated_decision", "territorial_scope")


@router.get("/api/warden/v1/reports/{report_id}",
            summary="The outcome of your report: status, outcome, the public reason and dates (the reporter only)")
async def get_report(request: Request, report_id: str, viewer: Viewer = Depends(require("read"))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return outcomes.report_json(session, svc.settings, report_id, viewer.account_id)

    return JSON(await run(work))


# --- the signed appeal page ------------------------------------------------------------------------


def form_token(settings: Settings, token: str) -> str:
    return hmac.new(secret_key(settings).encode(), f"appeal-form:{token}".encode(), hashlib.sha256).hexdigest()


def _same_origin(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    want, got = urlsplit(settings.base_url), urlsplit(origin)
    return (got.scheme, got.netloc) == (want.scheme, want.netloc) or got.netloc == request.headers.get("host")


def _html(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(templates.get_template(name).render(**context), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"  # the page is reached through a credential
    response.headers["Referrer-Policy"] = "no-referrer"  # ...which must not leak to linked sites
    response.headers["X-Frame-Options"] = "DENY"
    return response


def _page_context(session: Any, settings: Settings, token: str) -> dict[str, Any]:
    decision, account = appeal_links.open_link(session, settings, token)
    appeal = appeals.of_decision(session, decision.id)
    outcome = decisions.get(session, appeal.outcome_decision_id) if appeal and appeal.outcome_decision_id else None
    statement = decision.statement or {}
    evidence = decision.evidence or {}
    others = []
    for other in decisions.of_account(session, account.id, limit=50):
        if other.id == decision.id:
            continue
        link = outcomes.appeal_page(settings, decisions.appeal_link(settings, other))
        others.append({"id": other.id, "date": other.created_at.date().isoformat(), "link": link,
                       "summary": outcomes.AUTHOR_SUMMARY.get(other.action, other.action)})
    return {
        "title": settings.instance_title, "username": account.username, "decision": decision,
        "summary": outcomes.AUTHOR_SUMMARY.get(decision.action, f"Moderation decision: {decision.action}"),
        "ground": statement.get("incompatible_content_ground") or statement.get("illegal_content_legal_ground"),
        "facts": statement.get("decision_facts") or decision.explanation,
        "fields": [(k, statement.get(k)) for k in STATEMENT_FIELDS if statement.get(k) not in (None, [], "")],
        "content": evidence.get("text"), "appeal": appeal, "outcome": outcome,
        "outcome_summary": outcomes.AUTHOR_SUMMARY.get(outcome.action, outcome.action) if outcome else None,
        "appealable": appeal is None and decisions.appeal_link(settings, decision) is not None,
        "deadline": (decision.created_at + appeal_links.APPEAL_WINDOW).date().isoformat(),
        "others": others, "csrf": form_token(settings, token), "action": f"/appeal/{token}",
    }


def _error_page(settings: Settings, exc: WardenError) -> HTMLResponse:
    return _html("appeal.html", exc.status_code, title=settings.instance_title, error=exc.message, decision=None)


@router.get("/appeal/{token}", response_class=HTMLResponse, include_in_schema=False)
async def appeal_page(request: Request, token: str) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return _page_context(session, svc.settings, token)

    try:
        context = await run(work)
    except WardenError as exc:
        return _error_page(svc.settings, exc)
    return _html("appeal.html", filed=request.query_params.get("filed") == "1", **context)


@router.post("/appeal/{token}", response_class=HTMLResponse, include_in_schema=False)
async def appeal_submit(request: Request, token: str) -> Response:
    svc = services(request)
    params = await read_params(request)
    text = params.str("text", "") or ""

    def work() -> None:
        with svc.db.write() as session:
            decision, account = appeal_links.open_link(session, svc.settings, token)
            appeals.file(session, account, decision_id=decision.id, text=text)

    if not _same_origin(request, svc.settings):
        return _error_page(svc.settings, WardenError("This form was sent from another site"))
    sent = (params.str("csrf_token", "") or "").encode("utf-8", "replace")
    if not hmac.compare_digest(sent, form_token(svc.settings, token).encode()):
        return _error_page(svc.settings, WardenError("The form has expired: open the link again and resend it"))
    try:
        await run(work)
    except WardenError as exc:
        try:
            context = await run(lambda: _read_context(svc, token))
        except WardenError as inner:
            return _error_page(svc.settings, inner)
        return _html("appeal.html", exc.status_code, error=exc.message, draft=text, **context)
    return RedirectResponse(f"/appeal/{token}?filed=1", status_code=303)


def _read_context(svc: Any, token: str) -> dict[str, Any]:
    with svc.db.read() as session:
        return _page_context(session, svc.settings, token)


# --- where Mastodon apps send an author: /disputes/strikes/{id} ---------------------------------------


@router.get("/disputes/strikes/{decision_id}", response_class=HTMLResponse, include_in_schema=False)
async def strike_sign_in(request: Request, decision_id: str) -> Response:
    svc = services(request)
    return _html("dispute_sign_in.html", title=svc.settings.instance_title, decision_id=decision_id, error=None,
                 username="")


@router.post("/disputes/strikes/{decision_id}", response_class=HTMLResponse, include_in_schema=False)
async def strike_sign_in_submit(request: Request, decision_id: str) -> Response:
    svc = services(request)
    params = await read_params(request)
    throttle = password_throttle(request)
    username = params.str("username", "") or ""

    def work() -> str | None:
        with svc.db.write() as session:
            account = auth.authenticate(session, username, params.str("password", "") or "", throttle=throttle,
                                        allow_suspended=True)
            decision = session.get(ModerationDecision, decision_id)
            if decision is None or decision.shadow or decision.account_id != account.id:
                raise NotFound("No such decision on your account")
            token = appeal_links.token_for(svc.settings, decision)
            return f"/appeal/{token}" if token else None

    if not _same_origin(request, svc.settings):
        return _html("dispute_sign_in.html", 400, title=svc.settings.instance_title, decision_id=decision_id,
                     error="This form was sent from another site", username=username)
    try:
        target = await offload(work)  # checks a password
    except WardenError as exc:
        page = _html("dispute_sign_in.html", exc.status_code, title=svc.settings.instance_title,
                     decision_id=decision_id, error=exc.message, username=username)
        if isinstance(exc, RateLimited):
            page.headers.update(exc.headers)
        return page
    if target is None:
        return _html("dispute_sign_in.html", 422, title=svc.settings.instance_title, decision_id=decision_id,
                     error="This decision cannot be appealed", username=username)
    return RedirectResponse(target, status_code=303)
