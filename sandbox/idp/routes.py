"""The dev IdP's endpoints: discovery, JWKS, the authorize page, token and userinfo."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from aiohttp import web
from authlib.oauth2 import OAuth2Error

from core.i18n import pick_locale
from core.settings import Settings
from sandbox.idp import client as dev
from sandbox.idp.models import DevClient, DevUser
from sandbox.idp.server import DevAuthorizationServer, ReadRequest, Reply
from sandbox.templating import render

IDP = web.AppKey("accountbot_dev_idp", DevAuthorizationServer)
DEFAULT_LOCALE = web.AppKey("accountbot_dev_idp_locale", str)


def mount(app: web.Application, settings: Settings) -> DevAuthorizationServer:
    """Add /idp/... to the app; refuses unless PUBLIC_URL is on loopback."""
    dev.check_loopback(settings)
    client = DevClient(
        dev.CLIENT_ID, dev.client_secret(settings), settings.public_url + "/auth/callback/dev"
    )
    server = DevAuthorizationServer(dev.issuer(settings), client)
    app[IDP] = server
    app[DEFAULT_LOCALE] = settings.default_locale
    app.router.add_get("/idp/.well-known/openid-configuration", discovery)
    app.router.add_get("/idp/jwks", jwks)
    app.router.add_route("*", "/idp/authorize", authorize)
    app.router.add_post("/idp/token", token)
    app.router.add_route("*", "/idp/userinfo", userinfo)
    return server


def _server(request: web.Request) -> DevAuthorizationServer:
    return request.config_dict[IDP]


async def discovery(request: web.Request) -> web.Response:
    issuer = _server(request).issuer
    metadata: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": issuer + "/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "name", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": True,
    }
    return web.json_response(metadata)


async def jwks(request: web.Request) -> web.Response:
    return web.json_response(_server(request).public_jwks())


async def authorize(request: web.Request) -> web.StreamResponse:
    """GET shows who to sign in as; POST issues the code and sends the browser back."""
    server = _server(request)
    read = await ReadRequest.read(request)
    user = None
    if request.method == "POST":
        name, email = read.form.get("name", "").strip(), read.form.get("email", "").strip()
        if name or email:
            user = DevUser.typed(name, email, read.form.get("email_verified") == "on")
    try:
        grant = server.get_consent_grant(read, end_user=user)
    except OAuth2Error as error:
        # A bad client or redirect URI must not redirect anywhere (RFC 6749 §4.1.2.1).
        return _page(request, status=400, refused=f"{error.error}: {error.description or ''}")
    if user is None:
        return _authorize_page(request)
    reply: Reply = server.create_authorization_response(read, grant_user=user, grant=grant)
    return reply.to_aiohttp()


def _authorize_page(request: web.Request) -> web.Response:
    return _page(request, action=request.path_qs, refused="")


def _page(request: web.Request, *, status: int = 200, **context: str) -> web.Response:
    """A page of templates/idp/page.html under a per-response CSP nonce, as the product's are."""
    nonce = secrets.token_urlsafe(16)
    html = render("idp/page.html", locale=_locale(request), nonce=nonce, **context)
    response = web.Response(text=html, status=status, content_type="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response


def _locale(request: web.Request) -> str:
    """The first of the browser's languages (most wanted first) that the catalogs have."""
    wanted = []
    for position, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _sep, weight = part.strip().partition(";q=")
        with contextlib.suppress(ValueError):
            quality = float(weight) if weight else 1.0
            if tag and quality > 0:
                wanted.append((-quality, position, tag))
    default = request.config_dict[DEFAULT_LOCALE]
    return next(
        (pick_locale(tag, "") for *_, tag in sorted(wanted) if pick_locale(tag, "")), default
    )


async def token(request: web.Request) -> web.StreamResponse:
    read = await ReadRequest.read(request)
    reply: Reply = _server(request).create_token_response(read)
    return reply.to_aiohttp()


async def userinfo(request: web.Request) -> web.Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    user = _server(request).user_for_token(value) if scheme.lower() == "bearer" else None
    if user is None:
        return web.json_response(
            {"error": "invalid_token"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return web.json_response(dict(_server(request).user_info(user)))
