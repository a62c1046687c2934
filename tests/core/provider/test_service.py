"""The provider's rules on a real database (SQLite and PostgreSQL): PRODUCT §1.11."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.adapters.db.engine import Database
from core.adapters.db.oidc import SqlProviderStore
from core.adapters.db.tables import audit_events, oidc_codes, oidc_refresh_tokens
from core.domain.secrets import Keyed
from core.provider.models import SubjectKind
from core.provider.service import Lifetimes, ProviderError, ProviderService, s256
from tests.conftest import FakeClock
from tests.core.adapters.test_db import BACKENDS, migrated, new_accounts, url_for

LIFETIMES = Lifetimes(timedelta(seconds=60), timedelta(minutes=10), timedelta(days=30))
URI = "https://shop.example/cb"
VERIFIER = "v" * 50


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return url_for(request, tmp_path)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with migrated(db_url) as database:
        async with database.uow() as uow:
            await uow.workspaces.create("shop", "The Shop")
            await uow.workspaces.create("blog", "The Blog")
            await uow.commit()
        yield database


@pytest.fixture
def provider(db: Database, clock: FakeClock) -> ProviderService:
    return ProviderService(SqlProviderStore(db), Keyed(b"k" * 32), clock, LIFETIMES)


async def _code(provider: ProviderService, account: int, client_id: str) -> str:
    client = await provider.client(client_id)
    assert client is not None
    return await provider.issue_code(
        client, account, URI, "openid", "n", s256(VERIFIER), "S256", provider.clock.now()
    )


async def test_a_client_is_added_listed_rotated_and_removed(provider: ProviderService) -> None:
    client, secret = await provider.add_client("shop", [URI], confidential=True)
    assert secret and provider.secret_matches(client, secret)
    assert [(v.workspace_slug, v.client.client_id) for v in await provider.clients()] == [
        ("shop", client.client_id)
    ]
    fresh = await provider.rotate_secret(client.client_id)
    stored = await provider.client(client.client_id)
    assert stored is not None
    assert provider.secret_matches(stored, fresh) and not provider.secret_matches(stored, secret)
    assert await provider.remove_client(client.client_id)
    assert await provider.clients() == []


async def test_a_client_needs_a_workspace_and_exact_acceptable_uris(
    provider: ProviderService,
) -> None:
    with pytest.raises(ProviderError):
        await provider.add_client("nope", [URI], confidential=False)
    for bad in ("http://shop.example/cb", "https://shop.example/cb#x", "/cb"):
        with pytest.raises(ProviderError):
            await provider.add_client("shop", [bad], confidential=False)
    public, secret = await provider.add_client(
        "shop", ["http://127.0.0.1:9/cb"], confidential=False
    )
    assert secret is None and not public.confidential


async def test_a_code_works_once_for_its_client_uri_and_verifier(
    db: Database, provider: ProviderService, clock: FakeClock
) -> None:
    [account] = await new_accounts(db, 1)
    shop, _ = await provider.add_client("shop", [URI], confidential=False)
    blog, _ = await provider.add_client("blog", [URI], confidential=False)
    code = await _code(provider, account, shop.client_id)
    async with db.engine.connect() as conn:
        stored = await conn.scalar(sa.select(oidc_codes.c.code_hash))
    assert stored != code and code not in str(stored)  # only a keyed hash at rest
    for client_id, uri, verifier in (
        (blog.client_id, URI, VERIFIER),  # a code from another client
    ):
        with pytest.raises(ProviderError):
            await provider.redeem_code(code, client_id, uri, verifier)
    # The refused attempt used it up (single use, whatever happened).
    with pytest.raises(ProviderError):
        await provider.redeem_code(code, shop.client_id, URI, VERIFIER)

    for uri, verifier in ((URI + "x", VERIFIER), (URI, "w" * 50), (URI, "")):
        bad = await _code(provider, account, shop.client_id)
        with pytest.raises(ProviderError):
            await provider.redeem_code(bad, shop.client_id, uri, verifier)

    good = await _code(provider, account, shop.client_id)
    grant = await provider.redeem_code(good, shop.client_id, URI, VERIFIER)
    assert grant.account_id == account and grant.nonce == "n"
    with pytest.raises(ProviderError):
        await provider.redeem_code(good, shop.client_id, URI, VERIFIER)

    late = await _code(provider, account, shop.client_id)
    clock.advance(61)
    with pytest.raises(ProviderError):
        await provider.redeem_code(late, shop.client_id, URI, VERIFIER)


async def test_pkce_is_required_and_only_s256(db: Database, provider: ProviderService) -> None:
    [account] = await new_accounts(db, 1)
    shop, _ = await provider.add_client("shop", [URI], confidential=False)
    for challenge, method in (("", "S256"), (VERIFIER, "plain")):
        with pytest.raises(ProviderError):
            await provider.issue_code(
                shop, account, URI, "openid", None, challenge, method, provider.clock.now()
            )


async def test_a_reused_refresh_token_revokes_its_family(
    db: Database, provider: ProviderService
) -> None:
    [account] = await new_accounts(db, 1)
    shop, _ = await provider.add_client("shop", [URI], confidential=False)
    await provider.grant_consent(account, shop.client_id, "openid")
    first = await provider.issue_refresh(shop.client_id, account, "openid")
    _, second = await provider.rotate_refresh(first, shop.client_id)
    with pytest.raises(ProviderError):
        await provider.rotate_refresh(first, shop.client_id)  # the reuse
    with pytest.raises(ProviderError):
        await provider.rotate_refresh(second, shop.client_id)  # its successor is gone too
    async with db.engine.connect() as conn:
        actions = list(await conn.scalars(sa.select(audit_events.c.action)))
        hashes = list(await conn.scalars(sa.select(oidc_refresh_tokens.c.token_hash)))
    assert "oidc.refresh_reused" in actions
    assert first not in hashes and second not in hashes


async def test_a_refresh_token_is_bound_to_its_client(
    db: Database, provider: ProviderService
) -> None:
    [account] = await new_accounts(db, 1)
    shop, _ = await provider.add_client("shop", [URI], confidential=False)
    blog, _ = await provider.add_client("blog", [URI], confidential=False)
    await provider.grant_consent(account, shop.client_id, "openid")
    await provider.grant_consent(account, blog.client_id, "openid")
    token = await provider.issue_refresh(shop.client_id, account, "openid")
    with pytest.raises(ProviderError):
        await provider.rotate_refresh(token, blog.client_id)
    await provider.rotate_refresh(token, shop.client_id)


async def test_revoking_a_consent_lists_it_no_more_and_ends_its_refresh_tokens(
    db: Database, provider: ProviderService, clock: FakeClock
) -> None:
    [account] = await new_accounts(db, 1)
    shop, _ = await provider.add_client("shop", [URI], confidential=False)
    blog, _ = await provider.add_client("blog", [URI], confidential=False)
    await provider.grant_consent(account, shop.client_id, "openid email")
    clock.advance(5)
    await provider.grant_consent(account, blog.client_id, "openid")
    assert [(c.workspace_title, c.granted_at) for c in await provider.consents(account)] == [
        ("The Shop", clock.now() - timedelta(seconds=5)),
        ("The Blog", clock.now()),
    ]
    shop_token = await provider.issue_refresh(shop.client_id, account, "openid email")
    blog_token = await provider.issue_refresh(blog.client_id, account, "openid")

    assert await provider.revoke_consent(account, shop.client_id, "telegram:1") == 1
    assert [c.workspace_title for c in await provider.consents(account)] == ["The Blog"]
    with pytest.raises(ProviderError):
        await provider.rotate_refresh(shop_token, shop.client_id)
    await provider.rotate_refresh(blog_token, blog.client_id)  # the other workspace keeps going


async def test_the_subject_is_public_or_pairwise_per_workspace(
    db: Database, provider: ProviderService
) -> None:
    [account] = await new_accounts(db, 1)
    public, _ = await provider.add_client("shop", [URI], confidential=False)
    shop, _ = await provider.add_client(
        "shop", [URI], confidential=False, subject_kind=SubjectKind.PAIRWISE
    )
    blog, _ = await provider.add_client(
        "blog", [URI], confidential=False, subject_kind=SubjectKind.PAIRWISE
    )
    assert provider.subject(public, account) == str(account)
    assert provider.subject(shop, account) != provider.subject(blog, account)
    assert provider.subject(shop, account) != str(account)
    assert provider.subject(shop, account) == provider.subject(shop, account)


async def test_a_new_key_is_published_before_it_signs_and_the_old_kept_until_tokens_expire(
    provider: ProviderService, clock: FakeClock
) -> None:
    await provider.add_key("k1", {"kty": "EC"}, timedelta(0))
    signing = await provider.signing_key()
    assert signing and signing.kid == "k1"
    await provider.add_key("k2", {"kty": "EC"}, timedelta(hours=1))
    assert [k.kid for k in await provider.published_keys()] == ["k1", "k2"]
    assert (await provider.signing_key()).kid == "k1"  # type: ignore[union-attr]
    clock.advance(hours=1)
    assert (await provider.signing_key()).kid == "k2"  # type: ignore[union-attr]
    assert await provider.prune_keys() == []  # k1 retired, still published
    assert [k.kid for k in await provider.published_keys()] == ["k1", "k2"]
    clock.advance(minutes=10)
    assert await provider.prune_keys() == ["k1"]
    assert [k.kid for k in await provider.published_keys()] == ["k2"]


async def test_pairwise_subjects_survive_a_secret_key_rotation_under_op_pairwise_key(
    db: Database, clock: FakeClock
) -> None:
    """DEPLOY §7: SECRET_KEY rotates; with OP_PAIRWISE_KEY kept at the old value, a pairwise
    workspace still knows everyone by the same `sub` (without it, everyone would be new)."""
    [account] = await new_accounts(db, 1)
    old, new = Keyed(b"o" * 32), Keyed(b"n" * 32)
    before = ProviderService(SqlProviderStore(db), old, clock, LIFETIMES)
    shop, _ = await before.add_client(
        "shop", [URI], confidential=False, subject_kind=SubjectKind.PAIRWISE
    )
    rotated = ProviderService(SqlProviderStore(db), new, clock, LIFETIMES)
    kept = ProviderService(SqlProviderStore(db), new, clock, LIFETIMES, pairwise=old)
    assert rotated.subject(shop, account) != before.subject(shop, account)
    assert kept.subject(shop, account) == before.subject(shop, account)
