"""The chat page: a Telegram-like chat in plain HTML and JavaScript, served at /chat."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"


async def _page(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


def register_chat(app: web.Application) -> None:
    """Serve /chat and its script and style under /sandbox/chat-static/."""
    app.router.add_get("/chat", _page)
    app.router.add_static("/sandbox/chat-static/", STATIC)
