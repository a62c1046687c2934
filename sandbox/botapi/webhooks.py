"""Pushing a bot's updates to its webhook, one at a time, retrying with backoff as Telegram."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sandbox.botapi.state import BotAccount, SandboxState, Webhook

log = logging.getLogger(__name__)
IDLE_WAIT = 30.0
POST_TIMEOUT = aiohttp.ClientTimeout(total=60)


Reply = Callable[[dict[str, Any]], Awaitable[None]]


async def _post(
    session: aiohttp.ClientSession, webhook: Webhook, update: dict[str, Any], reply: Reply
) -> str:
    """Deliver one update; an empty string on success, else the reason it failed."""
    headers = {}
    if webhook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
    try:
        async with session.post(webhook.url, json=update, headers=headers) as response:
            body = await response.read()
            if 200 <= response.status < 300:
                await _answer_in_body(body, reply)
                return ""
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"Connection failed: {type(error).__name__}"


async def _answer_in_body(body: bytes, reply: Reply) -> None:
    """Telegram runs a method the webhook answers with ({"method": ..., ...}) as a call."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return
    if isinstance(data, dict) and isinstance(data.get("method"), str):
        await reply(data)


def chat_of(update: dict[str, Any]) -> Any:
    """The chat an update belongs to (a callback: its message's chat, else its sender; updates
    with neither, such as a poll's, share one lane)."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        for holder in (value, value.get("message")):
            if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                return holder["chat"].get("id")
        for who in ("from", "user"):
            if isinstance(value.get(who), dict):
                return value[who].get("id")
    return None


async def deliver(state: SandboxState, bot: BotAccount, webhook: Webhook, reply: Reply) -> None:
    """Run until the webhook is removed. As Telegram does, updates of one chat go in sequence
    (the next only once the last was accepted, a failed one retried with backoff and holding its
    chat's later ones back) and updates of different chats go at once, up to `max_connections`
    requests in flight (grammY's "Deployment Types" guide describes Telegram so; setWebhook
    documents `max_connections`, 1-100, default 40)."""
    busy: set[Any] = set()  # chats with an update in flight
    async with (
        aiohttp.ClientSession(
            timeout=POST_TIMEOUT, connector=aiohttp.TCPConnector(limit=0)
        ) as session,
        asyncio.TaskGroup() as lanes,
    ):
        while bot.webhook is webhook:
            for update in list(bot.updates):
                if len(busy) >= webhook.max_connections:
                    break
                chat = chat_of(update)
                if chat in busy:
                    continue  # an earlier update of this chat is on its way
                busy.add(chat)
                lanes.create_task(_lane(state, bot, webhook, update, chat, busy, session, reply))
            await bot.signal.wait(IDLE_WAIT)  # a new update or a finished delivery


async def _lane(
    state: SandboxState,
    bot: BotAccount,
    webhook: Webhook,
    update: dict[str, Any],
    chat: Any,
    busy: set[Any],
    session: aiohttp.ClientSession,
    reply: Reply,
) -> None:
    """Deliver one update until it is accepted (or the webhook is gone), then free its chat."""
    failures = 0
    try:
        while bot.webhook is webhook:
            error = await _post(session, webhook, update, reply)
            if not error:
                failures = 0
                if bot.deliver_twice and update["update_id"] not in bot.repeated:
                    bot.repeated.add(update["update_id"])  # as if the answer had been lost
                    bot.redelivered += 1
                    continue
                bot.repeated.discard(update["update_id"])
                for index, pending in enumerate(bot.updates):
                    if pending is update:
                        del bot.updates[index]
                        break
                return
            webhook.last_error_date = int(state.now().timestamp())
            webhook.last_error_message = error
            delays = state.webhook_retry_delays
            delay = delays[min(failures, len(delays) - 1)]
            failures += 1
            log.info("webhook delivery for bot %s failed, retry in %ss", bot.id, delay)
            await asyncio.sleep(delay)
    finally:
        busy.discard(chat)
        bot.signal.fire()
