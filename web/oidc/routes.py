"""The provider's endpoints (PRODUCT §1.11): discovery, JWKS, authorize, token, userinfo,
revocation and RP-initiated logout, on `web.oidc.server.OidcServer`; and its sign-in page's social
sign-in (`web.oidc.social`), which comes back through the chat's callback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from aiohttp import web
from authlib.oauth2 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.domain.models import Binding
from core.errors import AuthenticationFailed, Throttled
from core.flows.workspace_sign_in import WorkspaceAttemptRefused
from web.context import CONTEXT, context, locale_of, speak
from web.oidc import keys, notices, social
from web.oidc.server import SCOPES, Answer, OidcServer, Person, Prepared
from web.pages import redirect, render
from web.providers import ProviderError
from web.routes.consent import BROWSER_COOKIE
from web.routes.login import _authenticate, _retry_after

log = logging.getLogger(__name__)
SERVER = web.AppKey("accountbot_oidc", OidcServer)
COOKIE = "op_session"
FORM = "oidc"


def register(app: web.Application) -> None:
    """Add the provider's routes; its first signing key is made at start when there is none."""
    app.on_startup.append(_start)
    app.cleanup_ctx.append(notices.delivering)  # back-channel notices to workspaces
    router = app.router
    router.add_get("/.well-known/openid-configuration", discovery)
    router.add_get("/oidc/jwks", jwks)
    router.add_route("GET", "/oidc/authorize", authorize)
    router.add_route("POST", "/oidc/authorize", authorize)
    router.add_post("/oidc/token", token)
    router.add_route("GET", "/oidc/userinfo", userinfo)
    router.add_route("POST", "/oidc/userinfo", userinfo)
    router.add_post("/oidc/revoke", revoke)
    router.add_get("/oidc/logout", logout)
    router.add_get("/oidc/social/{provider}", social_start)


async def _start(app: web.Application) -> None:
    services = app[CONTEXT].services
    provider = services.provider
    assert provider is not None, "core.bootstrap builds it"

    async def reader(account_id: int) -> tuple[str | None, list[Binding]]:
        async with services.database.reader() as uow:
            account = await uow.accounts.get(account_id)
            bindings = await uow.bindings.for_account(account_id)
        return (account.name if account else None), bindings

    settings = services.settings
    issuer = (settings.op_issuer or settings.public_url).rstrip("/")
    await keys.ensure_key(provider)
    app[SERVER] = OidcServer(provider, issuer, reader)


def server_of(request: web.Request) -> OidcServer:
    return request.config_dict[SERVER]


def _url(server: OidcServer, path: str) -> str:
    return f"{server.issuer}{path}"


async def _prepare(request: web.Request, server: OidcServer) -> Prepared:
    form = {k: str(v) for k, v in (await request.post()).items()} if request.can_read_body else {}
    return Prepared(
        method=request.method,
        uri=_url(server, request.path_qs),
        headers=dict(request.headers),
        args=dict(request.query),
        form=form,
    )


def _answer(answer: Answer) -> web.Response:
    headers = {k: v for k, v in answer.headers if k.lower() != "content-type"}
    if 300 <= answer.status < 400:
        return web.Response(status=answer.status, headers=headers)
    body = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
    headers.setdefault("Cache-Control", "no-store")
    return web.Response(
        status=answer.status, text=body, content_type="application/json", headers=headers
    )


# --- discovery and keys --------------------------------------------------------------------------


async def discovery(request: web.Request) -> web.Response:
    server = server_of(request)
    return web.json_response(
        {
            "issuer": server.issuer,
            "authorization_endpoint": _url(server, "/oidc/authorize"),
            "token_endpoint": _url(server, "/oidc/token"),
            "userinfo_endpoint": _url(server, "/oidc/userinfo"),
            "jwks_uri": _url(server, "/oidc/jwks"),
            "revocation_endpoint": _url(server, "/oidc/revoke"),
            "end_session_endpoint": _url(server, "/oidc/logout"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": [keys.ALG],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "name",
                "email",
                "email_verified",
                "phone_number",
                "phone_number_verified",
                "auth_time",
                "nonce",
            ],
            "authorization_response_iss_parameter_supported": True,
        }
    )


async def jwks(request: web.Request) -> web.Response:
    server = server_of(request)
    return web.json_response(
        keys.jwks(await server.provider.published_keys()),
        # A relying party's cache outlives no key's publication ahead of signing.
        headers={
            "Cache-Control": keys.cache_control(request.config_dict[CONTEXT].services.settings)
        },
    )


