"""Signing keys: made once, a new one published before it signs, the old kept (PRODUCT §1.11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
from joserfc import jws
from oic.oic.message import IdToken

from tests.conftest import FakeClock
from tests.web.oidc.conftest import PASSWORD, RelyingParty, off_loop
from web.oidc import keys
from web.oidc.routes import SERVER


async def published(rp: RelyingParty) -> list[str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(rp.site.url + "/oidc/jwks") as response:
            return [key["kid"] for key in (await response.json())["keys"]]


def kid_of(id_token: Any) -> str:
    return str(jws.extract_compact(id_token.jwt.encode()).headers()["kid"])


async def test_a_rotated_key_is_published_before_it_signs_and_the_old_one_kept(
    make_rp: Any, clock: FakeClock
) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    provider = rp.site.world.services.provider
    assert provider is not None
    before, _ = await rp.sign_in("ivan@example.com")
    [first] = await published(rp)
    assert kid_of(before["id_token"]) == first

    nxt = await keys.rotate(provider, timedelta(hours=1))
    assert await published(rp) == [first, nxt.kid]  # in JWKS before it signs
    during, _ = await rp.sign_in("ivan@example.com")
    assert kid_of(during["id_token"]) == first

    # A key that signs at once (say, an emergency): the relying party meets an unknown kid and
    # fetches the JWKS again, as pyoidc does at discovery.
    clock.advance(1)
    now = await keys.rotate(provider, timedelta(0))
    after, _ = await rp.sign_in("ivan@example.com")
    assert kid_of(after["id_token"]) == now.kid
    assert sorted(await published(rp)) == sorted([first, nxt.kid, now.kid])
    rp.oic.keyjar = type(rp.oic.keyjar)()
    await off_loop(rp.oic.provider_config, rp.site.url)
    # A token signed with the old key still verifies: the old key stays until its tokens expire.
    await off_loop(IdToken().from_jwt, before["id_token"].jwt, keyjar=rp.oic.keyjar)


async def test_the_first_key_is_made_once_not_at_every_start(make_rp: Any) -> None:
    rp: RelyingParty = await make_rp()
    provider = rp.site.world.services.provider
    assert provider is not None
    [kid] = await published(rp)
    await keys.ensure_key(provider)  # what a restart does
    assert await published(rp) == [kid]
    assert rp.site.app[SERVER].issuer == rp.site.url
