"""What every handler reaches through the request: the services, providers, metrics, language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from core.bootstrap import Services
from core.i18n import pick_locale
from web.metrics import Metrics
from web.providers import Provider


@dataclass
class WebContext:
    """The web server's share of the composition root, one per application."""

    services: Services
    providers: Mapping[str, Provider]
    metrics: Metrics
    bot_username: Callable[[], str | None] = lambda: None
    http: aiohttp.ClientSession | None = field(default=None)

    def client(self) -> aiohttp.ClientSession:
        """The outbound HTTP session, opened on first use and closed with the app."""
        if self.http is None or self.http.closed:
            self.http = aiohttp.ClientSession()
        return self.http

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


CONTEXT = web.AppKey("accountbot_web", WebContext)


def context(request: web.Request) -> WebContext:
    return request.config_dict[CONTEXT]


# The person's language, for a page reached from the chat (a link the bot made carries it).
SPOKEN = web.RequestKey("accountbot_spoken_locale", str)


def speak(request: web.Request, locale: str | None) -> None:
    """This page answers in the person's language (the one the chat speaks, carried by the
    link), not the browser's; nothing changes without one (PRODUCT §1.10, one language)."""
    if locale:
        request[SPOKEN] = pick_locale(locale, context(request).services.settings.default_locale)


def locale_of(request: web.Request) -> str:
    """The person's language when the page was reached from the chat (`speak`), else the best
    of ru/en by the browser's Accept-Language (RFC 9110 §12.5.4 q-values)."""
    spoken: str | None = request.get(SPOKEN)
    if spoken:
        return spoken
    default = context(request).services.settings.default_locale
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, index, tag))
    for _q, _i, tag in sorted(choices):
        locale = pick_locale(tag, "")
        if locale:
            return locale
    return default
