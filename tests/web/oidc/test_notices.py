"""Back-channel notices (PRODUCT §1.11, docs/PROVIDER.md): a changed email or phone, for "all my
workspaces", reaches each workspace client with a notice URI as a signed Security Event Token
(RFC 8417) pushed to a real receiver on loopback (RFC 8935), retried until it is accepted.

The deliverer's loop is off (`OP_NOTICE_INTERVAL=0`): each test ticks it itself and moves the
clock, so nothing waits on time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import KeySet

from core.adapters.db.engine import Database
from core.adapters.db.oidc import SqlProviderStore
from core.adapters.db.tables import oidc_notices
from core.adapters.db.workspaces import SqlAuditLog
from core.provider.models import Client, SubjectKind
from core.provider.notices import IDENTIFIER_CHANGED, NoticeDeliverer
from core.provider.service import ProviderService
from tests.core.flows.conftest import World, pg_world  # noqa: F401
from tests.ports import free_port
from tests.web.conftest import Site, SiteFactory
from tests.web.oidc.conftest import with_workspaces
from web.oidc import keys
from web.oidc import notices as web_notices

SET_TYPE = "application/secevent+jwt"
OLD, NEW = "old@example.com", "new@example.com"


@dataclass
class Receiver:
    """A workspace's notice endpoint: records every SET, answers the statuses queued, then 202."""

    url: str = ""
    received: list[tuple[str, str]] = field(default_factory=list)  # (content type, token)
    answers: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        async def receive(request: web.Request) -> web.Response:
            self.received.append((request.content_type, await request.text()))
            self.arrived.set()
            status = self.answers.pop(0) if self.answers else 202
            return web.Response(status=status)

        app = web.Application()
        app.router.add_post("/notices", receive)
        return app

    @property
    def tokens(self) -> list[str]:
        return [token for _, token in self.received]


async def start_receiver(stack: AsyncExitStack, port: int = 0) -> Receiver:
    receiver = Receiver()
    server = TestServer(receiver.app(), host="127.0.0.1", port=port)
    await server.start_server()
    stack.push_async_callback(server.close)
    receiver.url = str(server.make_url("/notices"))
    return receiver


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


@pytest.fixture
async def receiver(stack: AsyncExitStack) -> Receiver:
    return await start_receiver(stack)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def a_site(make_site: SiteFactory, **settings: Any) -> Site:
    return await with_workspaces(await make_site(settings={"op_notice_interval": 0, **settings}))


@pytest.fixture
async def op_site(make_site: SiteFactory) -> Site:
    return await a_site(make_site)


def provider_of(world: World) -> ProviderService:
    provider = world.services.provider
    assert provider is not None
    return provider


async def client_for(
    world: World,
    slug: str,
    notice_uri: str | None,
    *,
    consent_of: int | None = None,
    subject: SubjectKind = SubjectKind.PUBLIC,
) -> Client:
    provider = provider_of(world)
    client, _ = await provider.add_client(
        slug,
        ["https://ws.example/cb"],
        confidential=True,
        subject_kind=subject,
        notice_uri=notice_uri,
    )
    if consent_of is not None:
        await provider.grant_consent(consent_of, client.client_id, "openid email")
    return client


async def change_email(world: World, account_id: int, *, everywhere: bool = True) -> None:
    await world.services.bind_email.bind_now(
        account_id, NEW, update_workspaces=everywhere, actor="test"
    )


