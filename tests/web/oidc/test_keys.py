"""Signing keys: made once, a new one published before it signs, the old kept (PRODUCT §1.11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import sqlalchemy as sa
from joserfc import jws
from oic.oauth2.message import MissingSigningKey
from oic.oic.message import IdToken
from oic.utils.keyio import KeyJar

from accountbot.oidc_keys import keys_list, keys_rotate
from core.adapters.db.tables import audit_events
from tests.conftest import FakeClock
from tests.web.oidc.conftest import PASSWORD, RelyingParty, off_loop, provider_of
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


async def verifies(rp: RelyingParty, id_token: Any) -> bool:
    """Whether pyoidc, with the JWKS fetched afresh, accepts the ID token's signature."""
    jar = KeyJar()
    await off_loop(jar.load_keys, rp.oic.provider_info, rp.site.url)
    try:
        await off_loop(IdToken().from_jwt, id_token.jwt, keyjar=jar)
    except MissingSigningKey:  # no key of the JWKS has its kid
        return False
    return True


async def test_a_rotation_signs_at_its_time_without_restart_and_the_old_key_goes_when_due(
    make_rp: Any, clock: FakeClock
) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    provider = provider_of(rp.site)
    lines: list[str] = []
    before, _ = await rp.sign_in("ivan@example.com")
    [old] = await published(rp)

    def at(seconds: float) -> str:
        return f"{clock.now() + timedelta(seconds=seconds):%Y-%m-%d %H:%M:%S} UTC"

    # What `accountbot workspace keys rotate` does, with OP_KEY_PUBLISH_AHEAD of 20 s (pyoidc
    # takes a token issued more than 30 s ahead of the real time as issued in the future).
    await keys_rotate(provider, timedelta(seconds=20), now=False, say=lines.append)
    new = next(k for k in await published(rp) if k != old)
    assert lines[0].startswith(f"New key {new}: in JWKS now, signs from ")
    assert lines[1] == "kid\tstate\tcreated"
    assert lines[2].startswith(f"{old}\tsigning\t")
    assert lines[3] == f"{new}\tpublished-ahead-until {at(20)}\t{at(0)}"
    during, _ = await rp.sign_in("ivan@example.com")
    assert kid_of(during["id_token"]) == old

    clock.advance(20)  # no restart: the server reads the signing key for every ID token
    after, _ = await rp.sign_in("ivan@example.com")
    assert kid_of(after["id_token"]) == new
    assert [await verifies(rp, t["id_token"]) for t in (before, during, after)] == [True] * 3

    lines.clear()
    await keys_list(provider, lines.append)
    ttl = provider.lifetimes.access_token.total_seconds()
    assert lines[1].startswith(f"{old}\tretiring-until {at(ttl)}\t")
    assert f"{new}\tsigning" in lines[2]

    clock.advance(ttl - 1)
    assert await published(rp) == [old, new]  # the last token it signed is still valid
    clock.advance(1)
    assert await published(rp) == [new]  # out of JWKS at once, before any prune
    assert not await verifies(rp, before["id_token"])
    assert await verifies(rp, after["id_token"])
    await keys.ensure_key(provider)  # a start prunes it from the database
    assert [s.key.kid for s in await provider.key_states()] == [new]


async def test_an_emergency_rotation_signs_at_once_and_the_old_keys_tokens_stop_verifying(
    make_rp: Any,
) -> None:
    rp: RelyingParty = await make_rp()
    await rp.site.world.account(email="ivan@example.com", password=PASSWORD)
    provider = provider_of(rp.site)
    before, _ = await rp.sign_in("ivan@example.com")
    [old] = await published(rp)
    ahead = await keys.rotate(provider, timedelta(hours=1))  # a routine one under way

    lines: list[str] = []
    await keys_rotate(provider, timedelta(hours=1), now=True, say=lines.append)
    [new] = await published(rp)
    assert lines[0].startswith(f"New key {new}: signs from now")
    assert lines[1] == f"Removed from JWKS: {old}, {ahead.kid}."
    after, _ = await rp.sign_in("ivan@example.com")
    assert kid_of(after["id_token"]) == new
    assert not await verifies(rp, before["id_token"])
    assert await verifies(rp, after["id_token"])
    async with rp.site.world.services.database.engine.connect() as conn:
        actions = list(await conn.scalars(sa.select(audit_events.c.action)))
    assert actions.count("oidc.key_removed") == 2


async def test_jwks_is_cached_no_longer_than_a_new_key_is_published_ahead(
    make_site: Any, op_site: Any
) -> None:
    short = await make_site(settings={"op_key_publish_ahead": 60})
    async with aiohttp.ClientSession() as http:
        for site, age in ((op_site, 300), (short, 60)):
            async with http.get(site.url + "/oidc/jwks") as response:
                assert response.headers["Cache-Control"] == f"public, max-age={age}"
