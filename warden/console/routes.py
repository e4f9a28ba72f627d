"""The console's pages. Thin: check the login and role, call one query or one moderation service,
render a template. Every POST checks the CSRF token and answers with a 303 redirect (post/redirect/get)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from warden.api.deps import offload, run, services
from warden.api.ratelimit import password_throttle
from warden.cases import appeals, audit, bulk, cases, search
from warden.cases.runtime import Moderation
from warden.console import auth, charts, queries
from warden.console.auth import ADMIN, MODERATOR, PARTNER, SENIOR, ConsoleUser, need
from warden.console.templating import fragment, render
from warden.errors import NotFound, ValidationFailed, WardenError
from warden.platform.ids import MAX_ID
from warden.platform.ratelimit import RateLimited
from warden.policy.model import DEFAULT_QUEUE
from warden.policy.versions import backtest
from warden.store.models import Account, utcnow

#: A record id in a console URL: a bigger number than any id column holds is a 422, not a 500.
RecordId = Annotated[int, Path(ge=0, le=MAX_ID)]

router = APIRouter()


def _engine(request: Request) -> Moderation:
    return services(request).extras["moderation"]  # type: ignore[no-any-return]


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _me(session: Any, user: ConsoleUser) -> Account:
    account = session.get(Account, user.id)
    if account is None:
        raise NotFound()
    return account


# --- login ------------------------------------------------------------------------------------


@router.get("/", name="home")
async def home(user: ConsoleUser = Depends(need(*MODERATOR, *PARTNER))) -> Response:
    return _see_other(user.home)


@router.get("/login")
async def login_page(request: Request, next: str = "") -> Response:
    user = await auth.session_user(request)
    if user is not None:
        return _see_other(auth.landing(user, next))
    return render(request, "login.html", next=auth.safe_next(next, ""), username="", error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await auth.checked_form(request)
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    next_path = auth.safe_next(str(form.get("next") or ""), "")
    try:  # checks a password
        user = await offload(auth.login, services(request).db, username, password, password_throttle(request))
    except RateLimited as exc:
        page = render(request, "login.html", status_code=429, next=next_path, username=username[:320],
                      error="Too many failed attempts: wait a minute, then try again")
        page.headers.update(exc.headers)
        return page
    except WardenError as exc:
        return render(request, "login.html", status_code=exc.status_code, next=next_path, username=username[:320],
                      error=exc.message)
    auth.start_session(request, user)
    return _see_other(auth.landing(user, next_path))


@router.post("/logout")
async def logout(request: Request) -> Response:
    await auth.checked_form(request)
    auth.end_session(request)
    return _see_other("/console/login")


# --- the queue and cases ---------------------------------------------------------------------


@router.get("/queue")
async def queue_page(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc, engine = services(request), _engine(request)

    roles = cases.visible_roles(user.role)

    def work() -> tuple[Any, Any, list[str], list[tuple[str, str]]]:
        with svc.db.read() as session:
            policy = engine.store.active(session).policy
            labels = list(policy.labels)
            queues = [(DEFAULT_QUEUE, "General")] + [(name, q.title or name) for name, q in policy.queues.items()
                                                     if q.min_role in roles]
            filters = queries.QueueFilters.parse(dict(request.query_params), labels, [q for q, _ in queues])
            return filters, queries.queue(session, filters, roles), labels, queues

    filters, page, labels, queues = await run(work)
    return render(request, "queue.html", filters=filters, page=page, labels=labels, sources=queries.SOURCES,
                  states=queries.QUEUE_STATES, queues=queues, actions=cases.CASE_ACTIONS, max_bulk=bulk.MAX_CASES)


@router.get("/cases/{case_id}")
async def case_page(request: Request, case_id: RecordId, action: str = "",
                    user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc, engine = services(request), _engine(request)

    def work() -> tuple[dict[str, Any], dict[str, Any], list[str]]:
        with svc.db.write() as session:  # viewing the evidence is recorded in the audit log
            detail = queries.case_detail(session, case_id, cases.visible_roles(user.role))
            cases.check_queue(detail["case"], _me(session, user))
            audit.append(session, action="evidence.viewed", subject=f"case:{case_id}", actor_id=user.id,
                         data={"via": "console"})
            compiled = engine.store.active(session)
            chosen = action if action in cases.CASE_ACTIONS else "remove"
            preview = queries.statement_preview(session, svc.settings, compiled, detail["case"], action=chosen,
                                                label=None, reason="")
            preview["consequences"] = bulk.consequences(session, compiled, [detail["case"].id], chosen)
            return detail, preview, list(compiled.policy.labels)

    detail, preview, labels = await run(work)
    return render(request, "case.html", d=detail, statement=preview, consequences=preview.pop("consequences"),
                  labels=labels, actions=cases.CASE_ACTIONS, selected=action if action in cases.CASE_ACTIONS else "")


@router.post("/cases/{case_id}/preview")
async def statement_preview(request: Request, case_id: RecordId,
                            user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    """The statement of reasons for the decision form's current values (POSTed: the reason stays out of URLs)."""
    form = await auth.checked_form(request)
    action, label, reason = (str(form.get(k) or "") for k in ("action", "label", "reason"))
    svc, engine = services(request), _engine(request)

    def work() -> tuple[dict[str, Any], list[Any]]:
        with svc.db.read() as session:
            case = cases.get(session, case_id)
            cases.check_queue(case, _me(session, user))
            compiled = engine.store.active(session)
            chosen = action if action in cases.CASE_ACTIONS else "remove"
            return (queries.statement_preview(session, svc.settings, compiled, case, action=chosen,
                                              label=label or None, reason=reason[:5000]),
                    bulk.consequences(session, compiled, [case.id], chosen))

    statement, consequences = await run(work)
    return fragment("_preview.html", statement=statement, consequences=consequences)


