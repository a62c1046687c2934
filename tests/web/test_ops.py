"""Health, metrics, headers, the webhook, the access log and where the dev IdP may run."""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message
from aiohttp import web

from bot.polling import webhook_handler
from sandbox.idp.client import DevIdpNotOnLoopback
from sandbox.stack import create_site, register_site
from tests.conftest import FakeClock
from tests.core.flows.conftest import make_world
from tests.ports import free_port
from tests.web.conftest import Site, SiteFactory
from tests.web.standins import serve


async def test_health_is_ok_when_everything_answers(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.url + "/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"database": "ok"}


async def test_health_names_a_stopped_redis(make_site: SiteFactory) -> None:
    site = await make_site(settings={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})

    async with aiohttp.ClientSession() as http, http.get(site.url + "/healthz") as response:
        assert response.status == 503
        assert await response.json() == {"database": "ok", "redis": "down"}


async def test_metrics_count_requests_per_route_without_tokens(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.url + "/auth/start/some-secret-token-value-123"):
        pass

    async with http.get(site.url + "/metrics") as response:
        text = await response.text()

    assert 'accountbot_http_request_seconds_count{method="GET",route="/auth/start/{token}"}' in text
    assert 'accountbot_failures_total{reason="link_expired"} 1.0' in text
    assert "some-secret-token" not in text


async def test_metrics_show_the_outages_the_bot_counted(
    site: Site, http: aiohttp.ClientSession
) -> None:
    site.world.services.metrics.outages.labels("redis").inc()

    async with http.get(site.url + "/metrics") as response:
        text = await response.text()

    assert 'accountbot_dependency_unavailable_total{dependency="redis"} 1.0' in text
    assert "accountbot_http_request_seconds" in text  # the web registry is still there


async def test_pages_carry_security_headers(site: Site, http: aiohttp.ClientSession) -> None:
    async with http.get(site.url + "/login") as response:
        headers = response.headers

    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "http" not in policy.replace("https://web.telegram.org", "")


async def test_the_access_log_never_shows_a_token(
    site: Site, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        async with http.get(site.url + "/password/abcdefghijklmnopqrstuvwxyz0123456789?x=secret"):
            pass

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/password/{token}" in logged
    assert "abcdefghijklmnop" not in logged and "secret" not in logged


async def test_the_webhook_needs_telegrams_secret_token(make_site: SiteFactory) -> None:
    seen: list[str | None] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def handle(message: Message) -> None:
        seen.append(message.text)

    site = await make_site(settings={"webhook_secret": "hook-secret"})
    settings = site.world.services.settings
    bot = Bot("1:test")
    app = web.Application()
    register_site(
        app, site.world.services, webhook_handler=webhook_handler(dispatcher, bot, settings)
    )
    chat = {"id": 1, "type": "private"}
    update = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": chat, "text": "hi"}}
    async with serve(app) as base, aiohttp.ClientSession() as http:
        for secret, expected in (("no", 401), ("", 401), ("hook-secret", 200)):
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with http.post(base + "/telegram/webhook", json=update, headers=headers) as reply:
                assert reply.status == expected
        async with http.get(base + "/metrics") as reply:
            assert 'reason="webhook_secret"} 2.0' in await reply.text()
    await bot.session.close()
    assert seen == ["hi"]


async def test_the_dev_idp_refuses_to_run_off_loopback(clock: FakeClock, tmp_path: Path) -> None:
    world = await make_world(
        clock,
        f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3",
        settings={"public_url": "https://id.example.com", "dev_idp_enabled": True},
    )
    try:
        with pytest.raises(DevIdpNotOnLoopback, match="PUBLIC_URL"):
            create_site(world.services)
    finally:
        await world.services.close()


async def test_the_dev_idp_publishes_openid_discovery(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(site.url + "/idp/.well-known/openid-configuration") as response:
        meta = await response.json()
    async with http.get(meta["jwks_uri"]) as response:
        keys = await response.json()

    assert meta["issuer"] == site.url + "/idp"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert keys["keys"][0]["kty"] == "RSA" and "d" not in keys["keys"][0]


async def test_a_shared_app_keeps_its_own_pages_headers(make_site: SiteFactory) -> None:
    async def chat(request: web.Request) -> web.Response:
        return web.Response(text="<script>1</script>", content_type="text/html")

    site = await make_site()
    app = web.Application()
    app.router.add_get("/chat", chat)
    register_site(app, site.world.services)
    async with serve(app) as base, aiohttp.ClientSession() as http:
        page = await http.get(base + "/chat")
        ours = await http.get(base + "/login")

    assert "X-Frame-Options" not in page.headers
    assert "Content-Security-Policy" not in page.headers
    assert ours.headers["X-Frame-Options"] == "DENY"


def _break_databases(folder: Path) -> None:
    for path in folder.glob("web*.sqlite3"):
        path.rename(path.with_suffix(".gone"))
        path.mkdir()  # a folder where the file was: SQLite cannot open it


async def test_a_database_outage_shows_a_short_page_not_a_traceback(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    site = await make_site()
    await site.world.services.database.dispose()
    _break_databases(tmp_path)

    async with aiohttp.ClientSession() as http:
        body = {"login": "ivan@example.com", "password": "x" * 12}
        async with http.post(site.url + "/auth/login", json=body) as response:
            assert response.status == 503
            assert await response.json() == {"error": "Temporarily unavailable."}
        async with http.get(site.url + "/login") as page:
            assert page.status == 200  # the form itself needs no database
