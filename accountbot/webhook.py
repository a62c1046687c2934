"""`accountbot webhook set|delete|info`: where Telegram posts the bot's updates.

`set` tells Telegram the URL (PUBLIC_URL/telegram/webhook unless `--url`), the secret token it
must send with every update (WEBHOOK_SECRET; never printed), the update types the dispatcher has
handlers for (aiogram's `resolve_used_update_types`), the most connections it may open at once
(WEBHOOK_MAX_CONNECTIONS) and, with `--drop-pending-updates`, to forget what waits. `accountbot
run` in webhook mode sets the same at start only when no webhook is set (`ensure_webhook`), so a
URL given here with `--url` stays.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime

from aiogram import Bot, Dispatcher
from aiogram.types import WebhookInfo

from core.settings import Settings

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhook = commands.add_parser("webhook", help="set, delete or show Telegram's webhook")
    verbs = webhook.add_subparsers(dest="verb", required=True)
    set_ = verbs.add_parser("set", help="point Telegram at this deployment's webhook")
    set_.add_argument("--url", help=f"default: PUBLIC_URL{WEBHOOK_PATH}")
    set_.add_argument(
        "--max-connections", type=_connections, help="1-100; default: WEBHOOK_MAX_CONNECTIONS"
    )
    set_.add_argument("--drop-pending-updates", action="store_true")
    delete = verbs.add_parser("delete", help="remove the webhook (back to polling)")
    delete.add_argument("--drop-pending-updates", action="store_true")
    verbs.add_parser("info", help="what Telegram knows of the webhook")


def _connections(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 100:
        raise argparse.ArgumentTypeError("Telegram takes 1 to 100")
    return number


def webhook_url(settings: Settings) -> str:
    return settings.public_url + WEBHOOK_PATH


async def set_webhook(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: Settings,
    *,
    url: str | None = None,
    max_connections: int | None = None,
    drop_pending_updates: bool = False,
) -> list[str]:
    """Set the webhook with the secret and the dispatcher's update types; those types."""
    if settings.webhook_secret is None:
        raise ValueError("WEBHOOK_SECRET is required: Telegram sends it with every update")
    allowed = dispatcher.resolve_used_update_types()
    await bot.set_webhook(
        url or webhook_url(settings),
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=allowed,
        max_connections=max_connections or settings.webhook_max_connections,
        drop_pending_updates=drop_pending_updates,
    )
    return allowed


async def ensure_webhook(bot: Bot, dispatcher: Dispatcher, settings: Settings) -> None:
    """At start in webhook mode: set the webhook if none is, else leave it as the operator set
    it (`accountbot webhook set`); several instances starting at once set the same."""
    info = await bot.get_webhook_info()
    if info.url:
        log.info("webhook is %s", info.url)
        if info.url != webhook_url(settings):
            log.warning("the webhook is not PUBLIC_URL%s; keeping it", WEBHOOK_PATH)
        return
    await set_webhook(bot, dispatcher, settings)
    log.info("webhook set to %s", webhook_url(settings))


def describe(info: WebhookInfo) -> str:
    lines = [
        f"URL:              {info.url or '(none: the bot polls)'}",
        f"pending updates:  {info.pending_update_count}",
    ]
    if info.max_connections is not None:
        lines.append(f"max connections:  {info.max_connections}")
    if info.allowed_updates is not None:
        lines.append(f"allowed updates:  {', '.join(info.allowed_updates) or '(all)'}")
    if info.ip_address:
        lines.append(f"IP address:       {info.ip_address}")
    if info.last_error_date is not None:
        when = _when(info.last_error_date)
        lines.append(f"last error:       {when} {info.last_error_message or ''}".rstrip())
    return "\n".join(lines)


def _when(value: datetime | int) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return datetime.fromtimestamp(value).isoformat(timespec="seconds")


async def webhook_command(args: argparse.Namespace) -> int:
    from bot.app import build_bot, build_dispatcher
    from core.bootstrap import build_services
    from core.settings import load_settings

    settings = load_settings()
    bot = build_bot(settings)
    try:
        if args.verb == "info":
            print(describe(await bot.get_webhook_info()))
        elif args.verb == "delete":
            await bot.delete_webhook(drop_pending_updates=args.drop_pending_updates)
            print("Webhook deleted: `accountbot run` with TELEGRAM_MODE=polling takes updates.")
        else:
            if settings.webhook_secret is None:
                print("WEBHOOK_SECRET is required: Telegram sends it with every update.",
                      file=sys.stderr)  # fmt: skip
                return 2
            services = build_services(settings)  # the dispatcher's routers, nothing connects
            try:
                dispatcher, _ = build_dispatcher(services, bot)
                allowed = await set_webhook(
                    bot,
                    dispatcher,
                    settings,
                    url=args.url,
                    max_connections=args.max_connections,
                    drop_pending_updates=args.drop_pending_updates,
                )
            finally:
                await services.close()
            print(f"Webhook set to {args.url or webhook_url(settings)} for {', '.join(allowed)}.")
            print(describe(await bot.get_webhook_info()))
    finally:
        await bot.session.close()
    return 0
