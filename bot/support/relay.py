"""Topics and relaying: one topic per person, made again if deleted; messages both ways.

Every send goes straight to the bot: its session keeps them in order per chat, paced to
Telegram's limits, and waits out a 429 (bot/pacing.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message, User

from bot.support.desk import Desk
from core.errors import Unavailable
from core.flows.support import redact
from core.support_ports import Relayed

log = logging.getLogger(__name__)
THREAD_GONE = "message thread not found"
Card = Callable[[], Awaitable[str]]
SendTo = Callable[[int], Awaitable[Any]]


def topic_name(user: User) -> str:
    handle = f" @{user.username}" if user.username else ""
    return f"{user.full_name or user.id}{handle} · {user.id}"[:128]


async def create_topic(desk: Desk, bot: Bot, chat_id: int, user: User, card: Card) -> int:
    """A new topic for the person, remembered, with the context card at its top."""
    name = topic_name(user)
    topic = await bot.create_forum_topic(chat_id, name)
    thread = int(topic.message_thread_id)
    await desk.flow.set_topic(chat_id, user.id, thread)
    text = await card()
    await bot.send_message(chat_id, text, message_thread_id=thread)
    return thread


async def to_topic(desk: Desk, bot: Bot, chat_id: int, user: User, send: SendTo, card: Card) -> Any:
    """Send into the person's topic; one an agent deleted is made again, card first."""
    thread = await desk.flow.topic(chat_id, user.id)
    if thread is not None:
        try:
            return await send(thread)
        except TelegramBadRequest as error:
            if THREAD_GONE not in error.message:
                raise
    fresh = await create_topic(desk, bot, chat_id, user, card)
    return await send(fresh)


async def post_card(desk: Desk, bot: Bot, chat_id: int, user: User, card: Card) -> None:
    """The card on a new handoff: in the person's topic, reused when it is still there."""
    thread = await desk.flow.topic(chat_id, user.id)
    if thread is not None:
        text = await card()
        try:
            await bot.send_message(chat_id, text, message_thread_id=thread)
            return
        except TelegramBadRequest as error:
            if THREAD_GONE not in error.message:
                raise
    await create_topic(desk, bot, chat_id, user, card)


async def note(desk: Desk, bot: Bot, chat_id: int, user: User, text: str, card: Card) -> None:
    """A line from the bot to the agents in the person's topic."""

    async def send(thread: int) -> Any:
        return await bot.send_message(chat_id, text, message_thread_id=thread)

    await to_topic(desk, bot, chat_id, user, send, card)


async def person_to_topic(desk: Desk, bot: Bot, chat_id: int, message: Message, card: Card) -> None:
    """The person's message into their topic: copied, or its redacted text when it held a code."""
    assert message.from_user is not None
    origin = message.chat.id
    text = message.text
    caption = message.caption

    async def send(thread: int) -> Any:
        if text is not None and redact(text) != text:
            return await bot.send_message(
                chat_id, escape(redact(text)), message_thread_id=thread, parse_mode="HTML"
            )
        extra: dict[str, Any] = {}
        if caption is not None and redact(caption) != caption:
            extra = {"caption": escape(redact(caption)), "parse_mode": "HTML"}
        return await bot.copy_message(
            chat_id, origin, message.message_id, message_thread_id=thread, **extra
        )

    sent = await to_topic(desk, bot, chat_id, message.from_user, send, card)
    await remember(
        desk, chat_id, Relayed(message.from_user.id, message.message_id, sent.message_id)
    )


async def remember(desk: Desk, chat_id: int, relayed: Relayed) -> None:
    """Keep the pair for replies. The message has gone by now: failing here would make the
    person (or the agent) send it again, so an outage costs only the reply's quote."""
    try:
        await desk.flow.remember(chat_id, relayed)
    except Unavailable:
        log.warning("a relayed message was not remembered for replies: the database is unavailable")


async def topic_to_person(desk: Desk, bot: Bot, message: Message, person: int) -> None:
    """An agent's message to the person; the agent's name only when settings say so."""
    named = desk.services.settings.support_show_agent_names and message.from_user is not None
    name = escape(message.from_user.full_name) if named and message.from_user else ""
    reply_to = None
    if message.reply_to_message is not None:
        found = await desk.flow.by_group_message(
            message.chat.id, message.reply_to_message.message_id
        )
        reply_to = found.person_message_id if found else None

    async def send() -> Any:
        if named and message.text is not None:
            text = f"<b>{name}</b>: {escape(message.text)}"
            return await bot.send_message(
                person, text, reply_to_message_id=reply_to, allow_sending_without_reply=True
            )
        extra: dict[str, Any] = {}
        if named:
            extra["caption"] = f"<b>{name}</b>: {escape(message.caption or '')}"
        return await bot.copy_message(
            person,
            message.chat.id,
            message.message_id,
            reply_to_message_id=reply_to,
            allow_sending_without_reply=True,
            **extra,
        )

    sent = await send()
    await desk.line(person).account(sent.message_id)
    await remember(desk, message.chat.id, Relayed(person, sent.message_id, message.message_id))
