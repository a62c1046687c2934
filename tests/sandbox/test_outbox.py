"""The SMS outbox page lists what the project "sent", newest first, codes visible."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.outbox import SmsOutbox, register_outbox
from sandbox.pages import register_pages

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def outbox() -> SmsOutbox:
    return SmsOutbox()


@pytest.fixture
async def client(outbox: SmsOutbox) -> AsyncIterator[Client]:
    app = web.Application()
    register_pages(app)
    register_outbox(app, outbox)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_the_page_lists_a_message_with_its_code(outbox: SmsOutbox, client: Client) -> None:
    await outbox.send("+79161234567", "Your code: 482913")

    page = await (await client.get("/sms")).text()

    assert "Development outbox: these messages were not sent" in page
    assert "+79161234567" in page
    assert '<span class="code">482913</span>' in page


async def test_the_page_says_when_nothing_was_sent(client: Client) -> None:
    page = await (await client.get("/sms")).text()

    assert "No messages yet" in page


async def test_message_text_is_escaped(outbox: SmsOutbox, client: Client) -> None:
    await outbox.send("+79161234567", "<b>bold</b> & 1234")

    page = await (await client.get("/sms")).text()

    assert '&lt;b&gt;bold&lt;/b&gt; &amp; <span class="code">1234</span>' in page


async def test_the_json_api_lists_messages_newest_first(outbox: SmsOutbox, client: Client) -> None:
    await outbox.send("+79161234567", "first 111111")
    await outbox.send("+79990000000", "second 222222")
    await outbox.send("+79161234567", "third 333333")

    everything = (await (await client.get("/sandbox/api/sms")).json())["messages"]
    for_one = await client.get("/sandbox/api/sms", params={"phone": "+79161234567"})

    assert [sms["text"] for sms in everything] == ["third 333333", "second 222222", "first 111111"]
    assert everything[0]["phone"] == "+79161234567"
    assert everything[0]["at"]
    assert [sms["text"] for sms in (await for_one.json())["messages"]] == [
        "third 333333",
        "first 111111",
    ]


async def test_the_index_links_every_sandbox_page(client: Client) -> None:
    page = await (await client.get("/sandbox")).text()

    for path in ("/chat", "/mailbox", "/sms", "/desk"):
        assert f'href="{path}"' in page
    styles = await client.get("/sandbox/static/sandbox.css")
    assert styles.status == 200
