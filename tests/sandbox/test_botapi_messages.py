"""Sending, editing, deleting, copying and forwarding, with Telegram's strict refusals."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from tests.sandbox.conftest import Running

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def inline(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def test_html_becomes_entities_and_is_shown_safely(running: Running) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(
        person.id,
        '<b>Hello</b> <a href="https://example.org">link</a> &lt;script&gt;',
        parse_mode="HTML",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert sent.text == "Hello link <script>"
    assert [e.type for e in sent.entities or []] == ["bold", "text_link"]
    shown = await person.last_message()
    assert shown is not None
    assert "<b>Hello</b>" in shown.html
    assert "&lt;script&gt;" in shown.html


async def test_broken_html_is_refused(running: Running) -> None:
    person = await running.started_person()
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await running.bot.send_message(person.id, "<b>open", parse_mode="HTML")


async def test_the_person_sees_inline_buttons_of_every_kind(running: Running) -> None:
    person = await running.started_person()
    markup = inline(
        InlineKeyboardButton(text="Yes", callback_data="yes"),
        InlineKeyboardButton(text="Site", url="https://example.org"),
    )
    await running.bot.send_message(person.id, "Choose", reply_markup=markup)
    shown = await person.last_message()
    assert shown is not None
    assert shown.buttons[0] == [
        ("Yes", "callback", "yes"),
        ("Site", "url", "https://example.org"),
    ]


async def test_a_reply_keyboard_stays_until_removed(running: Running) -> None:
    person = await running.started_person()
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share my number", request_contact=True)]],
        resize_keyboard=True,
    )
    await running.bot.send_message(person.id, "Your number?", reply_markup=keyboard)
    asking = await person.last_message()
    assert asking is not None
    assert asking.reply_keyboard == [[("Share my number", "request_contact", "")]]
    await running.bot.send_message(person.id, "Still here", reply_markup=ForceReply())
    rows = await person.reply_keyboard()
    assert rows is not None
    assert (rows[0][0].text, rows[0][0].kind) == ("Share my number", "request_contact")
    await running.bot.send_message(person.id, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert await person.reply_keyboard() is None


async def test_callback_data_over_64_bytes_is_refused(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Big", callback_data="x" * 65))
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await running.bot.send_message(person.id, "Too much", reply_markup=markup)


async def test_text_over_4096_characters_is_too_long(running: Running) -> None:
    person = await running.started_person()
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await running.bot.send_message(person.id, "a" * 4097)
    long_markup = "<b>" + "a" * 4096 + "</b>"
    await running.bot.send_message(person.id, long_markup, parse_mode="HTML")


async def test_a_bot_cannot_write_first(running: Running) -> None:
    person = await running.sandbox.person("Stranger")
    with pytest.raises(
        TelegramForbiddenError, match="Forbidden: bot can't initiate conversation with a user"
    ):
        await running.bot.send_message(person.id, "Hi there")


async def test_writing_to_an_unknown_chat_fails(running: Running) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await running.bot.send_message(555, "anyone?")


async def test_an_edit_is_seen_and_an_identical_edit_refused(running: Running) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "Draft")
    await running.bot.edit_message_text("Final", chat_id=person.id, message_id=sent.message_id)
    shown = await person.last_message()
    assert shown is not None
    assert (shown.text, shown.edited, shown.raw["history"]) == ("Final", True, ["Draft"])
    with pytest.raises(TelegramBadRequest) as refused:
        await running.bot.edit_message_text("Final", chat_id=person.id, message_id=sent.message_id)
    assert refused.value.message == NOT_MODIFIED


async def test_editing_the_markup_alone(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="A", callback_data="a"))
    sent = await running.bot.send_message(person.id, "Pick", reply_markup=markup)
    await running.bot.edit_message_reply_markup(chat_id=person.id, message_id=sent.message_id)
    shown = await person.last_message()
    assert shown is not None
    assert shown.buttons == []
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await running.bot.edit_message_reply_markup(chat_id=person.id, message_id=sent.message_id)


async def test_a_deleted_message_stays_visible_as_deleted(running: Running) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "Secret code 123456")
    assert await running.bot.delete_message(person.id, sent.message_id) is True
    deleted = [m for m in await person.messages() if m.message_id == sent.message_id]
    assert deleted[0].deleted is True
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await running.bot.delete_message(person.id, sent.message_id)


async def test_a_message_older_than_48_hours_cannot_be_deleted(running: Running) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "Old news")
    running.clock.advance(hours=48, seconds=1)
    with pytest.raises(
        TelegramBadRequest, match="Bad Request: message can't be deleted for everyone"
    ):
        await running.bot.delete_message(person.id, sent.message_id)


async def test_copy_and_forward_between_chats(running: Running) -> None:
    alice = await running.started_person("Alice")
    bob = await running.started_person("Bob")
    original = await alice.send("Please help")
    copied = await running.bot.copy_message(bob.id, alice.id, original)
    forwarded = await running.bot.forward_message(bob.id, alice.id, original)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.first_name == "Alice"  # type: ignore[union-attr]
    texts = [(m.message_id, m.text) for m in await bob.messages()]
    assert (copied.message_id, "Please help") in texts


async def test_protected_content_cannot_be_forwarded(running: Running) -> None:
    alice = await running.started_person("Alice")
    bob = await running.started_person("Bob")
    sent = await running.bot.send_message(alice.id, "Only for you", protect_content=True)
    with pytest.raises(TelegramBadRequest, match="protected content"):
        await running.bot.forward_message(bob.id, alice.id, sent.message_id)


async def test_a_reply_quotes_the_persons_message(running: Running) -> None:
    person = await running.started_person()
    asked = await person.send("What is my login?")
    answer = await running.bot.send_message(
        person.id, "alice@example.org", reply_parameters=ReplyParameters(message_id=asked)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "What is my login?"
    shown = await person.last_message()
    assert shown is not None
    reply_to = {"message_id": asked, "text": "What is my login?", "quote": None}  # no quote asked
    assert shown.raw["reply_to"] == reply_to
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await running.bot.send_message(
            person.id, "?", reply_parameters=ReplyParameters(message_id=9999)
        )


async def test_a_caption_can_be_edited(running: Running) -> None:
    person = await running.started_person()
    photo = BufferedInputFile(b"img", filename="qr.png")
    sent = await running.bot.send_photo(person.id, photo, caption="Scan me")
    await running.bot.edit_message_caption(
        chat_id=person.id, message_id=sent.message_id, caption="Expired"
    )
    shown = await person.last_message()
    assert shown is not None
    assert (shown.kind, shown.text, shown.edited) == ("photo", "Expired", True)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await running.bot.edit_message_caption(
            chat_id=person.id, message_id=sent.message_id, caption="Expired"
        )
