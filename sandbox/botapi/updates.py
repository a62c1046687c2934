"""getUpdates with long polling, and the webhook methods that switch delivery to a URL."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sandbox.botapi.calls import Call, Handler, registrar
from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.state import BotAccount, Webhook
from sandbox.botapi.webhooks import deliver

MAX_TIMEOUT = 50.0
SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def _remember_allowed(call: Call) -> None:
    if call.params.has("allowed_updates"):
        allowed = call.params.obj("allowed_updates")
        call.bot.allowed_updates = list(allowed) if allowed else None


def _confirm(bot: BotAccount, offset: int | None) -> None:
    """An offset confirms every update before it; a negative one keeps only the last few.

    With `deliver_twice` a confirmed update is kept for one more delivery, as if the
    confirmation had been lost (a bot restarted before its next getUpdates).
    """
    if offset is None:
        return
    if offset < 0:
        bot.updates = bot.updates[offset:]
        return
    kept = []
    for update in bot.updates:
        update_id = update["update_id"]
        if update_id >= offset:
            kept.append(update)
        elif bot.deliver_twice and update_id not in bot.repeated:
            bot.repeated.add(update_id)
            bot.redelivered += 1
            kept.append(update)
        else:
            bot.repeated.discard(update_id)
    bot.updates = kept


METHODS: dict[str, Handler] = {}
method = registrar(METHODS)


@method
async def get_updates(call: Call) -> Any:
    bot = call.bot
    if bot.webhook is not None:
        raise ApiError(409, WEBHOOK_ACTIVE)
    _remember_allowed(call)
    _confirm(bot, call.params.integer("offset"))
    limit = min(max(call.params.integer("limit") or 100, 1), 100)
    timeout = min(float(call.params.integer("timeout") or 0), MAX_TIMEOUT)
    bot.poll_generation += 1
    generation = bot.poll_generation
    deadline = asyncio.get_running_loop().time() + timeout
    while not bot.updates and not call.state.closing:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0 or not await bot.signal.wait(left):
            break
        if bot.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        if bot.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
    return bot.updates[:limit]


def stop_webhook(bot: BotAccount) -> None:
    if bot.webhook is not None and bot.webhook.task is not None:
        bot.webhook.task.cancel()
    bot.webhook = None


@method
async def set_webhook(call: Call) -> Any:
    url = call.params.text("url")
    secret = call.params.text("secret_token")
    if secret is not None and not SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    stop_webhook(call.bot)
    if call.params.flag("drop_pending_updates"):
        call.bot.updates.clear()
    _remember_allowed(call)
    if not url:
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    webhook = Webhook(url=url, secret_token=secret)
    webhook.max_connections = call.params.integer("max_connections") or 40
    call.bot.webhook = webhook
    # Imported here: the method table imports this module.
    from sandbox.botapi.server import run_reply

    async def reply(data: dict[str, Any]) -> None:
        await run_reply(call.state, call.bot, data)

    webhook.task = asyncio.create_task(deliver(call.state, call.bot, webhook, reply))
    # Another poller (the bot's own getUpdates) must stop waiting now.
    call.bot.poll_generation += 1
    call.bot.signal.fire()
    return True


@method
async def delete_webhook(call: Call) -> Any:
    stop_webhook(call.bot)
    if call.params.flag("drop_pending_updates"):
        call.bot.updates.clear()
    return True


@method
async def get_webhook_info(call: Call) -> Any:
    webhook = call.bot.webhook
    info: dict[str, Any] = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(call.bot.updates),
    }
    if webhook is not None:
        info["max_connections"] = webhook.max_connections
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
    if call.bot.allowed_updates:
        info["allowed_updates"] = call.bot.allowed_updates
    return info