# --- the session cookie --------------------------------------------------------------------------


def _session(request: web.Request, server: OidcServer) -> Person | None:
    value = request.cookies.get(COOKIE, "")
    parts = value.split(".")
    if len(parts) != 4:
        return None
    account, auth, expires, mac = parts
    keyed = server.provider.keyed
    if not keyed.same(keyed.digest("oidc-session", f"{account}.{auth}.{expires}"), mac):
        return None
    now = server.provider.clock.now()
    if not expires.isdigit() or int(expires) <= now.timestamp():
        return None
    return Person(int(account), datetime.fromtimestamp(int(auth), UTC))


def _set_session(
    request: web.Request, response: web.StreamResponse, server: OidcServer, person: Person
) -> None:
    ttl = context(request).services.settings.op_session_ttl
    auth = int(person.auth_time.timestamp())
    expires = auth + ttl
    value = f"{person.account_id}.{auth}.{expires}"
    mac = server.provider.keyed.digest("oidc-session", value)
    response.set_cookie(
        COOKIE,
        f"{value}.{mac}",
        max_age=ttl,
        path="/oidc",
        secure=server.issuer.startswith("https://"),
        httponly=True,
        samesite="Lax",
    )


# --- authorization -------------------------------------------------------------------------------


async def authorize(request: web.Request) -> web.StreamResponse:
    """Validate the request (Authlib), sign the person in, ask consent once, answer with a code."""
    ctx = context(request)
    server = server_of(request)
    full = await _prepare(request, server)
    # Authlib reads the authorization request from the query, also when the page posts back.
    prepared = Prepared("GET", full.uri, full.headers, full.args, {})
    try:
        grant = await server.run(server.get_consent_grant, prepared)
    except OAuth2Error as error:
        if error.redirect_uri:
            answer = server.handle_error_response(None, error)
            location = _with_iss(answer.location or error.redirect_uri, server)
            raise web.HTTPFound(location) from None
        log.info("oidc authorize refused: %s %s", error.error, error.description)
        return render(request, "oidc_error.html", status=400)
    client = grant.client.client
    redirect_uri = grant.redirect_uri or client.redirect_uris[0]
    workspace = await _workspace_title(server, client.client_id)
    form = full.form if request.method == "POST" else {}

    person = _session(request, server)
    if person is not None and (await server.account(person.account_id))[0] is None:
        person = None  # the account was deleted since (PRODUCT §1.12): nobody is signed in
    fresh: Person | None = None
    if person is None:
        if "login" not in form:
            return await _sign_in(request, workspace, redirect_uri)
        if not await ctx.services.forms.check(FORM, form.get("csrf", "")):
            return await _sign_in(request, workspace, redirect_uri, "expired", status=403)
        login = form.get("login", "")
        try:
            account_id = await _authenticate(request, login, form.get("password", ""))
        except AuthenticationFailed:
            return await _sign_in(request, workspace, redirect_uri, "wrong", login, 401)
        except Throttled as error:
            retry = _retry_after(error)
            page = await _sign_in(request, workspace, redirect_uri, "throttled", login, 429, retry)
            page.headers["Retry-After"] = retry
            return page
        person = fresh = Person(account_id, server.provider.clock.now())

    response: web.StreamResponse
    if await server.provider.consent(person.account_id, client.client_id) is None:
        decision = form.get("decision")
        if decision is None or not await ctx.services.forms.check(FORM, form.get("csrf", "")):
            response = await _consent(request, workspace, redirect_uri, prepared.args)
        elif decision == "allow":
            scope = grant.request.payload.scope or "openid"
            await server.provider.grant_consent(person.account_id, client.client_id, scope)
            response = await _finish(server, prepared, person, grant)
        else:
            response = await _finish(server, prepared, None, grant)
    else:
        response = await _finish(server, prepared, person, grant)
    if fresh is not None:
        _set_session(request, response, server, fresh)
    return response


async def _finish(
    server: OidcServer, prepared: Prepared, person: Person | None, grant: object
) -> web.StreamResponse:
    answer: Answer = await server.run(server.create_authorization_response, prepared, person, grant)
    return _answer(answer)


def _with_iss(location: str, server: OidcServer) -> str:
    if "iss=" in (urlsplit(location).query or ""):
        return location
    joiner = "&" if urlsplit(location).query else "?"
    return f"{location}{joiner}{urlencode({'iss': server.issuer})}"


