"""The chat page in headless Chromium: a person replies to the bot's message, forwards it back and
sends any callback data on it (a forged press), and the bot receives Telegram's shapes
(issue #15, deliverable 4)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import expect

from sandbox.botapi import SandboxState, register_botapi
from sandbox.botapi.people import post, text_fields
from tests.browser.conftest import NewPage, Serve

pytestmark = pytest.mark.browser
TOKEN = "123456789:chat-page-acts"


async def _bot_api(url: str, method: str, **params: Any) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/bot{TOKEN}/{method}", json=params) as answer:
            body = await answer.json()
    assert body["ok"], body
    return body["result"]


async def test_reply_forward_and_forged_callback_data_from_the_page(
    serve: Serve, new_page: NewPage
) -> None:
    state = SandboxState(flood_limits=False)
    bot = state.add_bot(TOKEN, username="acts_test_bot", first_name="Account Assistant")
    ivan = state.add_person("Ivan")
    post(state, bot, ivan, state.chats[ivan.id], **text_fields("/start"))
    app = web.Application()
    register_botapi(app, state)
    url = await serve(app)
    updates = await _bot_api(url, "getUpdates")
    offset = updates[-1]["update_id"] + 1
    asked = await _bot_api(url, "sendMessage", chat_id=ivan.id, text="Is this your email?")
    row = f'.row[data-message-id="{asked["message_id"]}"]'

    page = await new_page("desktop")
    await page.goto(f"{url}/chat?person={ivan.id}")
    await expect(page.locator(row)).to_contain_text("Is this your email?")

    await page.click(f'{row} button[title="Reply"]')
    await expect(page.locator("#replying")).to_contain_text("Is this your email?")
    await page.fill("#text", "yes")
    await page.press("#text", "Enter")
    await expect(page.locator(".row.out").last).to_contain_text("yes")
    await expect(page.locator("#replying")).to_be_hidden()

    await page.click(f'{row} button[title="Forward to the bot"]')
    await expect(page.locator(".row.out").last).to_contain_text("Forwarded from Account Assistant")

    page.once("dialog", lambda dialog: dialog.accept("forged:42"))
    async with page.expect_response(lambda r: f"/people/{ivan.id}/callback" in r.url) as pressed:
        await page.click(f'{row} button[title^="Send callback data"]')
    assert (await pressed.value).ok  # answered: the update is queued

    got = await _bot_api(url, "getUpdates", offset=offset)
    kinds = [next(key for key in update if key != "update_id") for update in got]
    assert kinds == ["message", "message", "callback_query"], kinds
    reply, forward, press = (update[kind] for update, kind in zip(got, kinds, strict=True))
    assert reply["text"] == "yes"
    assert reply["reply_to_message"]["message_id"] == asked["message_id"]
    assert forward["forward_origin"]["type"] == "user"
    assert forward["forward_origin"]["sender_user"]["id"] == bot.id
    assert forward["text"] == "Is this your email?"
    assert press["data"] == "forged:42"
    assert press["message"]["message_id"] == asked["message_id"]
