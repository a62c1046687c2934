"""The sign-in walk through the dev IdP, as a person's browser does it (shared by tests)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from tests.web.conftest import csrf_of


@dataclass
class Walk:
    """Where each step of the walk led."""

    authorize: str = ""
    callback: str = ""
    consent: str = ""


async def to_idp(http: aiohttp.ClientSession, link: str, walk: Walk) -> None:
    async with http.get(link, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        walk.authorize = response.headers["Location"]
    async with http.get(walk.authorize) as response:
        assert response.status == 200
        assert "Dev ID" in await response.text()


async def at_idp(
    http: aiohttp.ClientSession, walk: Walk, name: str, email: str, verified: bool = True
) -> None:
    form = {"name": name, "email": email} | ({"email_verified": "on"} if verified else {})
    async with http.post(walk.authorize, data=form, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        walk.callback = response.headers["Location"]


async def authorized(
    http: aiohttp.ClientSession, link: str, name: str = "Ivan", email: str = "ivan@example.com"
) -> Walk:
    """The walk up to the provider's redirect back, with the callback URL not yet opened."""
    walk = Walk()
    await to_idp(http, link, walk)
    await at_idp(http, walk, name, email)
    return walk


async def to_consent(http: aiohttp.ClientSession, walk: Walk) -> aiohttp.ClientResponse:
    async with http.get(walk.callback, allow_redirects=False) as response:
        await response.read()
        if response.status == 303:
            walk.consent = response.headers["Location"]
        return response


async def consent_page(http: aiohttp.ClientSession, base: str, walk: Walk) -> str:
    async with http.get(base + walk.consent) as response:
        assert response.status == 200
        return await response.text()


async def answer(
    http: aiohttp.ClientSession, base: str, walk: Walk, action: str = "confirm", **extra: str
) -> tuple[int, str]:
    page = await consent_page(http, base, walk)
    form = {"csrf": csrf_of(page), "action": action, **extra}
    async with http.post(base + walk.consent, data=form) as response:
        return response.status, await response.text()


async def sign_in(
    http: aiohttp.ClientSession,
    base: str,
    link: str,
    *,
    name: str = "Ivan Petrov",
    email: str = "ivan@example.com",
) -> tuple[int, str, Walk]:
    """Link → Dev ID → callback → consent → Confirm; the final page's status and text."""
    walk = await authorized(http, link, name, email)
    response = await to_consent(http, walk)
    assert response.status == 303
    status, text = await answer(http, base, walk)
    return status, text, walk
