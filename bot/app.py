"""The Telegram layer assembled: the bot, its storage, the dispatcher with every router."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, ErrorEvent, Update
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n

from bot import texts
from bot.filters import on_the_loop
from bot.middlewares import counted
from bot.middlewares.callbacks import HonestButtons
from bot.middlewares.i18n import PersonI18n, make_i18n
from bot.middlewares.person import DuplicateUpdates, Person
from bot.middlewares.request_id import UpdateLogId
from bot.middlewares.secrets import DELETED, OPS_METRICS, Deleted, SecretMessages, dependency_of
from bot.notifier import BotNotifier
from bot.routers import get_routers
from core.bootstrap import Services
from core.errors import DomainError
from core.i18n import pick_locale
from core.metrics import OpsMetrics
from core.settings import Settings

log = logging.getLogger(__name__)


def build_bot(settings: Settings) -> Bot:
    """The bot; every call it makes is paced and waits out 429s (bot/pacing.py, PRODUCT §3)."""
    from bot.middlewares.callbacks import LateAnswers
    from bot.pacing import Pacer, Rate

    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(
        Pacer(
            retry_limit=settings.telegram_retry_limit,
            max_retry_wait=settings.telegram_max_retry_wait,
            private=Rate(*settings.telegram_pace_private),
            group=Rate(*settings.telegram_pace_group),
            overall=Rate(*settings.telegram_pace_overall),
            pacing=settings.telegram_pacing,
        )
    )
    session.middleware(LateAnswers())  # a tap answered again after a crash (PRODUCT §3.5)
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_storage(services: Services) -> tuple[BaseStorage, BaseEventIsolation | None]:
    """One Redis hash per chat and its lock when REDIS_URL is set, memory otherwise.

    The chat's lock is short and renewed while an update is handled, and taking it reads the
    conversation, letting it go writes it (bot/isolation.py): a killed process cannot keep a
    chat silent (PRODUCT §3), and an update is two Redis round trips plus its flow's own. Without
    Redis there is one process, and the polling loop keeps one chat's updates in order
    (bot/polling.py).
    """
    redis = services.redis
    if redis is None:
        return MemoryStorage(), None
    from bot.isolation import ConversationLock, RedisConversations

    settings = services.settings
    storage = RedisConversations(
        redis,
        settings.redis_prefix,
        ttl=settings.fsm_ttl,
        lock_timeout=settings.chat_lock_timeout,
        ledger_window=settings.duplicate_window,
        ledger_memory_ms=settings.duplicate_memory * 1000,
    )
    return storage, ConversationLock(storage)


def build_dispatcher(
    services: Services, bot: Bot, *, storage: BaseStorage | None = None
) -> tuple[Dispatcher, I18n]:
    """Routers, middlewares and the error handler; attaches the chat notifier to the core."""
    isolation: BaseEventIsolation | None = None
    if storage is None:
        storage, isolation = build_storage(services)
    i18n = make_i18n(services.settings.default_locale)
    kwargs: dict[str, Any] = {"storage": storage, "i18n": i18n}
    if isolation is not None:
        kwargs["events_isolation"] = isolation
    dp = Dispatcher(**kwargs)
    UpdateLogId.install(dp)  # first: every log line of an update carries its id
    counted.install(dp, services.metrics)  # updates and handler errors on /metrics
    if isolation is not None:
        from bot.isolation import CurrentUpdate

        CurrentUpdate.install(dp)  # the lock takes the update's duplicate check with it
    SecretMessages.install(dp, services)  # before the FSM and Person: outages (PRODUCT §3)
    dp.update.outer_middleware(DuplicateUpdates(services))
    dp.update.outer_middleware(Person(services))
    PersonI18n(i18n).setup(dp)
    HonestButtons.install(dp)  # a tap counts only for a button the message has (PRODUCT §3)
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    dp.include_routers(*get_routers(services))
    dp.errors.register(on_error)
    on_the_loop(dp)  # no filter waits for a worker thread (issue #13)
    services.notifier.target = BotNotifier(bot, dp, services, i18n)
    return dp, i18n


async def on_error(event: ErrorEvent, bot: Bot, **data: Any) -> bool:
    """One safety net: the person always hears something; the log gets the update id only."""
    error = event.exception
    update_id = event.update.update_id
    dependency = dependency_of(error)
    down = dependency is not None
    if dependency is not None:
        # An outage is not a bug: one line naming what is down, no traceback, counted (PRODUCT §3).
        log.warning(
            "dependency unavailable: %s",
            dependency,
            extra={"update_id": update_id, "dependency": dependency},
        )
        metrics: OpsMetrics | None = data.get(OPS_METRICS)
        if metrics is not None:
            metrics.outages.labels(dependency).inc()
    elif not isinstance(error, DomainError):
        log.error("unhandled error", extra={"update_id": update_id}, exc_info=error)
    chat_id = _private_chat_of(event.update)
    if chat_id is None:
        return True
    i18n: I18n = data["i18n"]
    user = getattr(event.update.event, "from_user", None)
    locale = data.get("locale") or pick_locale(
        getattr(user, "language_code", None), i18n.default_locale
    )
    with i18n.context(), i18n.use_locale(locale):
        down_text = texts.unavailable()
        message = texts.explain(error) if isinstance(error, DomainError) and not down else down_text
        deleted = data.get(DELETED)
        if deleted is not None:  # a password typed during the outage went (PRODUCT §3)
            safe = deleted is Deleted.UNKNOWN
            said = texts.deleted_to_be_safe() if safe else texts.deleted_password()
            message = f"{said}\n{message}"
    try:
        await bot.send_message(chat_id, message)
    except Exception:
        log.warning("could not tell the person about an error", extra={"update_id": update_id})
    return True


def _private_chat_of(update: Update) -> int | None:
    inner = update.event
    chat = getattr(inner, "chat", None) or getattr(getattr(inner, "message", None), "chat", None)
    return chat.id if chat is not None and chat.type == "private" else None


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in both languages (setMyCommands)."""
    for locale in ("en", "ru"):
        with i18n.context(), i18n.use_locale(locale):
            from aiogram.utils.i18n import gettext as _

            commands = [
                BotCommand(command="me", description=_("My account")),
                BotCommand(command="cancel", description=_("Stop the current step")),
                BotCommand(command="recover", description=_("Forgot your password?")),
                BotCommand(command="language", description=_("Language")),
                BotCommand(command="support", description=_("Talk to support")),
                BotCommand(command="help", description=_("Help")),
            ]
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeAllPrivateChats(),
            language_code=None if locale == "en" else locale,
        )
