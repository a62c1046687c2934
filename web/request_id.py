"""One id per web request in every log line of its handling (core.log_context), sent back as
``X-Request-ID``; a sane id from the proxy in front is kept, so its log and ours line up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from core.log_context import bound, given_or_new

HEADER = "X-Request-ID"


@web.middleware
async def request_id(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    with bound(given_or_new(request.headers.get(HEADER), "w")) as ident:
        try:
            response = await handler(request)
        except web.HTTPException as error:  # a redirect or an error page: the id goes too
            error.headers[HEADER] = ident
            raise
        response.headers[HEADER] = ident
        return response
