"""A demo workspace that signs people in through the product's OpenID Provider (issue #16, 6).

"Company portal" (the sandbox's demo workspace `portal`) is registered once as a public client
with PKCE; its page at /demo-workspace runs the authorization code flow as any relying party
would, over HTTP only: discovery, the authorization request (state, nonce, S256), the `iss` of
the response (RFC 9207), the code exchange, the ID token verified against the JWKS, userinfo.
Sign out revokes the refresh token and ends the provider's session (RP-initiated logout).

A stand-in, not the product: sessions are kept in memory and end with the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.bootstrap import Services
from sandbox.pages import page_response

PATH = "/demo-workspace"
SLUG, TITLE = "portal", "Company portal"  # one of sandbox.stack.DEMO_WORKSPACES
COOKIE = "demo_workspace"
SCOPE = "openid profile email phone"


@dataclass
class Pending:
    """A sign-in under way: what the callback checks the provider's answer against."""

    state: str
    nonce: str
    verifier: str


@dataclass
class Session:
    """The demo workspace's own session: who signed in, and its tokens."""

    claims: dict[str, Any] = field(default_factory=dict)
    id_token: str = ""
    refresh_token: str = ""
    pending: Pending | None = None


@dataclass
class DemoWorkspace:
    services: Services
    origin: str  # the sandbox's own origin, where the redirect URIs are
    client_id: str = ""
    sessions: dict[str, Session] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        settings = self.services.settings
        return (settings.op_issuer or settings.public_url).rstrip("/")

    @property
    def callback(self) -> str:
        return f"{self.origin}{PATH}/callback"

    @property
    def signed_out(self) -> str:
        return f"{self.origin}{PATH}/signed-out"

    async def register(self) -> str:
        """The demo workspace's client: the one made for these redirect URIs, else a new one."""
        provider = self.services.provider
        assert provider is not None, "core.bootstrap builds it"
        for view in await provider.clients():
            client = view.client
            if view.workspace_slug == SLUG and self.callback in client.redirect_uris:
                self.client_id = client.client_id
                return self.client_id
        client, _secret = await provider.add_client(
            SLUG, [self.callback, self.signed_out], confidential=False
        )
        self.client_id = client.client_id
        return self.client_id

    async def discovery(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        url = f"{self.issuer}/.well-known/openid-configuration"
        async with http.get(url) as response:
            response.raise_for_status()
            found: dict[str, Any] = await response.json()
        if found.get("issuer") != self.issuer:
            raise web.HTTPBadGateway(text="the provider names another issuer")
        return found


KEY: web.AppKey[DemoWorkspace] = web.AppKey("demo_workspace", DemoWorkspace)


def mount(app: web.Application, services: Services, origin: str) -> DemoWorkspace:
    """The demo workspace's pages on the sandbox's app; `register()` it before people use it."""
    demo = DemoWorkspace(services, origin.rstrip("/"))
    app[KEY] = demo
    app.router.add_get(PATH, home)
    app.router.add_get(f"{PATH}/", home)
    app.router.add_post(f"{PATH}/sign-in", sign_in)
    app.router.add_get(f"{PATH}/callback", callback)
    app.router.add_post(f"{PATH}/sign-out", sign_out)
    app.router.add_get(f"{PATH}/signed-out", signed_out)
    return demo


def _session(request: web.Request) -> tuple[str, Session]:
    demo = request.app[KEY]
    key = request.cookies.get(COOKIE, "")
    if key not in demo.sessions:
        key = secrets.token_urlsafe(24)
        demo.sessions[key] = Session()
    return key, demo.sessions[key]


def _keep(response: web.StreamResponse, key: str) -> web.StreamResponse:
    response.set_cookie(COOKIE, key, path=PATH, httponly=True, samesite="Lax")
    return response


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _page(request: web.Request, **context: Any) -> web.Response:
    demo = request.app[KEY]
    context.setdefault("error", "")
    context.setdefault("notice", "")
    return page_response(
        "demo_rp.html",
        title=TITLE,
        current=PATH,
        workspace=TITLE,
        ready=bool(demo.client_id),
        client_id=demo.client_id,
        issuer=demo.issuer,
        **context,
    )


async def home(request: web.Request) -> web.StreamResponse:
    """Who is signed in; a workspace that keeps a session checks it with the provider, here at
    every visit: its refresh token rotates, or the sign-in was ended (from the chat's card)."""
    demo = request.app[KEY]
    key, session = _session(request)
    notice = ""
    if session.refresh_token:
        async with aiohttp.ClientSession() as http:
            config = await demo.discovery(http)
            form = {
                "grant_type": "refresh_token",
                "refresh_token": session.refresh_token,
                "client_id": demo.client_id,
            }
            async with http.post(config["token_endpoint"], data=form) as response:
                tokens = await response.json()
        if response.status == 200:
            session.refresh_token = tokens.get("refresh_token", "")
            session.id_token = tokens.get("id_token", session.id_token)
        else:
            demo.sessions[key] = session = Session()
            notice = "Your sign-in here was ended from your account."
    return _keep(_page(request, claims=session.claims, notice=notice), key)


async def sign_in(request: web.Request) -> web.StreamResponse:
    """Off to the provider: a fresh state, nonce and PKCE verifier (S256)."""
    demo = request.app[KEY]
    if not demo.client_id:
        raise web.HTTPFound(PATH)
    key, session = _session(request)
    async with aiohttp.ClientSession() as http:
        config = await demo.discovery(http)
    pending = Pending(
        secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(48)
    )
    session.pending = pending
    challenge = base64.urlsafe_b64encode(hashlib.sha256(pending.verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": demo.client_id,
        "redirect_uri": demo.callback,
        "scope": SCOPE,
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    location = f"{config['authorization_endpoint']}?{urlencode(query)}"
    return _keep(_redirect(location), key)


async def callback(request: web.Request) -> web.StreamResponse:
    """Back from the provider: check state and `iss`, redeem the code, verify the ID token."""
    demo = request.app[KEY]
    key, session = _session(request)
    pending, session.pending = session.pending, None
    state = request.query.get("state", "")
    if pending is None or not hmac.compare_digest(state, pending.state):
        return _keep(_page(request, claims={}, error="This sign-in was not started here."), key)
    if request.query.get("iss") != demo.issuer:  # mix-up defence (RFC 9207)
        return _keep(_page(request, claims={}, error="The answer came from another issuer."), key)
    if "code" not in request.query:
        why = request.query.get("error", "no code")
        return _keep(_page(request, claims={}, error=f"Sign-in was not completed ({why})."), key)
    async with aiohttp.ClientSession() as http:
        config = await demo.discovery(http)
        form = {
            "grant_type": "authorization_code",
            "code": request.query["code"],
            "redirect_uri": demo.callback,
            "client_id": demo.client_id,
            "code_verifier": pending.verifier,
        }
        async with http.post(config["token_endpoint"], data=form) as response:
            tokens = await response.json()
            if response.status != 200:
                why = tokens.get("error", response.status)
                return _keep(_page(request, claims={}, error=f"The code was refused ({why})."), key)
        async with http.get(config["jwks_uri"]) as response:
            keys = KeySet.import_key_set(await response.json())
        claims = _verified(demo, tokens.get("id_token", ""), keys, pending.nonce)
        if claims is None:
            return _keep(_page(request, claims={}, error="The ID token did not verify."), key)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        async with http.get(config["userinfo_endpoint"], headers=headers) as response:
            info = await response.json() if response.status == 200 else {}
    if info.get("sub") == claims.get("sub"):
        claims.update(info)
    session.claims = claims
    session.id_token = tokens["id_token"]
    session.refresh_token = tokens.get("refresh_token", "")
    return _keep(_redirect(PATH), key)


def _verified(demo: DemoWorkspace, token: str, keys: KeySet, nonce: str) -> dict[str, Any] | None:
    """The ID token's claims when signed by a published key, for us, from the issuer, fresh."""
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
    except (JoseError, ValueError):
        return None
    claims = dict(decoded.claims)
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    now = demo.services.clock.now().timestamp()
    if (
        claims.get("iss") != demo.issuer
        or demo.client_id not in audiences
        or claims.get("nonce") != nonce
        or float(claims.get("exp", 0)) <= now
    ):
        return None
    return claims


async def sign_out(request: web.Request) -> web.StreamResponse:
    """The workspace forgets the person, revokes its refresh token, and ends the provider's
    session (RP-initiated logout), coming back to /demo-workspace/signed-out."""
    demo = request.app[KEY]
    key, session = _session(request)
    id_token, refresh = session.id_token, session.refresh_token
    demo.sessions[key] = Session()
    if not id_token:
        raise web.HTTPFound(PATH)
    async with aiohttp.ClientSession() as http:
        config = await demo.discovery(http)
        if refresh:
            form = {"token": refresh, "token_type_hint": "refresh_token"}
            form["client_id"] = demo.client_id
            async with http.post(config["revocation_endpoint"], data=form):
                pass
    query = {"id_token_hint": id_token, "post_logout_redirect_uri": demo.signed_out}
    return _keep(_redirect(f"{config['end_session_endpoint']}?{urlencode(query)}"), key)


async def signed_out(request: web.Request) -> web.StreamResponse:
    key, _session_now = _session(request)
    return _keep(_page(request, claims={}, notice="You are signed out of the portal."), key)