async def _workspace_title(server: OidcServer, client_id: str) -> str:
    for view in await server.provider.clients():
        if view.client.client_id == client_id:
            return view.workspace_title
    return client_id


def _allow_form_to(response: web.Response, redirect_uri: str) -> web.Response:
    """A form here ends in a redirect to the workspace: CSP form-action must allow its origin."""
    parts = urlsplit(redirect_uri)
    policy = response.headers.get("Content-Security-Policy", "")
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
    )
    return response


async def _sign_in(
    request: web.Request,
    workspace: str,
    redirect_uri: str,
    error: str = "",
    login: str = "",
    status: int = 200,
    retry_after: str = "",
) -> web.Response:
    ctx = context(request)
    csrf = await ctx.services.forms.issue(FORM)
    # One button per configured provider; the authorization request is always the query.
    buttons = [
        (provider.title, social.start_path(name, request.query))
        for name, provider in ctx.providers.items()
    ]
    response = render(
        request,
        "oidc_login.html",
        status=status,
        workspace=workspace,
        error=error,
        login=login,
        csrf=csrf,
        retry_after=retry_after,
        social=buttons,
    )
    return _allow_form_to(response, redirect_uri)


async def _consent(
    request: web.Request, workspace: str, redirect_uri: str, args: dict[str, str] | object
) -> web.Response:
    csrf = await context(request).services.forms.issue(FORM)
    scope = str(request.query.get("scope", "openid")).split()
    # The page names what each scope gives in words; an unknown scope gives nothing (SCOPES).
    asked = [s for s in ("profile", "email", "phone") if s in scope]
    response = render(request, "oidc_consent.html", workspace=workspace, asked=asked, csrf=csrf)
    return _allow_form_to(response, redirect_uri)


# --- social sign-in on the sign-in page ----------------------------------------------------------


