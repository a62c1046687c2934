"""What a Telegram user does to a message, as the bot receives it (aiogram parses the updates):
replies (reply_to_message, quote), forwards (forward_origin: user, hidden_user, channel; of the
bot's own message), edits (edited_message of a text and of a caption), forged callback data."""

from __future__ import annotations

import pytest
from aiogram.types import Message, MessageOriginChannel, MessageOriginUser, Update

from sandbox.client import Person, SandboxError
from tests.sandbox.conftest import Running


async def _updates(running: Running) -> list[Update]:
    updates = await running.bot.get_updates(timeout=0)
    if updates:  # confirmed, so the next read sees only what came after
        await running.bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return updates


async def _one_message(running: Running) -> Message:
    messages = [u.message for u in await _updates(running) if u.message]
    assert len(messages) == 1
    return messages[0]


async def test_a_reply_carries_the_replied_message_and_the_quote(running: Running) -> None:
    person = await running.started_person()
    asked = await running.bot.send_message(person.id, "Your code is 1234, is it right?")
    await person.reply(asked.message_id, "yes", quote="1234")
    answer = await _one_message(running)
    assert answer.text == "yes"
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == asked.message_id
    assert answer.reply_to_message.text == "Your code is 1234, is it right?"
    assert answer.quote is not None
    assert (answer.quote.text, answer.quote.position, answer.quote.is_manual) == ("1234", 13, True)
    shown = (await person.messages())[-1]
    assert shown.reply_to == asked.message_id


async def test_a_quote_not_in_the_replied_message_is_refused(running: Running) -> None:
    person = await running.started_person()
    asked = await running.bot.send_message(person.id, "Which one?")
    with pytest.raises(SandboxError, match="QUOTE_TEXT_INVALID"):
        await person.reply(asked.message_id, "that", quote="not there")
    assert await _updates(running) == []


async def test_any_kind_of_message_can_be_a_reply(running: Running) -> None:
    person = await running.started_person()
    asked = await running.bot.send_message(person.id, "Send a photo of the document")
    await person.send_photo("here", reply_to=asked.message_id)
    answer = await _one_message(running)
    assert answer.photo
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == asked.message_id


async def test_forwarding_the_bots_message_back_keeps_its_content_and_origin(
    running: Running,
) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "<b>Card</b> №7", parse_mode="HTML")
    running.clock.advance(seconds=90)
    await person.forward(message=sent.message_id)
    forwarded = await _one_message(running)
    origin = forwarded.forward_origin
    assert isinstance(origin, MessageOriginUser)
    assert origin.sender_user.id == running.bot.id and origin.sender_user.is_bot
    assert origin.date == sent.date  # the original's date, not the forward's
    assert forwarded.text == "Card №7"
    assert [(e.type, e.offset, e.length) for e in forwarded.entities or []] == [("bold", 0, 4)]
    assert forwarded.from_user is not None and forwarded.from_user.id == person.id
    assert (await person.messages())[-1].forwarded_from == running.state.find_bot().user.first_name


async def test_a_protected_message_cannot_be_forwarded(running: Running) -> None:
    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "secret", protect_content=True)
    with pytest.raises(SandboxError, match="protected content"):
        await person.forward(message=sent.message_id)
    assert await _updates(running) == []


async def test_a_forward_from_a_channel(running: Running) -> None:
    person = await running.started_person()
    await person.forward("Big news", from_channel="Daily News")
    forwarded = await _one_message(running)
    origin = forwarded.forward_origin
    assert isinstance(origin, MessageOriginChannel)
    assert (origin.chat.type, origin.chat.title) == ("channel", "Daily News")
    assert origin.chat.id < 0 and origin.message_id >= 1
    assert (await person.messages())[-1].forwarded_from == "Daily News"


async def test_editing_a_photos_caption_is_an_edited_message(running: Running) -> None:
    person = await running.started_person()
    photo = await person.send_photo("pasport")
    await _updates(running)
    running.clock.advance(seconds=5)
    await person.edit(photo, "passport")
    (update,) = await _updates(running)
    edited = update.edited_message
    assert edited is not None and edited.message_id == photo
    assert edited.caption == "passport" and edited.photo
    assert edited.edit_date is not None


async def test_a_forward_or_a_sticker_cannot_be_edited(running: Running) -> None:
    person = await running.started_person()
    forwarded = await person.forward("from a friend", from_name="Friend")
    sticker = await person.send_sticker()
    await _updates(running)
    for message_id in (forwarded, sticker):
        with pytest.raises(SandboxError, match="message can't be edited"):
            await person.edit(message_id, "changed")
    assert await _updates(running) == []


async def test_forged_callback_data_reaches_the_bot_as_sent(running: Running) -> None:
    person: Person = await running.started_person()
    plain = await running.bot.send_message(person.id, "No buttons here")
    await person.press_data(plain.message_id, "admin:delete_all")
    (update,) = await _updates(running)
    query = update.callback_query
    assert query is not None
    assert query.data == "admin:delete_all"
    assert query.from_user.id == person.id
    assert query.message is not None and query.message.message_id == plain.message_id


async def test_an_agent_in_a_group_replies_with_a_quote(running: Running) -> None:
    group = await running.sandbox.group("Support", is_forum=False)
    agent = await running.sandbox.agent(group, "Olga")
    await _updates(running)
    asked = await running.bot.send_message(group["id"], "Ticket #7: the card is blocked")
    await agent.send("on it", reply_to=asked.message_id, quote="the card is blocked")
    answer = await _one_message(running)
    assert answer.chat.id == group["id"]
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == asked.message_id
    assert answer.quote is not None
    assert (answer.quote.text, answer.quote.position) == ("the card is blocked", 11)
