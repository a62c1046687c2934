"""The chat page and its assets are served without a build step or outside assets."""

from __future__ import annotations

import aiohttp

from tests.sandbox.conftest import Running


async def test_the_chat_page_and_its_assets_are_served(running: Running) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{running.base_url}/chat") as page:
            html = await page.text()
        assert page.status == 200
        assert "/sandbox/chat-static/chat.js" in html
        assert "https://" not in html
        for asset in ("chat.js", "chat.css"):
            async with http.get(f"{running.base_url}/sandbox/chat-static/{asset}") as response:
                assert response.status == 200
                assert "https://" not in await response.text()
