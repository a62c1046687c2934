"""A relying party built with pyoidc (`oic`), an OIDC client library independent of Authlib and
of this project, against the real web app on a loopback port (PRODUCT §1.11)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from oic import rndstr
from oic.oic import Client as OicClient
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from core.provider.models import SubjectKind
from core.provider.service import ProviderService
from tests.conftest import FakeClock
from tests.web.conftest import Site, SiteFactory, cookie_session, csrf_of

T = TypeVar("T")
PASSWORD = "correct horse battery staple"
REDIRECT = "https://shop.example/cb"


async def off_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyoidc is synchronous (requests): run it in a thread while the server runs on the loop."""
    return await asyncio.to_thread(call, *args, **kwargs)


def provider_of(site: Site) -> ProviderService:
    provider = site.world.services.provider
    assert provider is not None
    return provider


@dataclass
class RelyingParty:
    """One workspace's client (pyoidc) and a browser (aiohttp with cookies)."""

    site: Site
    client_id: str
    secret: str | None
    oic: OicClient
    browser: aiohttp.ClientSession
    verifiers: dict[str, str] = field(default_factory=dict)

    def login_url(self, scope: str = "openid profile email phone", **extra: str) -> tuple[str, str]:
        state, nonce = rndstr(), rndstr()
        args: dict[str, Any] = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": scope.split(),
            "nonce": nonce,
            "redirect_uri": REDIRECT,
            "state": state,
        }
        pkce, verifier = self.oic.add_code_challenge()
        args.update(pkce)
        args.update(extra)
        self.verifiers[state] = verifier
        request = self.oic.construct_AuthorizationRequest(request_args=args)
        return request.request(self.oic.authorization_endpoint), state

    async def browse(
        self, url: str, login: str | None = None, password: str = PASSWORD, allow: bool = True
    ) -> aiohttp.ClientResponse:
        """Follow the provider's pages as a person would, up to the redirect to the workspace."""
        response = await self.browser.get(url, allow_redirects=False)
        if response.status == 200 and login is not None:
            html = await response.text()
            response = await self.browser.post(
                url,
                data={"csrf": csrf_of(html), "login": login, "password": password},
                allow_redirects=False,
            )
        if response.status == 200 and "decision" in (html := await response.text()):
            response = await self.browser.post(
                url,
                data={"csrf": csrf_of(html), "decision": "allow" if allow else "deny"},
                allow_redirects=False,
            )
        return response

    def callback(self, response: aiohttp.ClientResponse) -> AuthorizationResponse:
        assert "Location" in response.headers, (response.status, response.url)
        location = response.headers["Location"]
        assert location.startswith(REDIRECT), location
        return self.oic.parse_response(
            AuthorizationResponse, info=urlsplit(location).query, sformat="urlencoded"
        )

    async def sign_in(self, login: str, scope: str = "openid profile email phone") -> Any:
        """The whole code flow: the tokens (with a verified ID token) and the state."""
        url, state = self.login_url(scope)
        answer = self.callback(await self.browse(url, login))
        assert answer["state"] == state
        tokens = await self.exchange(answer["code"], state)
        return tokens, state

    async def exchange(self, code: str, state: str, verifier: str | None = None) -> Any:
        return await off_loop(
            self.oic.do_access_token_request,
            state=state,
            request_args={
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier or self.verifiers[state],
            },
            authn_method="client_secret_basic" if self.secret else "",
        )


def basic(rp: RelyingParty) -> str:
    return aiohttp.encode_basic_auth(rp.client_id, rp.secret or "")


def query_of(response: aiohttp.ClientResponse) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


RpFactory = Callable[..., Any]


@pytest.fixture
async def op_site(make_site: SiteFactory, clock: FakeClock) -> Site:
    # pyoidc checks `exp` and `iat` against the real time: the test clock starts at it.
    # (a little behind it, so that a test may move it on by a few seconds).
    clock.current = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    return await with_workspaces(await make_site())


async def with_workspaces(site: Site) -> Site:
    """The site with the two workspaces the tests register clients for."""
    async with site.world.services.kit.unit() as uow:
        await uow.workspaces.create("shop", "The Shop")
        await uow.workspaces.create("blog", "The Blog")
        await uow.commit()
    return site


@pytest.fixture
async def make_rp(op_site: Site) -> Any:
    sessions: list[aiohttp.ClientSession] = []

    async def make(
        slug: str = "shop",
        *,
        confidential: bool = True,
        subject: SubjectKind = SubjectKind.PUBLIC,
    ) -> RelyingParty:
        provider = provider_of(op_site)
        client, secret = await provider.add_client(
            slug, [REDIRECT], confidential=confidential, subject_kind=subject
        )
        rp = OicClient(
            client_authn_method=CLIENT_AUTHN_METHOD,
        )
        await off_loop(rp.provider_config, op_site.url)
        info = {"client_id": client.client_id, "redirect_uris": [REDIRECT]}
        if secret:
            info["client_secret"] = secret
        rp.store_registration_info(RegistrationResponse(**info))
        rp.redirect_uris = [REDIRECT]
        browser = cookie_session()
        sessions.append(browser)
        return RelyingParty(op_site, client.client_id, secret, rp, browser)

    yield make
    for session in sessions:
        await session.close()
