"""Proof with an independent client (issue #15): a small bot written with python-telegram-bot
(chosen as the most used Bot API library after aiogram; httpx underneath, form-encoded and
multipart calls, its own polling loop) runs unmodified against the sandbox: echo, an inline
keyboard with a callback and an edit, a shared contact, a forum topic, a photo."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.botapi.person_api import PIXEL
from tests.sandbox.conftest import TOKEN, Running

Context = ContextTypes.DEFAULT_TYPE


async def hello(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Tap me", callback_data="tap")]])
    await update.effective_message.reply_text(
        f"Hello, *{update.effective_user.first_name}*\\!",
        parse_mode=ParseMode.MARKDOWN_V2,
        reply_markup=keyboard,
    )


async def tapped(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Tapped")
    await query.edit_message_text("You tapped it.")


async def ask_contact(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    share = ReplyKeyboardMarkup([[KeyboardButton("Share my number", request_contact=True)]])
    await update.effective_message.reply_text("Your number, please", reply_markup=share)


async def got_contact(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None and message.contact is not None
    await message.reply_text(f"Got {message.contact.phone_number}")


async def photo(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_photo(PIXEL, caption="A <b>pixel</b>", parse_mode="HTML")


async def topic(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    group = context.bot_data["group"]
    created = await context.bot.create_forum_topic(group, update.effective_user.full_name)
    await context.bot.send_message(
        group, "A person asks for help", message_thread_id=created.message_thread_id
    )
    await update.effective_message.reply_text("An agent will answer soon")


async def echo(update: Update, context: Context) -> None:
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


def build(base_url: str) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{base_url}/bot")
        .base_file_url(f"{base_url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", hello))
    app.add_handler(CommandHandler("contact", ask_contact))
    app.add_handler(CommandHandler("photo", photo))
    app.add_handler(CommandHandler("help", topic))
    app.add_handler(CallbackQueryHandler(tapped, pattern="^tap$"))
    app.add_handler(MessageHandler(filters.CONTACT, got_contact))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
async def ptb_bot(running: Running) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = build(running.base_url)
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_a_python_telegram_bot_runs_unmodified(
    running: Running,
    ptb_bot: Application,  # type: ignore[type-arg]
) -> None:
    assert ptb_bot.bot.username == "sandbox_test_bot"  # getMe as the library reads it
    group = await running.sandbox.group("Support")
    ptb_bot.bot_data["group"] = group["id"]
    olga = await running.sandbox.agent(group, "Olga")
    ivan = await running.sandbox.person("Ivan")

    await ivan.start()
    greeting = await ivan.wait_for("Hello, Ivan!")
    assert "<b>Ivan</b>" in greeting.html
    assert await ivan.press("Tap me") is None
    await ivan.wait_for("You tapped it.")
    answer = await ivan.callback_answer()
    assert answer is not None and answer["text"] == "Tapped"

    await ivan.send("good morning")
    await ivan.wait_for("echo: good morning")

    await ivan.send("/contact")
    await ivan.wait_for("Your number, please")
    await ivan.press("Share my number")
    phone = running.state.users[ivan.id].phone_number
    await ivan.wait_for(f"Got {phone}")

    await ivan.send("/photo")
    pixel = await ivan.wait_for(lambda m: m.kind == "photo")
    assert re.search(r"<b>pixel</b>", pixel.html)

    await ivan.send("/help")
    await ivan.wait_for("An agent will answer soon")
    topics = await olga.topics()
    assert [t["name"] for t in topics] == ["Ivan"]
    await olga.wait_for("A person asks for help", thread_id=topics[0]["message_thread_id"])
