"""Pushing a bot's updates to its webhook, one at a time, retrying with backoff as Telegram."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from sandbox.botapi.state import BotAccount, SandboxState, Webhook

log = logging.getLogger(__name__)
IDLE_WAIT = 30.0
POST_TIMEOUT = aiohttp.ClientTimeout(total=60)


async def _post(session: aiohttp.ClientSession, webhook: Webhook, update: dict[str, object]) -> str:
    """Deliver one update; an empty string on success, else the reason it failed."""
    headers = {}
    if webhook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
    try:
        async with session.post(webhook.url, json=update, headers=headers) as response:
            await response.read()
            if 200 <= response.status < 300:
                return ""
            return f"Wrong response from the webhook: {response.status} {response.reason}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return f"Connection failed: {type(error).__name__}"


async def deliver(state: SandboxState, bot: BotAccount, webhook: Webhook) -> None:
    """Run until the webhook is removed: the oldest update first, retried until accepted."""
    failures = 0
    async with aiohttp.ClientSession(timeout=POST_TIMEOUT) as session:
        while bot.webhook is webhook:
            if not bot.updates:
                await bot.signal.wait(IDLE_WAIT)
                continue
            update = bot.updates[0]
            error = await _post(session, webhook, update)
            if not error:
                failures = 0
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
