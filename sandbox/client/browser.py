"""Opening a link from the chat as the person's browser would: cookies kept, redirects followed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

import aiohttp


@dataclass(frozen=True)
class OpenedPage:
    """A page a person opened from the chat."""

    url: str
    status: int
    text: str
    init_data: str | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def new_browser() -> aiohttp.ClientSession:
    # unsafe=True keeps cookies set by an IP address such as 127.0.0.1.
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def open_page(browser: aiohttp.ClientSession, url: str) -> OpenedPage:
    """GET the page; a Web App's signed launch data stays in the fragment, as in Telegram."""
    address, _, fragment = url.partition("#")
    init_data = parse_qs(fragment).get("tgWebAppData", [None])[0]
    async with browser.get(address, allow_redirects=True) as response:
        text = await response.text(errors="replace")
        return OpenedPage(str(response.url), response.status, text, init_data)