def _private(response: web.Response) -> web.Response:
    """What the web server's own pages get (web.security): nothing cached, no Referer sent."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


async def social_start(request: web.Request) -> web.StreamResponse:
    """A provider's button: the authorization request checked again (it is kept for the way
    back, so only a valid one for a registered client and redirect URI is), then the provider."""
    ctx = context(request)
    server = server_of(request)
    args = dict(request.query)
    uri = _url(server, social.sign_in_page(args))
    prepared = Prepared("GET", uri, dict(request.headers), args, {})
    try:
        await server.run(server.get_consent_grant, prepared)
    except OAuth2Error as error:
        log.info("oidc social sign-in refused: %s %s", error.error, error.description)
        return _private(render(request, "oidc_error.html", status=400))
    name = request.match_info["provider"]
    provider = ctx.providers.get(name)
    if provider is None:
        ctx.metrics.failures.labels("unknown_provider").inc()
        return _private(render(request, "oidc_error.html", status=404))
    attempts = ctx.services.workspace_sign_in
    begun = await attempts.begin(
        name, request.cookies.get(BROWSER_COOKIE), args, locale_of(request)
    )
    try:
        location = await provider.authorization_url(ctx.client(), social.pending(begun))
    except ProviderError as error:
        ctx.metrics.failures.labels(error.reason).inc()
        return await _social_failed(request, server, args, provider.title, declined=False)
    response = _private(redirect(location))
    # The chat's binding cookie (web.routes.signin.start): the callback is under /auth.
    response.set_cookie(
        BROWSER_COOKIE,
        begun.browser,
        path="/auth",
        httponly=True,
        samesite="Lax",
        secure=ctx.services.settings.public_is_https,
        max_age=int(attempts.ttl.total_seconds()),
    )
    return response


async def social_callback(
    request: web.Request, name: str, params: dict[str, str]
) -> web.StreamResponse | None:
    """The provider's answer to an attempt begun on the sign-in page, or None when the state is
    not one of ours (the chat's callback goes on). An identity with an account signs in to the
    provider and goes back to the authorization request; one without signs nobody in and is
    told to make the account in the chat (PRODUCT §1.11)."""
    ctx = context(request)
    attempts = ctx.services.workspace_sign_in
    try:
        returned = await attempts.claim(
            params.get("state", ""), name, request.cookies.get(BROWSER_COOKIE)
        )
    except WorkspaceAttemptRefused as refused:
        ctx.metrics.failures.labels(refused.reason).inc()
        speak(request, refused.locale)
        again = social.sign_in_page(refused.request) if refused.request else ""
        return _private(
            render(
                request,
                "oidc_social.html",
                status=410,
                outcome="expired",
                again=again,
                provider="",
                workspace="",
            )
        )
    if returned is None:
        return None
    speak(request, returned.locale)
    server = server_of(request)
    provider = ctx.providers.get(name)
    title = provider.title if provider else name
    if "error" in params or provider is None:
        declined = params.get("error") == "access_denied"
        ctx.metrics.failures.labels("declined" if declined else "provider_error").inc()
        return await _social_failed(request, server, returned.request, title, declined=declined)
    try:
        profile = await provider.profile(ctx.client(), params, social.pending(returned))
    except ProviderError as error:
        ctx.metrics.failures.labels(error.reason).inc()
        return await _social_failed(request, server, returned.request, title, declined=False)
    account_id = await ctx.services.workspace_sign_in.account_of(profile)
    if account_id is None:
        ctx.metrics.failures.labels("no_account").inc()
        workspace = await _workspace_title(server, returned.request.get("client_id", ""))
        return _private(
            render(
                request,
                "oidc_social.html",
                outcome="no_account",
                again=social.sign_in_page(returned.request),
                provider=title,
                workspace=workspace,
            )
        )
    ctx.metrics.sign_ins.labels(profile.provider).inc()
    response = _private(redirect(social.sign_in_page(returned.request), status=303))
    _set_session(request, response, server, Person(account_id, server.provider.clock.now()))
    return response


async def _social_failed(
    request: web.Request,
    server: OidcServer,
    authorization: dict[str, str],
    provider: str,
    *,
    declined: bool,
) -> web.Response:
    """The provider refused or failed: the person is not signed in and may try again."""
    workspace = await _workspace_title(server, authorization.get("client_id", ""))
    return _private(
        render(
            request,
            "oidc_social.html",
            status=400,
            outcome="declined" if declined else "failed",
            again=social.sign_in_page(authorization),
            provider=provider,
            workspace=workspace,
        )
    )


# --- token, userinfo, revocation, logout ---------------------------------------------------------


async def token(request: web.Request) -> web.Response:
    server = server_of(request)
    prepared = await _prepare(request, server)
    answer: Answer = await server.run(server.create_token_response, prepared)
    return _answer(answer)


async def revoke(request: web.Request) -> web.Response:
    server = server_of(request)
    prepared = await _prepare(request, server)
    answer: Answer = await server.run(server.create_endpoint_response, "revocation", prepared)
    return _answer(answer)


async def userinfo(request: web.Request) -> web.Response:
    server = server_of(request)
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" and request.method == "POST":
        # RFC 6750 §2.2: the token in a form-encoded body.
        value = str((await request.post()).get("access_token", ""))
    found = server.read_access_token(value.strip()) if value else None
    if found is not None:
        account_id, client_id, scope = found
        client = await server.provider.client(client_id)
        consent = await server.provider.consent(account_id, client_id)
        if client is not None and consent is not None:
            return web.json_response(
                dict(await server.claims(client, account_id, scope)),
                headers={"Cache-Control": "no-store"},
            )
    return web.json_response(
        {"error": "invalid_token"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def logout(request: web.Request) -> web.StreamResponse:
    """RP-initiated logout: the session cookie goes; back to the workspace when its URI is one
    of the client's registered redirect URIs (exact match)."""
    server = server_of(request)
    target = request.query.get("post_logout_redirect_uri", "")
    client_id = request.query.get("client_id", "") or await _audience(
        server, request.query.get("id_token_hint", "")
    )
    response: web.StreamResponse
    client = await server.provider.client(client_id) if client_id else None
    if target and client is not None and target in client.redirect_uris:
        state = request.query.get("state")
        location = f"{target}?{urlencode({'state': state})}" if state else target
        response = web.Response(status=302, headers={"Location": location})
    else:
        response = render(request, "oidc_logout.html")
    response.del_cookie(COOKIE, path="/oidc")
    return response


async def _audience(server: OidcServer, id_token: str) -> str:
    """The client an ID token we signed was for (the key may be published but retired)."""
    if not id_token:
        return ""
    published = await server.provider.published_keys()
    try:
        decoded = jwt.decode(id_token, KeySet([keys.private(k) for k in published]), [keys.ALG])
    except (JoseError, ValueError):
        return ""
    audience = decoded.claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if audience else ""
    return str(audience or "")
