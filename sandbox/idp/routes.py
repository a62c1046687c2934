"""The dev IdP's endpoints: discovery, JWKS, the authorize page, token and userinfo."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from authlib.oauth2 import OAuth2Error

from core.settings import Settings
from web.context import gettext
from web.idp.models import DevClient, DevUser
from web.idp.server import DevAuthorizationServer, ReadRequest, Reply
from web.pages import e, el, render
from web.providers import dev

IDP = web.AppKey("accountbot_dev_idp", DevAuthorizationServer)


def mount(app: web.Application, settings: Settings) -> DevAuthorizationServer:
    """Add /idp/... to the app; refuses unless PUBLIC_URL is on loopback."""
    dev.check_loopback(settings)
    client = DevClient(
        dev.CLIENT_ID, dev.client_secret(settings), settings.public_url + "/auth/callback/dev"
    )
    server = DevAuthorizationServer(dev.issuer(settings), client)
    app[IDP] = server
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
        _ = gettext(request)
        text = f"{error.error}: {error.description or ''}"
        return render(request, _("Sign-in request refused"), f"<p>{e(text)}</p>", status=400)
    if user is None:
        return _authorize_page(request)
    reply: Reply = server.create_authorization_response(read, grant_user=user, grant=grant)
    return reply.to_aiohttp()


def _authorize_page(request: web.Request) -> web.Response:
    _ = gettext(request)
    body = (
        el("p", _("Development sign-in: type anyone you like."), class_="muted")
        + f'<form method="post" action="{e(request.path_qs)}">'
        + el("label", _("Name"), for_="name")
        + '<input id="name" name="name" type="text" required autocomplete="name">'
        + el("label", _("Email"), for_="email")
        + '<input id="email" name="email" type="email" autocomplete="email">'
        + '<label><input name="email_verified" type="checkbox" checked> '
        + e(_("Email verified"))
        + "</label>"
        + el("button", _("Sign in"), type="submit")
        + "</form>"
    )
    return render(request, "Dev ID", body)


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
