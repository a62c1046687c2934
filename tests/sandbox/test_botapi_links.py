"""A person opens links from the chat like a browser: redirects followed, cookies kept."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from sandbox.client import SandboxError
from tests.sandbox.conftest import Running


async def confirm(request: web.Request) -> web.Response:
    response = web.HTTPFound("/done")
    response.set_cookie("visited", "yes")
    raise response


async def done(request: web.Request) -> web.Response:
    return web.Response(text=f"Confirmed, cookie={request.cookies.get('visited')}")


@pytest.fixture
async def site() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/confirm", confirm)
    app.router.add_get("/done", done)
    app.router.add_get("/app", done)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


async def test_a_link_in_a_message_opens_with_redirects_and_cookies(
    running: Running, site: str
) -> None:
    person = await running.started_person()
    await running.bot.send_message(
        person.id, f'Please <a href="{site}/confirm">confirm your email</a>', parse_mode="HTML"
    )
    page = await person.open_link("confirm your email")
    assert page.ok
    assert page.url == f"{site}/done"
    assert page.text == "Confirmed, cookie=yes"


async def test_a_web_app_button_opens_with_its_signed_data(running: Running, site: str) -> None:
    person = await running.started_person()
    button = InlineKeyboardButton(text="Set a password", web_app=WebAppInfo(url=f"{site}/app"))
    markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
    await running.bot.send_message(person.id, "Tap", reply_markup=markup)
    page = await person.open_link("Set a password")
    assert page.ok
    assert page.init_data is not None
    parsed = safe_parse_webapp_init_data(running.bot.token, page.init_data)
    assert parsed.user is not None
    assert parsed.user.id == person.id


async def test_opening_something_that_is_not_a_link_fails(running: Running) -> None:
    person = await running.started_person()
    button = InlineKeyboardButton(text="Yes", callback_data="yes")
    await running.bot.send_message(
        person.id, "Sure?", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )
    with pytest.raises(SandboxError, match="neither a link nor a link button"):
        await person.open_link("Yes")
