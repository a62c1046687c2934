"""Routes: the Bot API under /bot<token>/, files, the person API and the chat page."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox.botapi import (
    callbacks,
    chats,
    files,
    forum,
    media,
    members,
    messages,
    profile,
    storage,
    updates,
)
from sandbox.botapi.calls import Call, Handler
from sandbox.botapi.catalog import KNOWN
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.group_api import GROUP_ROUTES
from sandbox.botapi.handling import counting_deliveries, settle
from sandbox.botapi.params import Params
from sandbox.botapi.person_api import PERSON_ROUTES, endpoint
from sandbox.botapi.state import BotAccount, SandboxState

log = logging.getLogger(__name__)
STATE_KEY = web.AppKey("sandbox_state", SandboxState)
METHODS: dict[str, Handler] = {
    **callbacks.METHODS,
    **chats.METHODS,
    **files.METHODS,
    **forum.METHODS,
    **media.METHODS,
    **members.METHODS,
    **messages.METHODS,
    **profile.METHODS,
    **updates.METHODS,
    "getupdates": counting_deliveries(updates.get_updates),
}


def find_method(name: str) -> Handler:
    """A method's handler (any letter case); a Bot API method the sandbox lacks is refused by
    name, anything else is Telegram's own 404 (docs/SANDBOX.md, "The Bot API")."""
    handler = METHODS.get(name.lower())
    if handler is not None:
        return handler
    known = KNOWN.get(name.lower())
    if known is not None:
        raise bad_request(f"{known} is not implemented by the sandbox (see docs/SANDBOX.md)")
    raise ApiError(404, "Not Found")


def method_handler(state: SandboxState) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """One Bot API call: the token, the method (any letter case), the parameters."""

    async def handle(request: web.Request) -> web.StreamResponse:
        bot = state.bot_by_token(request.match_info["token"])
        try:
            if bot is None:
                raise ApiError(401, "Unauthorized")
            method = find_method(request.match_info["method"])
            result = await method(Call(state, bot, await Params.read(request)))
        except ApiError as error:
            state.persist()
            return web.json_response(error.to_api(), status=error.code)
        state.persist()  # kept before it is answered: a kill after the answer loses nothing
        return web.json_response({"ok": True, "result": result})

    return handle


async def run_reply(state: SandboxState, bot: BotAccount, data: dict[str, Any]) -> None:
    """Run a method a webhook answered with; its errors go to the log, as nobody waits."""
    name = str(data.pop("method"))
    try:
        method = find_method(name)
        await method(Call(state, bot, Params(data)))
    except ApiError as error:
        log.warning("a method in a webhook reply failed: %s", error.description)
    state.persist()


def file_handler(state: SandboxState) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        stored = state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        ctype = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.content, content_type=ctype)

    return handle


def register_botapi(app: web.Application, state: SandboxState) -> None:
    """Add the Bot API, the person API and the chat page to an existing application."""
    from sandbox.chat import register_chat

    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", method_handler(state))
    app.router.add_get("/file/bot{token}/{path:.+}", files.download_handler(state))
    app.router.add_get("/sandbox/api/files/{file_id}", file_handler(state))
    for verb, path, action in (*PERSON_ROUTES, *GROUP_ROUTES):
        app.router.add_route(verb, path, endpoint(state, action))
    app.router.add_get("/sandbox/api/settled", endpoint(state, settle))
    register_chat(app)

    async def stop_webhooks(_: web.Application) -> AsyncIterator[None]:
        yield
        tasks = [
            bot.webhook.task for bot in state.bots.values() if bot.webhook and bot.webhook.task
        ]
        for bot in state.bots.values():
            updates.stop_webhook(bot)
        await asyncio.gather(*tasks, return_exceptions=True)
        if state.storage_path is not None:
            storage.save(state, state.storage_path)

    app.cleanup_ctx.append(stop_webhooks)

    async def end_long_polls(_: web.Application) -> None:
        state.close()

    app.on_shutdown.append(end_long_polls)
