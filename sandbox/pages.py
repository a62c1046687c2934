"""The sandbox's shared page frame (head, nav, styles) and its index page at /sandbox."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/sandbox/static"

# (title, path, one line about it): the nav and the index page are made from the same list.
SECTIONS = (
    ("Chat", "/chat", "Talk to the bot as a Telegram user: type, tap buttons, share a contact."),
    ("Mailbox", "/mailbox", "Every letter the project sent, with its links clickable."),
    ("SMS", "/sms", "Every text message the project sent, codes included."),
    ("Support desk", "/desk", "The support group's topics; answer a person as an agent."),
    ("Sign-in page", "/login", "Sign in with a bound email or phone and its password."),
)


def render(title: str, body: str, *, current: str = "", extra_head: str = "") -> str:
    """A whole page: `body` is trusted HTML (escape data before putting it there)."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Sandbox</title>
<link rel="stylesheet" href="{STATIC_URL}/sandbox.css">
<script src="{STATIC_URL}/sandbox.js" defer></script>
{extra_head}
</head>
<body>
{nav(current)}
<main>
{body}
</main>
</body>
</html>
"""


def nav(current: str = "") -> str:
    """The bar on top of every sandbox page; `current` is the path of the section shown."""
    links = "".join(
        f'<a href="{path}"{_current(path == current)}>{escape(name)}</a>'
        for name, path, _ in SECTIONS
    )
    home = _current(current == "/sandbox")
    return (
        f'<nav class="topnav"><a class="brand" href="/sandbox"{home}>Sandbox</a>'
        f'<div class="links">{links}</div></nav>'
    )


def page_response(
    title: str, body: str, *, current: str = "", extra_head: str = ""
) -> web.Response:
    """An HTML response with the shared frame."""
    html = render(title, body, current=current, extra_head=extra_head)
    return web.Response(text=html, content_type="text/html")


def time_tag(moment: datetime) -> str:
    """A <time> element in UTC; the page's script shows it in the reader's own time zone."""
    return f'<time datetime="{moment.isoformat()}">{moment:%Y-%m-%d %H:%M:%S %Z}</time>'


def register_pages(app: web.Application) -> None:
    """Adds the index page (/sandbox) and the shared static files (/sandbox/static/...)."""
    app.router.add_get("/sandbox", _index)
    app.router.add_static(STATIC_URL, STATIC_DIR, name="sandbox_static")


async def _index(request: web.Request) -> web.Response:
    cards = "".join(
        f'<a class="card link-card" href="{path}"><h2>{escape(name)}</h2><p>{escape(about)}</p></a>'
        for name, path, about in SECTIONS
    )
    body = (
        "<h1>Sandbox</h1>"
        '<p class="lead">The whole project on this machine: a stand-in for Telegram, '
        "a mailbox and an SMS outbox. Nothing here leaves the computer.</p>"
        f'<div class="cards">{cards}</div>'
    )
    return page_response("Sandbox", body, current="/sandbox")


def _current(is_current: bool) -> str:
    return ' aria-current="page"' if is_current else ""
