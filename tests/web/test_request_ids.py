"""Structured logs carry the update's or request's id (issue #14, deliverable 5): every line one
Telegram update or web request writes, in its own tasks too, has one `request_id`, and two
handled at the same time have two."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Chat, Message, Update, User
from aiohttp import web

from accountbot.logs import JsonFormatter, Redact, RequestId
from bot.middlewares.request_id import UpdateLogId
from tests.web.conftest import Site
from web.request_id import request_id

log = logging.getLogger("accountbot.test.request_ids")


class Lines(logging.Handler):
    """The JSON lines the product's handler would write (accountbot.logs.configure's filters)."""

    def __init__(self) -> None:
        super().__init__()
        self.addFilter(Redact())
        self.addFilter(RequestId())
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def ids(self, message: str) -> list[object]:
        return [line.get("request_id") for line in self.lines if line["message"] == message]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        log.removeHandler(handler)


def update(update_id: int, chat: int) -> Update:
    person = User(id=chat, is_bot=False, first_name="P")
    message = Message(
        message_id=1,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=chat, type="private"),
        from_user=person,
        text=f"hello {chat}",
    )
    return Update(update_id=update_id, message=message)


async def test_one_updates_lines_share_an_id_and_two_at_once_get_two(lines: Lines) -> None:
    dp = Dispatcher()
    UpdateLogId.install(dp)
    router = Router()
    started = {101: asyncio.Event(), 202: asyncio.Event()}

    @router.message()
    async def handler(message: Message) -> None:
        chat = message.chat.id
        log.info("handling %s", message.text)
        started[chat].set()
        other = 202 if chat == 101 else 101
        await started[other].wait()  # both updates are in flight before either goes on

        async def in_its_own_task() -> None:
            log.info("side task of %s", chat)

        await asyncio.create_task(in_its_own_task())
        log.info("done with %s", chat)

    dp.include_router(router)
    bot = Bot("42:" + "T" * 35)
    try:
        await asyncio.gather(
            dp.feed_update(bot, update(9001, 101)), dp.feed_update(bot, update(9002, 202))
        )
    finally:
        await bot.session.close()
    log.info("between updates")

    first = {line["request_id"] for line in lines.lines if "101" in str(line["message"])}
    second = {line["request_id"] for line in lines.lines if "202" in str(line["message"])}
    assert len([line for line in lines.lines if "101" in str(line["message"])]) == 3
    assert len(first) == 1 and len(second) == 1  # every line of one update: one id
    assert first != second  # two updates at once: two ids
    assert str(next(iter(first))).startswith("u9001-")  # found by the update's own id too
    assert str(next(iter(second))).startswith("u9002-")
    assert lines.ids("between updates") == [None]  # outside any update: no id


async def test_one_requests_lines_share_an_id_sent_back_to_the_client(lines: Lines) -> None:
    gate = asyncio.Event()
    arrived = 0

    async def page(request: web.Request) -> web.Response:
        nonlocal arrived
        log.info("request for %s", request.path)
        arrived += 1
        if arrived == 2:
            gate.set()
        await gate.wait()  # two requests in flight at once
        log.info("answering %s", request.path)
        return web.Response(text="ok")

    app = web.Application(middlewares=[request_id])
    app.router.add_get("/{name}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:

            async def get(name: str) -> str:
                async with http.get(f"http://127.0.0.1:{port}/{name}") as response:
                    return response.headers["X-Request-ID"]

            a, b = await asyncio.gather(get("a"), get("b"))
    finally:
        await runner.cleanup()
    assert a != b
    for name, ident in (("a", a), ("b", b)):
        of = [line for line in lines.lines if str(line["message"]).endswith(f"/{name}")]
        assert len(of) == 2 and {line["request_id"] for line in of} == {ident}


async def test_the_site_keeps_a_proxys_id_and_replaces_a_strange_one(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{site.url}/livez", headers={"X-Request-ID": "proxy-7f3a"}) as response:
        assert response.headers["X-Request-ID"] == "proxy-7f3a"
    strange = 'x" level="CRITICAL'
    async with http.get(f"{site.url}/livez", headers={"X-Request-ID": strange}) as response:
        assert response.headers["X-Request-ID"].startswith("w")
    async with http.get(f"{site.url}/no-such-page") as response:
        assert response.status == 404 and response.headers["X-Request-ID"].startswith("w")


async def test_the_access_log_line_carries_the_requests_id(lines: Lines) -> None:
    """aiohttp writes the access line after the request's context ended: the id still goes."""
    from web.security import MaskedAccessLogger

    async def page(request: web.Request) -> web.Response:
        log.info("in the handler")
        return web.Response(text="ok")

    app = web.Application(middlewares=[request_id])
    app.router.add_get("/page", page)
    runner = web.AppRunner(app, access_log_class=MaskedAccessLogger, access_log=log)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/page") as response,
        ):
            sent = response.headers["X-Request-ID"]
    finally:
        await runner.cleanup()
    access = [line for line in lines.lines if str(line["message"]).startswith("GET /page 200")]
    assert [line.get("request_id") for line in access] == [sent]
    assert lines.ids("in the handler") == [sent]
