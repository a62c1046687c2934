"""A tap is honoured only for a button the message carries (PRODUCT §3: a forged callback), and a
double tap acts once.

Telegram does not check callback data against the message's buttons: a modified client can send
`m:signout` on any message. So before any handler runs, the data must be that of an inline button
on the message the query came from; otherwise (forged data, a message no longer accessible, no
message at all) the person gets the stale-button answer and nothing changes.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import texts
from bot.talk import Talk

log = logging.getLogger(__name__)
# The new messages the tap being handled made the bot send (a context variable: per update).
SENT: ContextVar[list[str] | None] = ContextVar("tap_sent", default=None)
LAST_TAP = "last_tap"  # in the conversation's data: [message id, callback data, when handled]


def _moment(when: object) -> datetime:
    """When a tap was handled: epoch milliseconds (13 bytes in Redis, not 34), or the ISO text
    kept before."""
    if isinstance(when, int | float):
        return datetime.fromtimestamp(when / 1000, UTC)
    return datetime.fromisoformat(str(when))


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def carries(message: object, data: str | None) -> bool:
    """Whether `message` is accessible and has an inline button with exactly this data."""
    if data is None or not isinstance(message, Message) or message.reply_markup is None:
        return False
    return any(
        button.callback_data == data
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


class HonestButtons(BaseMiddleware):
    """Outer middleware of callback queries: see the module."""

    def __init__(self) -> None:
        self._counted: set[int] = set()  # the sessions CountSends is on

    @classmethod
    def install(cls, dp: Dispatcher) -> HonestButtons:
        middleware = cls()
        dp.callback_query.outer_middleware(middleware)
        return middleware

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        if carries(event.message, event.data):
            return await self._once(handler, event, data)
        # Never the data itself in the log: it is whatever the client chose to send.
        log.info("stale or forged button refused", extra={"user_id": event.from_user.id})
        bot: Bot = data["bot"]
        try:
            await bot.answer_callback_query(event.id, text=texts.stale_button(), show_alert=True)
        except TelegramAPIError:
            log.warning("could not answer a stale button", extra={"user_id": event.from_user.id})
        return None

    async def _once(self, handler: Handler, event: CallbackQuery, data: dict[str, Any]) -> Any:
        """A double tap (the same button of the same message again, right after it made the bot
        say something) acts once: the second is answered quietly (PRODUCT §3; DOUBLE_TAP_WINDOW).

        A tap that only answered on the button (refused: "too soon") or edited the message in
        place is not remembered: tapping again is a new request, not a double tap.
        """
        talk: Talk | None = data.get("talk")
        bot: Bot = data["bot"]
        if talk is None:
            return await handler(event, data)
        message_id = event.message.message_id if event.message else 0
        tap = [message_id, event.data]
        clock, window = talk.services.clock, talk.services.settings.double_tap_window
        last = await talk.recall(LAST_TAP)
        if isinstance(last, list) and len(last) == 3 and last[:2] == tap:
            since = clock.now() - _moment(last[2])
            if since <= timedelta(seconds=window):
                with contextlib.suppress(TelegramAPIError):
                    await bot.answer_callback_query(event.id)
                return None
        self._count_sends(bot)
        sent: list[str] = []
        token = SENT.set(sent)
        try:
            result = await handler(event, data)
        finally:
            SENT.reset(token)
        if sent:
            await talk.remember(**{LAST_TAP: [*tap, round(clock.now().timestamp() * 1000)]})
        return result

    def _count_sends(self, bot: Bot) -> None:
        if id(bot.session) not in self._counted:
            self._counted.add(id(bot.session))
            bot.session.middleware(CountSends())


class CountSends(BaseRequestMiddleware):
    """Notes, for the tap being handled, every new message the bot sends (not edits, answers)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        sent = SENT.get()
        if sent is not None and type(method).__name__.startswith("Send"):
            sent.append(type(method).__name__)
        return await make_request(bot, method)


# How Telegram refuses an answer to a query it no longer holds open: answered already, older
# than its answer window, or unknown.
_EXPIRED = ("query is too old", "query id is invalid", "query_id_invalid")


class LateAnswers(BaseRequestMiddleware):
    """A tap's answer Telegram no longer takes is not an error (PRODUCT §3.5: at-least-once).

    After a crash the update being handled comes again, and its tap may have been answered by the
    dead process already, or be older than Telegram keeps a query open: the answer is refused.
    The spinner on the person's button stopped long ago and the tap's work is what counts, so the
    refusal is noted and the handling goes on, instead of an "unhandled error" that would tell
    the person the service is unavailable.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            late = any(sign in error.message.lower() for sign in _EXPIRED)
            if not (isinstance(method, AnswerCallbackQuery) and late):
                raise
            log.info("a tap's answer came after Telegram closed the query")
            # The session's result is the method's own (True), whatever the hint says.
            return cast("Response[TelegramType]", True)
