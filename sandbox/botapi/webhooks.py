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


async def deliver(state: SandboxState, bot: BotAccount, webhook: Webhook, reply: Reply) -> None:
    """Run until the webhook is removed: the oldest update first, retried until accepted."""
    failures = 0
    async with aiohttp.ClientSession(timeout=POST_TIMEOUT) as session:
        while bot.webhook is webhook:
            if not bot.updates:
                await bot.signal.wait(IDLE_WAIT)
                continue
            update = bot.updates[0]
            error = await _post(session, webhook, update, reply)
            if not error:
                failures = 0
                if bot.deliver_twice and update["update_id"] not in bot.repeated:
                    bot.repeated.add(update["update_id"])  # as if the answer had been lost
                    bot.redelivered += 1
                    continue
                bot.repeated.discard(update["update_id"])
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                continue
            webhook.last_error_date = int(state.now().timestamp())
            webhook.last_error_message = error
            delays = state.webhook_retry_delays
            delay = delays[min(failures, len(delays) - 1)]
            failures += 1
            log.info("webhook delivery for bot %s failed, retry in %ss", bot.id, delay)
            await asyncio.sleep(delay)
