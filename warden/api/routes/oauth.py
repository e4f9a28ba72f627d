"""OAuth 2: app registration, the authorization-code flow (with PKCE and out-of-band codes), tokens."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from warden.api.deps import Viewer, offload, require, run, services
from warden.api.params import read_params
from warden.api.ratelimit import password_throttle
from warden.api.responses import JSON
from warden.errors import Unauthorized, WardenError
from warden.platform import auth, push
from warden.platform.ratelimit import TOO_MANY, RateLimited
from warden.platform.scopes import KNOWN_SCOPES
from warden.store.models import OAuthApp

router = APIRouter()
templates = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                        autoescape=select_autoescape(["html"]))


def app_json(app: OAuthApp, *, secret: bool, vapid_key: str = "") -> dict[str, object]:
    uris = app.redirect_uris.split("\n")
    data: dict[str, object] = {"id": str(app.id), "name": app.name, "website": app.website,
                               "redirect_uri": "\n".join(uris), "redirect_uris": uris,
                               "scopes": app.scopes.split(), "vapid_key": vapid_key}
    if secret:
        data |= {"client_id": app.client_id, "client_secret": app.client_secret, "client_secret_expires_at": 0}
    return data


@router.post("/api/v1/apps", tags=["apps"], summary="Register a client application")
async def create_app(request: Request) -> Response:
    params = await read_params(request)
    svc = services(request)
    uris = params.data.get("redirect_uris", "")
    if isinstance(uris, list):
        uris = " ".join(str(u) for u in uris)
    vapid_key = await run(push.vapid_public_key, svc.db)

    def work() -> dict[str, object]:
        with svc.db.write() as session:
            app = auth.create_app(session, name=params.str("client_name", "") or "",
                                  redirect_uris=str(uris or ""), scopes=params.str("scopes", "read") or "read",
                                  website=params.str("website"))
            return app_json(app, secret=True, vapid_key=vapid_key)

    return JSON(await run(work))


@router.get("/api/v1/apps/verify_credentials", tags=["apps"], summary="Verify an app token")
async def verify_app(request: Request, viewer: Viewer = Depends(require("read", user=False))) -> Response:
    svc = services(request)
    vapid_key = await run(push.vapid_public_key, svc.db)

    def work() -> dict[str, object]:
        with svc.db.read() as session:
            app = session.get(OAuthApp, viewer.token.app_id) if viewer.token.app_id else None
            if app is None:
                raise Unauthorized("The access token is invalid")
            return app_json(app, secret=False, vapid_key=vapid_key)

    return JSON(await run(work))


@router.get("/.well-known/oauth-authorization-server", tags=["oauth"], summary="OAuth server metadata")
async def oauth_metadata(request: Request) -> Response:
    base = services(request).settings.base_url
    return JSON({
        "issuer": base + "/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(KNOWN_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "service_documentation": "https://docs.joinmastodon.org/",
    })


_FLOW_FIELDS = ("client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge",
                "code_challenge_method")


def _page(**values: object) -> HTMLResponse:
    html = templates.get_template("authorize.html").render(**values)
    return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                       "form-action 'self'", "X-Frame-Options": "DENY"})


@router.get("/oauth/authorize", tags=["oauth"], summary="The login page of the authorization-code flow",
            response_class=HTMLResponse)
async def authorize_form(request: Request) -> Response:
    params = await read_params(request)
    svc = services(request)
    client_id = params.str("client_id", "")

    def work() -> OAuthApp:
        with svc.db.read() as session:
            return auth.find_app(session, client_id)

    app = await run(work)
    if params.str("response_type", "code") != "code":
        return JSON({"error": "unsupported_response_type"}, status_code=400)
    redirect_uri = params.str("redirect_uri", auth.OOB_REDIRECT) or auth.OOB_REDIRECT
    if redirect_uri not in app.redirect_uris.split("\n"):
        return JSON({"error": "invalid_request", "error_description": "The redirect uri included is not valid."},
                    status_code=400)
    hidden = {k: params.str(k, "") for k in _FLOW_FIELDS if params.str(k)}
    hidden["redirect_uri"] = redirect_uri
    return _page(title=svc.settings.instance_title, app_name=app.name, scope=params.str("scope") or app.scopes,
                 hidden=hidden, username="", error=None, code=None)


@router.post("/oauth/authorize", tags=["oauth"], summary="Log in and grant an authorization code",
             response_class=HTMLResponse)
async def authorize_submit(request: Request) -> Response:
    params = await read_params(request)
    svc = services(request)
    redirect_uri = params.str("redirect_uri", auth.OOB_REDIRECT) or auth.OOB_REDIRECT
    throttle = password_throttle(request)

    def work() -> tuple[str, str]:
        with svc.db.write() as session:
            app = auth.find_app(session, params.str("client_id", ""))
            account = auth.authenticate(session, params.str("username", "") or "", params.str("password", "") or "",
                                        throttle=throttle)
            code = auth.create_code(session, app=app, account_id=account.id, redirect_uri=redirect_uri,
                                    scope=params.str("scope"), code_challenge=params.str("code_challenge"),
                                    code_challenge_method=params.str("code_challenge_method"))
            return app.name, code

    try:
        app_name, code = await offload(work)  # checks a password
    except WardenError as exc:
        hidden = {k: params.str(k, "") for k in _FLOW_FIELDS if params.str(k)}
        page = _page(title=svc.settings.instance_title, app_name="the application", scope=params.str("scope", ""),
                     hidden=hidden, username=params.str("username", ""), error=exc.message, code=None)
        page.status_code = exc.status_code
        if isinstance(exc, RateLimited):
            page.headers.update(exc.headers)
        return page
    if redirect_uri == auth.OOB_REDIRECT:
        return _page(title=svc.settings.instance_title, app_name=app_name, code=code, hidden={}, scope="",
                     username="", error=None)
    query = {"code": code}
    if params.str("state"):
        query["state"] = params.str("state", "") or ""
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)


def _client_credentials(request: Request, params: dict[str, str]) -> None:
    """Accept client_secret_basic as well as client_secret_post."""
    import base64

    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return
        params.setdefault("client_id", client_id)
        params.setdefault("client_secret", secret)


@router.post("/oauth/token", tags=["oauth"], summary="Exchange a grant for an access token")
async def token(request: Request) -> Response:
    params = {k: str(v) for k, v in (await read_params(request)).data.items() if not isinstance(v, list)}
    _client_credentials(request, params)
    svc = services(request)
    throttle = password_throttle(request)

    def work() -> auth.IssuedToken:
        with svc.db.write() as session:
            return auth.exchange(session, params, throttle=throttle)

    try:
        issued = await offload(work)  # the password grant checks a password
    except RateLimited as exc:
        return JSON({"error": TOO_MANY}, status_code=429, headers=exc.headers)
    except Unauthorized as exc:
        return JSON({"error": "invalid_client" if "client" in exc.message else "invalid_grant",
                     "error_description": exc.message}, status_code=401 if "client" in exc.message else 400)
    except WardenError as exc:
        return JSON({"error": "invalid_grant" if exc.status_code == 422 else "invalid_scope",
                     "error_description": exc.message}, status_code=400)
    return JSON({"access_token": issued.access_token, "token_type": "Bearer", "scope": issued.scope,
                 "created_at": issued.created_at})


@router.post("/oauth/revoke", tags=["oauth"], summary="Revoke an access token")
async def revoke(request: Request) -> Response:
    params = {k: str(v) for k, v in (await read_params(request)).data.items() if not isinstance(v, list)}
    _client_credentials(request, params)
    svc = services(request)
    raw = params.get("token", "")

    def work() -> None:
        with svc.db.write() as session:
            auth.find_app(session, params.get("client_id"), params.get("client_secret"))
            auth.revoke_token(session, raw)

    try:
        await run(work)
    except Unauthorized as exc:
        return JSON({"error": "unauthorized_client", "error_description": exc.message}, status_code=403)
    svc.tokens.forget(auth.digest(raw))
    return JSON({})
