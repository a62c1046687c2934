"""The sandbox's shared page frame (templates/layout.html) and its index page at /sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.templating import page

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/sandbox/static"

# (title, path, one line about it): the nav and the index page are made from the same list.
SECTIONS = (
    ("Chat", "/chat", "Talk to the bot as a Telegram user: type, tap buttons, share a contact."),
    ("Mailbox", "/mailbox", "Every letter the project sent, with its links clickable."),
    ("SMS", "/sms", "Every text message the project sent, codes included."),
    ("Support desk", "/desk", "The support group's topics; answer a person as an agent."),
    ("Sign-in page", "/login", "Sign in with a bound email or phone and its password."),
    (
        "Demo workspace",
        "/demo-workspace",
        "Company portal: a workspace that signs you in with your account (OpenID Connect).",
    ),
)


def page_response(template: str, *, title: str, current: str = "", **context: Any) -> web.Response:
    """A page of sandbox/templates in the shared frame; `current` is the section's path."""
    return page(
        template,
        title=title,
        current=current,
        sections=SECTIONS,
        static_url=STATIC_URL,
        **context,
    )


def register_pages(app: web.Application) -> None:
    """Adds the index page (/sandbox) and the shared static files (/sandbox/static/...)."""
    app.router.add_get("/sandbox", _index)
    app.router.add_static(STATIC_URL, STATIC_DIR, name="sandbox_static")


async def _index(request: web.Request) -> web.Response:
    return page_response("index.html", title="Sandbox", current="/sandbox")
