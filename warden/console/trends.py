"""The console's trends review page (issue 33): what is trending, and approve / reject, as Mastodon's
trends review. The same reviews as `POST /api/v1/admin/trends/...` (warden/api/routes/admin_trends.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from warden.api.deps import run, services
from warden.console import auth
from warden.console.auth import MODERATOR, ConsoleUser, need
from warden.console.templating import render
from warden.errors import WardenError
from warden.platform import trends
from warden.store.models import Account

router = APIRouter()


@router.get("/trends")
async def trends_page(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            tags = trends.tag_ranking(session, limit=40, include_rejected=True)
            statuses = trends.status_ranking(session, None, limit=40, include_rejected=True)
            tag_states = trends.reviews(session, "tag", [t.id for t, _ in tags])
            status_states = trends.reviews(session, "status", [s.id for s in statuses])
            authors = {a.id: a.username for a in session.query(Account).filter(
                Account.id.in_({s.account_id for s in statuses}))} if statuses else {}
            return {
                "tags": [{"id": t.id, "name": t.name, "accounts": n, "state": tag_states.get(t.id)} for t, n in tags],
                "statuses": [{"id": s.id, "author": authors.get(s.account_id, "?"), "text": s.text,
                              "favourites": s.favourites_count, "reblogs": s.reblogs_count,
                              "state": status_states.get(s.id)} for s in statuses],
                "require_review": trends.require_review(),
            }

    return render(request, "trends.html", **await run(work))


@router.post("/trends/review")
async def review(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    form = await auth.checked_form(request)
    kind, verdict, target = str(form.get("kind") or ""), str(form.get("verdict") or ""), str(form.get("target_id") or "")
    svc = services(request)

    def work() -> None:
        from warden.api.routes.admin_trends import review_and_audit

        with svc.db.write() as session:
            review_and_audit(session, svc, user.id, kind, target, verdict)

    try:
        await run(work)
    except WardenError as exc:
        auth.flash(request, exc.message, "error")
    else:
        auth.flash(request, f"Trend review saved: {kind} {target} {verdict}.")
    return RedirectResponse("/console/trends", status_code=303)
