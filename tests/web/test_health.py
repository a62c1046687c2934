"""Probes and metrics as an operator's load balancer and Prometheus see them (docs/DEPLOY.md)."""

from __future__ import annotations

import asyncio

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from aiohttp import web

from bot.polling import webhook_handler
from sandbox.stack import register_site
from tests.conftest import FakeClock
from tests.ports import free_port
from tests.web.conftest import Site, SiteFactory
from tests.web.standins import serve
from web.health import DRAIN, READINESS, start_metrics_server


class Telegram:
    """A readiness check standing in for getMe: answers or not, and counts the looks."""

    def __init__(self) -> None:
        self.up = True
        self.asked = 0

    async def __call__(self) -> None:
        self.asked += 1
        if not self.up:
            raise ConnectionError("Telegram is unreachable")


async def test_live_while_a_dependency_is_down_ready_only_when_all_answer(
    make_site: SiteFactory,
) -> None:
    site = await make_site(settings={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})

    async with aiohttp.ClientSession() as http:
        async with http.get(site.url + "/livez") as response:
            assert response.status == 200
        async with http.get(site.url + "/readyz") as response:
            assert response.status == 503
            assert await response.json() == {"database": "ok", "redis": "down"}


async def test_ready_asks_telegram_at_most_once_per_cache_period(
    site: Site, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    telegram = Telegram()
    site.app[READINESS].add("telegram", telegram)

    for _ in range(3):
        async with http.get(site.url + "/readyz") as response:
            assert response.status == 200
            assert await response.json() == {"database": "ok", "telegram": "ok"}
    assert telegram.asked == 1

    telegram.up = False
    clock.advance(seconds=5)  # READINESS_CACHE
    async with http.get(site.url + "/readyz") as response:
        assert response.status == 503
        assert await response.json() == {"database": "ok", "telegram": "down"}
    assert telegram.asked == 2


async def test_outage_time_and_the_dependency_gauge_are_on_metrics(
    site: Site, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    telegram = Telegram()
    telegram.up = False
    site.app[READINESS].add("telegram", telegram)
    for _ in range(3):  # three looks, 6 s apart: down for 12 s as far as anyone could see
        async with http.get(site.url + "/readyz"):
            pass
        clock.advance(seconds=6)

    async with http.get(site.url + "/metrics") as response:
        text = await response.text()

    assert 'accountbot_dependency_up{dependency="telegram"} 0.0' in text
    assert 'accountbot_dependency_up{dependency="database"} 1.0' in text
    # The scrape looked too (18 s after the first look): 18 s down.
    assert 'accountbot_dependency_down_seconds_total{dependency="telegram"} 18.0' in text


async def test_metrics_are_off_the_public_port_by_default(make_site: SiteFactory) -> None:
    site = await make_site(settings={"metrics_port": 9464})

    async with aiohttp.ClientSession() as http, http.get(site.url + "/metrics") as response:
        assert response.status == 404

    runner = await start_metrics_server(site.app, "127.0.0.1", 0)
    try:
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://{host}:{port}/metrics") as response,
        ):
            assert response.status == 200
            assert "accountbot_dependency_unavailable" in await response.text()
    finally:
        await runner.cleanup()


async def test_metrics_on_the_public_port_need_the_token(make_site: SiteFactory) -> None:
    site = await make_site(settings={"metrics_port": 9464, "metrics_token": "scrape-me-please"})

    async with aiohttp.ClientSession() as http:
        for header, status in (
            ({}, 401),
            ({"Authorization": "Bearer scrape-me-pleasX"}, 401),
            ({"Authorization": "Basic scrape-me-please"}, 401),
            ({"Authorization": "Bearer scrape-me-please"}, 200),
        ):
            async with http.get(site.url + "/metrics", headers=header) as response:
                assert response.status == status
                if status == 200:
                    assert "accountbot_updates_handled" in await response.text()
                else:
                    assert "scrape-me" not in await response.text()


async def test_a_stopping_instance_refuses_new_updates_and_finishes_the_running_one(
    make_site: SiteFactory,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    seen: list[str | None] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def slow(message: Message) -> None:
        started.set()
        await release.wait()
        seen.append(message.text)

    site = await make_site(settings={"webhook_secret": "hook-secret"})
    bot = Bot("1:test")
    app = web.Application()
    register_site(
        app,
        site.world.services,
        webhook_handler=webhook_handler(dispatcher, bot, site.world.services.settings),
    )
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}

    def update(number: int, text: str) -> dict[str, object]:
        chat = {"id": number, "type": "private"}
        return {
            "update_id": number,
            "message": {"message_id": 1, "date": 0, "chat": chat, "text": text},
        }

    async with serve(app) as base, aiohttp.ClientSession() as http:
        first = asyncio.create_task(
            http.post(base + "/telegram/webhook", json=update(1, "first"), headers=headers)
        )
        await started.wait()
        closing = asyncio.create_task(app[DRAIN].close(grace=30))
        async with http.get(base + "/readyz") as response:
            assert response.status == 503  # the proxy stops sending here
        async with http.post(
            base + "/telegram/webhook", json=update(2, "second"), headers=headers
        ) as response:
            assert response.status == 503  # not acknowledged: Telegram delivers it again
        assert not closing.done()
        release.set()
        async with await first as response:
            assert response.status == 200
        assert await closing == 0
    await bot.session.close()
    assert seen == ["first"]