async def verified(site: Site, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SET's header and claims, its signature checked against the provider's JWKS."""
    async with aiohttp.ClientSession() as http, http.get(f"{site.url}/oidc/jwks") as response:
        published = KeySet.import_key_set(await response.json())
    decoded = jwt.decode(token, published, algorithms=[keys.ALG])
    return dict(decoded.header), dict(decoded.claims)


async def outbox(world: World) -> list[Any]:
    async with world.services.database.reader() as uow:
        return list(await uow.connection.execute(oidc_notices.select()))  # type: ignore[attr-defined]


async def actions(world: World, account_id: int) -> list[str]:
    async with world.services.kit.reader() as uow:
        return [event.action for event in await uow.audit.for_account(account_id)]


def deliverer(site: Site, session: aiohttp.ClientSession) -> NoticeDeliverer:
    return web_notices.deliverer(site.world.services, session)


async def test_a_changed_email_reaches_the_workspace_signed_and_once(
    op_site: Site, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    client = await client_for(world, "shop", receiver.url, consent_of=account_id)

    await change_email(world, account_id)
    assert await deliverer(op_site, session).tick() == 1

    [(content_type, token)] = receiver.received
    assert content_type == SET_TYPE
    header, claims = await verified(op_site, token)
    assert header["typ"] == "secevent+jwt" and header["alg"] == "ES256"
    assert claims["iss"] == op_site.url and claims["aud"] == client.client_id
    assert claims["sub"] == str(account_id)
    assert claims["iat"] == int(world.clock.now().timestamp()) and claims["jti"]
    event = claims["events"][IDENTIFIER_CHANGED]
    assert event["email"] == NEW and event["new-value"] == NEW and event["email_verified"]
    assert event["subject"] == {"format": "iss_sub", "iss": op_site.url, "sub": str(account_id)}
    assert OLD not in str(claims)

    # Delivered: nothing left to send, and the record says so.
    assert await deliverer(op_site, session).tick() == 0
    world.clock.advance(hours=6)
    assert await deliverer(op_site, session).tick() == 0
    assert len(receiver.received) == 1 and await outbox(world) == []
    assert "oidc.notice_delivered" in await actions(world, account_id)


async def test_a_change_not_for_all_my_workspaces_sends_nothing(
    op_site: Site, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)

    await change_email(world, account_id, everywhere=False)
    assert await deliverer(op_site, session).tick() == 0
    assert receiver.received == [] and await outbox(world) == []


async def test_only_workspaces_with_a_notice_uri_and_this_person_get_one(
    op_site: Site, stack: AsyncExitStack, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    other, _ = await world.account(email="other@example.com")
    member, consented, stranger = [await start_receiver(stack) for _ in range(3)]
    # A member of the blog workspace (no consent), with a notice URI: gets one.
    async with world.services.kit.unit() as uow:
        blog = await uow.workspaces.get("blog")
        assert blog is not None
        await uow.workspaces.add_member(blog.id, account_id, OLD, None)
        await uow.commit()
    await client_for(world, "blog", member.url)
    # Consented to shop: gets one; shop's client without a notice URI gets nothing.
    await client_for(world, "shop", consented.url, consent_of=account_id)
    await client_for(world, "shop", None, consent_of=account_id)
    # Another person's workspace client: nothing of this person.
    await client_for(world, "shop", stranger.url, consent_of=other)

    await change_email(world, account_id)
    assert await deliverer(op_site, session).tick() == 2
    assert len(member.received) == 1 and len(consented.received) == 1
    assert stranger.received == []


async def test_a_receiver_down_then_up_gets_the_notice_once_after_the_retries(
    op_site: Site, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)
    await change_email(world, account_id)
    sender = deliverer(op_site, session)
    receiver.answers = [500, 503]

    assert await sender.tick() == 1  # 500
    assert await sender.tick() == 0  # not due before OP_NOTICE_BACKOFF (30 s)
    world.clock.advance(30)
    assert await sender.tick() == 1  # 503
    world.clock.advance(59)
    assert await sender.tick() == 0  # the backoff doubled: 60 s
    world.clock.advance(1)
    assert await sender.tick() == 1  # 202
    world.clock.advance(hours=6)
    assert await sender.tick() == 0

    jtis = {(await verified(op_site, token))[1]["jti"] for token in receiver.tokens}
    assert len(receiver.received) == 3 and len(jtis) == 1  # one SET, sent again as it was
    assert await outbox(world) == []
    assert (await actions(world, account_id)).count("oidc.notice_delivered") == 1


async def test_a_refused_connection_is_retried_until_the_receiver_listens(
    op_site: Site, stack: AsyncExitStack, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    port = free_port()
    await client_for(world, "shop", f"http://127.0.0.1:{port}/notices", consent_of=account_id)
    await change_email(world, account_id)
    sender = deliverer(op_site, session)

    assert await sender.tick() == 1  # nobody listens: refused
    [row] = await outbox(world)
    assert row.attempts == 1 and row.last_error == "ClientConnectorError"
    receiver = await start_receiver(stack, port)
    world.clock.advance(30)
    assert await sender.tick() == 1
    assert len(receiver.received) == 1 and await outbox(world) == []


async def test_a_notice_never_accepted_is_given_up_and_recorded(
    make_site: SiteFactory,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = await a_site(make_site, op_notice_max_attempts=3)
    world = site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)
    await change_email(world, account_id)
    sender = deliverer(site, session)
    receiver.answers = [500] * 10

    with caplog.at_level(logging.INFO):
        for wait in (0, 30, 60):
            world.clock.advance(wait)
            assert await sender.tick() == 1
        world.clock.advance(hours=6)
        assert await sender.tick() == 0

    assert len(receiver.received) == 3 and await outbox(world) == []
    assert "oidc.notice_abandoned" in await actions(world, account_id)
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "abandoned after 3 attempts" in warning.getMessage()
    assert "n***@example.com" in warning.getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert NEW not in logged and receiver.tokens[0] not in logged


async def test_a_rolled_back_change_queues_nothing(
    op_site: Site,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)

    async def crash(self: SqlAuditLog, event: Any) -> None:
        raise RuntimeError("the process died before the commit")

    # The audit record comes after the notice is queued, in the same transaction.
    monkeypatch.setattr(SqlAuditLog, "record", crash)
    with pytest.raises(RuntimeError):
        await change_email(world, account_id)
    monkeypatch.undo()

    assert await outbox(world) == []
    assert await deliverer(op_site, session).tick() == 0 and receiver.received == []


async def test_a_pairwise_sub_differs_per_workspace(
    op_site: Site, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    clients = [
        await client_for(
            world, slug, receiver.url, consent_of=account_id, subject=SubjectKind.PAIRWISE
        )
        for slug in ("shop", "blog")
    ]
    await change_email(world, account_id)
    assert await deliverer(op_site, session).tick() == 2

    subs = {}
    for token in receiver.tokens:
        _, claims = await verified(op_site, token)
        subs[claims["aud"]] = claims["sub"]
    provider = provider_of(world)
    assert subs == {c.client_id: provider.subject(c, account_id) for c in clients}
    assert len(set(subs.values())) == 2 and str(account_id) not in subs.values()


async def test_a_newer_change_replaces_a_notice_not_yet_delivered(
    op_site: Site, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    world = op_site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)
    sender = deliverer(op_site, session)
    receiver.answers = [500]
    await change_email(world, account_id)
    assert await sender.tick() == 1  # refused: waits for its retry
    await world.services.bind_email.bind_now(
        account_id, "newest@example.com", update_workspaces=True, actor="test"
    )
    assert await sender.tick() == 1
    _, claims = await verified(op_site, receiver.tokens[-1])
    assert claims["events"][IDENTIFIER_CHANGED]["email"] == "newest@example.com"
    world.clock.advance(hours=6)
    assert await sender.tick() == 0 and len(receiver.received) == 2


async def test_two_deliverers_on_postgresql_never_send_a_notice_twice(
    pg_world: World,  # noqa: F811
    pg_url: str,
    stack: AsyncExitStack,
    session: aiohttp.ClientSession,
) -> None:
    world = pg_world
    provider = provider_of(world)
    await keys.ensure_key(provider)
    receiver = await start_receiver(stack)
    async with world.services.kit.unit() as uow:
        await uow.workspaces.create("shop", "The Shop")
        await uow.commit()
    people = [(await world.account(email=f"p{i}@example.com"))[0] for i in range(4)]
    for _ in range(10):
        client = await client_for(world, "shop", receiver.url)
        for account_id in people:
            await provider.grant_consent(account_id, client.client_id, "openid email")
    for account_id in people:
        await world.services.bind_email.bind_now(
            account_id, f"new{account_id}@example.com", update_workspaces=True, actor="test"
        )

    # A second instance: its own connection pool on the same database.
    database = Database(pg_url)
    stack.push_async_callback(database.dispose)
    other = ProviderService(
        SqlProviderStore(database), provider.keyed, world.clock, provider.lifetimes
    )
    one = web_notices.deliverer(world.services, session)
    one.policy = replace(one.policy, batch=40)  # each tick would take every notice if it could
    two = NoticeDeliverer(other, one.issuer, one.sign, one.push, one.policy)

    sent = await asyncio.gather(one.tick(), two.tick(), one.tick(), two.tick())
    assert sum(sent) == 40
    published = KeySet.import_key_set(keys.jwks(await provider.published_keys()))
    jtis = [jwt.decode(t, published, algorithms=[keys.ALG]).claims["jti"] for t in receiver.tokens]
    assert len(jtis) == 40 and len(set(jtis)) == 40
    assert await one.tick() == 0 and await two.tick() == 0


async def test_the_web_process_sends_them_by_itself(
    make_site: SiteFactory, receiver: Receiver
) -> None:
    # The app's own loop (web.oidc.notices.delivering), looking often: the test waits for the
    # receiver to be reached, not for any time to pass.
    site = await a_site(make_site, op_notice_interval=0.05)
    world = site.world
    account_id, _ = await world.account(email=OLD)
    await client_for(world, "shop", receiver.url, consent_of=account_id)

    await change_email(world, account_id)
    async with asyncio.timeout(60):
        await receiver.arrived.wait()
    _, claims = await verified(site, receiver.tokens[0])
    assert claims["events"][IDENTIFIER_CHANGED]["email"] == NEW