def _case_step(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request, case_id: RecordId, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
        form = await auth.checked_form(request)
        svc = services(request)

        def work() -> None:
            with svc.db.write() as session:
                me = _me(session, user)
                if name == "claim":
                    cases.claim(session, case_id, me)
                elif name == "release":
                    cases.release(session, case_id, me)
                else:
                    cases.escalate(session, case_id, me, str(form.get("note") or "")[:5000])

        try:
            await run(work)
        except WardenError as exc:
            auth.flash(request, exc.message, "error")
        else:
            auth.flash(request, {"claim": f"You hold case {case_id} for 15 minutes.",
                                 "release": f"Case {case_id} is back in the queue.",
                                 "escalate": f"Case {case_id} is escalated to a senior moderator."}[name])
        stay = name == "claim" or form.get("back") == "case"
        return _see_other(f"/console/cases/{case_id}" if stay else "/console/queue")

    endpoint.__name__ = f"case_{name}"
    return endpoint


for _step in ("claim", "release", "escalate"):
    router.add_api_route(f"/cases/{{case_id}}/{_step}", _case_step(_step), methods=["POST"])


@router.post("/cases/{case_id}/decision")
async def decide_case(request: Request, case_id: RecordId, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    """The same decision service as POST /api/warden/v1/cases/{id}/decision; then on to the next case."""
    form = await auth.checked_form(request)
    action, label = str(form.get("action") or ""), str(form.get("label") or "") or None
    reason = str(form.get("reason") or "").strip()
    if action not in cases.CASE_ACTIONS:
        auth.flash(request, "Choose an action: " + ", ".join(cases.CASE_ACTIONS), "error")
        return _see_other(f"/console/cases/{case_id}")
    if not reason:
        auth.flash(request, "A reason is required: it is sent to the author in the statement of reasons.", "error")
        return _see_other(f"/console/cases/{case_id}?action={action}")
    svc, engine = services(request), _engine(request)

    def work() -> tuple[str, int | None]:
        with svc.db.write() as session:
            case = cases.get(session, case_id)
            _, following = queries.neighbours(session, case, cases.visible_roles(user.role))
            _, decision = cases.decide(session, svc.settings, engine.store.active(session), case_id,
                                       _me(session, user), action=action, label=label, explanation=reason[:5000])
            return decision.id, following

    try:
        decision_id, following = await run(work)
    except WardenError as exc:
        auth.flash(request, exc.message, "error")
        return _see_other(f"/console/cases/{case_id}")
    auth.flash(request, f"Case {case_id} decided: {action} (decision {decision_id}).")
    return _see_other(f"/console/cases/{following}" if following else "/console/queue")


# --- bulk decisions: select cases (or all matching a search), preview, apply -------------------------


def _bulk_form(form: Any) -> tuple[str, str | None, str]:
    action, label = str(form.get("action") or ""), str(form.get("label") or "") or None
    return action, label, str(form.get("reason") or "").strip()[:5000]


@router.post("/bulk/preview")
async def bulk_preview(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    """The cases a bulk decision will take (the ticked ones, or every case matching the queue's search),
    with the strikes and suspensions it brings: nothing is decided until the next step is confirmed."""
    form = await auth.checked_form(request)
    action, label, reason = _bulk_form(form)
    back = "/console/queue" + (f"?{form.get('back')}" if str(form.get("back") or "").strip() else "")
    if action not in cases.CASE_ACTIONS or not reason:
        auth.flash(request, "Choose an action and give a reason: it is sent to every author in the statement "
                            "of reasons.", "error")
        return _see_other(back)
    svc, engine = services(request), _engine(request)
    roles = cases.visible_roles(user.role)
    matching = form.get("scope") == "matching"
    if not matching and not form.getlist("case_id"):
        auth.flash(request, "Tick the cases to decide, or decide all the cases matching the search.", "error")
        return _see_other(back)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            compiled = engine.store.active(session)
            if matching:
                filters = queries.QueueFilters.parse({k: str(v) for k, v in form.items()}, list(compiled.policy.labels),
                                                     [DEFAULT_QUEUE, *compiled.policy.queues])
                total, ids = bulk.matching(session, search.conditions(filters.search, roles))
            else:
                ids = bulk.case_ids(form.getlist("case_id"))
                total = len(ids)
            if total > bulk.MAX_CASES:
                raise ValidationFailed(f"{total} cases match: a bulk decision takes at most {bulk.MAX_CASES}. "
                                       "Narrow the search.")
            sample = queries.case_rows(session, ids[:20])
            statement = queries.statement_preview(session, svc.settings, compiled, sample[0]["case"], action=action,
                                                  label=label, reason=reason) if sample else None
            return {"ids": ids, "total": total, "sample": sample, "statement": statement,
                    "consequences": bulk.consequences(session, compiled, ids, action)}

    try:
        data = await run(work)
    except WardenError as exc:
        auth.flash(request, exc.message.removeprefix("Validation failed: "), "error")
        return _see_other(back)
    return render(request, "bulk.html", action=action, label=label, reason=reason, back=back, **data)


@router.post("/bulk/decision")
async def bulk_decide(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    """Apply the previewed decision to exactly the previewed cases (their ids come with the form)."""
    form = await auth.checked_form(request)
    action, label, reason = _bulk_form(form)
    back = "/console/queue" + (f"?{form.get('back')}" if str(form.get("back") or "").strip() else "")
    svc, engine = services(request), _engine(request)
    try:
        if action not in cases.CASE_ACTIONS or not reason:
            raise ValidationFailed("Choose an action and give a reason")
        ids = bulk.case_ids(str(form.get("case_ids") or "").split(","))
        results = await offload(bulk.decide_many, svc.db, svc.settings, engine.store.active, user.id, ids,
                                action=action, label=label, explanation=reason)
    except WardenError as exc:
        auth.flash(request, exc.message, "error")
        return _see_other(back)
    failed = [r for r in results if not r.ok]
    message = f"{len(results) - len(failed)} of {len(results)} cases decided: {action}."
    if failed:
        shown = "; ".join(f"case {r.case_id}: {r.error}" for r in failed[:5])
        message += f" {len(failed)} not decided ({shown}{' …' if len(failed) > 5 else ''})."
    auth.flash(request, message, "error" if failed else "ok")
    return _see_other(back)


# --- an author's history, a post as followers saw it -------------------------------------------------


@router.get("/accounts/{account_id}")
async def account_page(request: Request, account_id: RecordId, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return queries.account_history(session, account_id, cases.visible_roles(user.role))

    return render(request, "account.html", h=await run(work))


@router.get("/statuses/{status_id}")
async def status_as_seen(request: Request, status_id: RecordId, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.write() as session:  # reading a post's content is evidence access, as opening a case is
            seen = queries.as_seen(session, svc.settings, status_id)
            audit.append(session, action="evidence.viewed", subject=f"status:{status_id}", actor_id=user.id,
                         data={"via": "console", "view": "as_seen"})
            return seen

    return render(request, "as_seen.html", s=await run(work))


# --- appeals (senior) ---------------------------------------------------------------------------


@router.get("/appeals")
async def appeals_page(request: Request, state: str = "open", user: ConsoleUser = Depends(need(*SENIOR))) -> Response:
    svc = services(request)
    state = state if state in ("open", "upheld", "overturned", "all") else "open"

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return queries.appeals(session, state)

    return render(request, "appeals.html", rows=await run(work), state=state)


@router.post("/appeals/{appeal_id}/decision")
async def decide_appeal(request: Request, appeal_id: RecordId, user: ConsoleUser = Depends(need(*SENIOR))) -> Response:
    form = await auth.checked_form(request)
    outcome, reason = str(form.get("outcome") or ""), str(form.get("reason") or "").strip()
    if outcome not in ("upheld", "overturned") or not reason:
        auth.flash(request, "Choose upheld or overturned and give a reason.", "error")
        return _see_other("/console/appeals")
    svc, engine = services(request), _engine(request)

    def work() -> None:
        with svc.db.write() as session:
            appeals.decide(session, svc.settings, engine.store.active(session), appeal_id, _me(session, user),
                           outcome=outcome, explanation=reason[:5000])

    try:
        await run(work)
    except WardenError as exc:
        auth.flash(request, exc.message, "error")
    else:
        auth.flash(request, f"Appeal {appeal_id}: {outcome}.")
    return _see_other("/console/appeals")


# --- audit log (senior), policy, staff and partners (admin) -------------------------------------------


@router.get("/audit")
async def audit_page(request: Request, before: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
                     action: str = "", subject: str = "",
                     user: ConsoleUser = Depends(need(*SENIOR))) -> Response:
    svc = services(request)

    def work() -> tuple[Any, list[dict[str, Any]]]:
        with svc.db.read() as session:
            return audit.verify(session), queries.audit_entries(session, before=before, action=action[:40] or None,
                                                                subject=subject[:80] or None)

    verification, entries = await run(work)
    return render(request, "audit.html", verification=verification, entries=entries, action=action[:40],
                  subject=subject[:80])


@router.get("/policy")
async def policy_page(request: Request, run_backtest: str = "", user: ConsoleUser = Depends(need(*ADMIN))) -> Response:
    svc, engine = services(request), _engine(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            active, shadow = engine.store.get(session)
            result = None
            if run_backtest in ("active", "shadow"):
                compiled = shadow if run_backtest == "shadow" and shadow is not None else active
                result = (compiled.version, backtest(session, compiled, engine.detector, limit=1000))
            return {"active": active, "shadow": shadow, "versions": queries.policy_versions(session),
                    "shadow_results": queries.shadow_results(session, utcnow() - timedelta(days=30)),
                    "backtest": result, "detection": engine.detector is not None}

    return render(request, "policy.html", **await run(work))


@router.get("/staff")
async def staff_page(request: Request, user: ConsoleUser = Depends(need(*ADMIN))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return queries.staff(session, utcnow() - timedelta(days=30))

    return render(request, "staff.html", rows=await run(work))


@router.get("/partners")
async def partners_page(request: Request, user: ConsoleUser = Depends(need(*ADMIN))) -> Response:
    svc = services(request)

    def work() -> list[dict[str, Any]]:
        with svc.db.read() as session:
            return queries.partners(session)

    return render(request, "partners.html", rows=await run(work))


# --- dashboards --------------------------------------------------------------------------------


@router.get("/dashboard")
async def dashboard_page(request: Request, days: int = 30, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    svc, engine = services(request), _engine(request)
    days = max(7, min(days, 180))

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return queries.dashboard(session, engine.store.active(session), days=days)

    data = await run(work)
    series = data["series"]
    figures = {
        "prevalence": charts.line_chart(
            [(d.day.strftime("%m-%d"), d.rate) for d in series], title="Violent content per 10,000 posts, per day",
            unit="per 10,000 posts", marked=[i for i, d in enumerate(series) if d.surge],
            reference=[d.baseline for d in series]),
        "latency": charts.bar_chart(
            [(row.source, [("p50", (row.p50 or 0) / 3600), ("p90", (row.p90 or 0) / 3600)])
             for row in data["latency"]], title="Time to action by source (hours)", unit="hours"),
        "notices": charts.bar_chart(
            [(row.partner, [(state.replace("_", " "), n) for state, n in row.counts.items()])
             for row in data["notices"]], title="Partner notices by outcome", unit="notices"),
        "appeals": charts.bar_chart(
            [("appeals", [("open", data["appeals"].open), ("upheld", data["appeals"].upheld),
                          ("overturned", data["appeals"].overturned)])], title="Appeals by outcome", unit="appeals"),
    }
    return render(request, "dashboard.html", data=data, charts=figures)


@router.get("/transparency")
async def transparency_page(request: Request, user: ConsoleUser = Depends(need(*MODERATOR))) -> Response:
    """The DSA transparency report for a chosen period (default: the last 30 days), as a page, JSON or CSV."""
    from warden.transparency import report as transparency

    svc, engine = services(request), _engine(request)
    params = request.query_params
    start, end, fmt = transparency.parse_period(params.get("from"), params.get("to"), params.get("format"))

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return transparency.build(session, start=start, end=end, policy=engine.store.active(session).policy)

    data = await run(work)
    name = f"transparency-{start.isoformat()}-{end.isoformat()}"
    if fmt == "json":
        return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="{name}.json"',
                                           "Cache-Control": "no-store"})
    if fmt == "csv":
        return Response(transparency.to_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"',
                                 "Cache-Control": "no-store"})
    return render(request, "transparency.html", report=data)


# --- partners ----------------------------------------------------------------------------------


@router.get("/partner")
async def partner_page(request: Request, user: ConsoleUser = Depends(need(*PARTNER))) -> Response:
    svc = services(request)

    def work() -> dict[str, Any]:
        with svc.db.read() as session:
            return queries.partner_notices(session, user.id)

    return render(request, "partner.html", **await run(work))
