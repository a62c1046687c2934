"""An aiogram Dispatcher polling the sandbox end to end: a person says hi, the bot echoes."""

from __future__ import annotations

import asyncio
import contextlib

from aiogram import Dispatcher, Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from tests.sandbox.conftest import Running


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def greet(message: Message) -> None:
        await message.answer("<b>Welcome!</b>", parse_mode="HTML")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"You said: {message.text}")

    return router


async def test_a_polled_bot_answers_the_person(running: Running) -> None:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    polling = asyncio.create_task(
        dispatcher.start_polling(running.bot, polling_timeout=1, handle_signals=False)
    )
    try:
        person = await running.sandbox.person("Alice")
        await person.start()
        greeting = await person.wait_for("Welcome")
        assert "<b>Welcome!</b>" in greeting.html
        await person.send("hi")
        echoed = await person.wait_for("You said")
        assert echoed.text == "You said: hi"
    finally:
        await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
