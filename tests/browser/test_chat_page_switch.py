"""The chat page in headless Chromium: switching people quickly never shows one person's chat
under another's name (an answer that comes late for the person switched away from is dropped),
and the bot's name is there from the start (issue #15)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import expect

from sandbox.botapi import SandboxState, register_botapi
from sandbox.botapi.people import post, text_fields
from tests.browser.conftest import NewPage, Serve

pytestmark = pytest.mark.browser
TOKEN = "123456789:chat-page-switch"


async def test_the_bots_name_is_shown_before_any_chat_is_loaded(
    serve: Serve, new_page: NewPage
) -> None:
    state = SandboxState(flood_limits=False)
    state.add_bot(TOKEN, username="switch_test_bot", first_name="Account Assistant")
    olga = state.add_person("Olga")
    app = web.Application()
    register_botapi(app, state)
    url = await serve(app)
    page = await new_page("desktop")
    await page.route(f"**/sandbox/api/people/{olga.id}/chat*", lambda route: None)  # no answer
    await page.goto(f"{url}/chat?person={olga.id}")
    await expect(page.locator("#bot-name")).to_have_text("Account Assistant")


async def test_a_late_answer_for_the_person_switched_away_from_is_not_shown(
    serve: Serve, new_page: NewPage
) -> None:
    state = SandboxState(flood_limits=False)
    bot = state.add_bot(TOKEN, username="switch_test_bot", first_name="Account Assistant")
    ivan, olga = state.add_person("Ivan"), state.add_person("Olga")
    for person, text in ((ivan, "Ivan's secret"), (olga, "Olga's note")):
        post(state, bot, person, state.chats[person.id], **text_fields(text))

    held = asyncio.Event()  # Ivan's chat is answered only once the test lets it
    hold = False

    @web.middleware
    async def slow_ivan(request: web.Request, handler: Any) -> web.StreamResponse:
        if hold and request.path == f"/sandbox/api/people/{ivan.id}/chat":
            await held.wait()
        response: web.StreamResponse = await handler(request)
        return response

    app = web.Application(middlewares=[slow_ivan])
    register_botapi(app, state)
    url = await serve(app)
    page = await new_page("desktop")

    await page.goto(f"{url}/chat?person={olga.id}")
    await expect(page.locator("#messages")).to_contain_text("Olga's note")

    hold = True
    async with page.expect_response(lambda r: f"/people/{ivan.id}/chat" in r.url) as late:
        await page.select_option("#person", str(ivan.id))  # Ivan's answer is held back
        async with page.expect_response(lambda r: f"/people/{olga.id}/chat" in r.url) as back:
            await page.select_option("#person", str(olga.id))  # and Olga is back before it
        await (await back.value).finished()
        await expect(page.locator("#messages")).to_contain_text("Olga's note")
        held.set()
    await (await late.value).finished()
    await page.evaluate("() => fetch('/sandbox/api/bots').then((r) => r.json())")  # a barrier

    await expect(page.locator("#person")).to_have_value(str(olga.id))
    await expect(page.locator("#messages")).to_contain_text("Olga's note")
    await expect(page.locator("#messages")).not_to_contain_text("Ivan's secret")


async def test_a_person_sends_voice_video_location_a_poll_and_dice_from_the_page(
    serve: Serve, new_page: NewPage
) -> None:
    state = SandboxState(flood_limits=False)
    state.add_bot(TOKEN, username="switch_test_bot", first_name="Account Assistant")
    ivan = state.add_person("Ivan")
    app = web.Application()
    register_botapi(app, state)
    url = await serve(app)
    page = await new_page("desktop")
    await page.goto(f"{url}/chat?person={ivan.id}")
    await expect(page.locator("#start")).to_be_visible()
    shown = {
        "voice": "🎤 voice message",
        "video": "🎬 video",
        "location": "📍 55.7558, 37.6173",
        "poll": "📊 Question?",
        "dice": "🎲",
    }
    for number, (kind, text) in enumerate(shown.items(), start=1):
        await page.click("#attach")
        await page.click(f"[data-attach={kind}]")
        await expect(page.locator(".row.out")).to_have_count(number)
        await expect(page.locator(".row.out").last).to_contain_text(text)
