"""Headless Chromium for page tests: Debian's package driven by Playwright, pages served locally.

Chromium is the system one (`apt-get install chromium`), never `playwright install`: tests skip
with the reason when it is missing and fail under CI=true, as tests/services.py does for services.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from aiohttp import web

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # A sandboxed <iframe> (the Mailbox shows letters in one) otherwise gets its own process,
    # and after a full-page screenshot at phone size a click on it is sometimes lost.
    "--disable-features=IsolateSandboxedIframes",
]

Viewport = Literal["phone", "desktop"]
VIEWPORTS: dict[Viewport, dict[str, Any]] = {
    # An iPhone SE-sized screen: the narrowest phone the pages are meant to work on.
    "phone": {
        "viewport": {"width": 375, "height": 667},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}

Serve = Callable[[web.Application], Awaitable[str]]
NewPage = Callable[..., Awaitable[Any]]
Screenshot = Callable[[Any, str], Awaitable[Path]]


def require_chromium() -> None:
    """Skip with the reason when Chromium is absent; under CI=true that is a failure."""
    if CHROMIUM.exists():
        return
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}, and CI must run the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium, closed after the test."""
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def new_page(browser: Any) -> AsyncIterator[NewPage]:
    """Opens pages at a phone's or a desktop's size; a script error on one fails the test."""
    errors: list[str] = []
    contexts: list[Any] = []

    async def open_page(viewport: Viewport = "phone") -> Any:
        context = await browser.new_context(**VIEWPORTS[viewport])
        contexts.append(context)
        opened = await context.new_page()
        opened.on("pageerror", lambda error: errors.append(str(error)))
        return opened

    yield open_page
    for context in contexts:
        await context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture
async def page(new_page: NewPage, request: pytest.FixtureRequest) -> Any:
    """A page at a phone's size; `@pytest.mark.parametrize("page", ["desktop"], indirect=True)`."""
    return await new_page(getattr(request, "param", "phone"))


async def save_screenshot(page: Any, name: str) -> Path:
    """Saves the whole page as artifacts/screenshots/<name> (CI keeps the folder)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (name if name.endswith(".png") else f"{name}.png")
    await page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Screenshot:
    """`await screenshot(page, "mailbox.png")` saves the page for people to look at."""
    return save_screenshot


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """`base_url = await serve(app)` serves an aiohttp app on 127.0.0.1 at a free port."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in reversed(runners):
        await runner.cleanup()
