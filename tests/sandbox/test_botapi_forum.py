"""A forum supergroup for support: topics, agents writing into them, the bot's replies."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest

from tests.sandbox.conftest import Running


async def test_topics_open_edit_close_reopen_and_delete(running: Running) -> None:
    group = await running.sandbox.group("Support")
    agent = await running.sandbox.agent(group)
    topic = await running.bot.create_forum_topic(group["id"], "Alice #1")
    await running.bot.edit_forum_topic(group["id"], topic.message_thread_id, name="Alice (done)")
    await running.bot.close_forum_topic(group["id"], topic.message_thread_id)
    assert [(t["name"], t["closed"]) for t in await agent.topics()] == [("Alice (done)", True)]
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await running.bot.close_forum_topic(group["id"], topic.message_thread_id)
    await running.bot.reopen_forum_topic(group["id"], topic.message_thread_id)
    await running.bot.delete_forum_topic(group["id"], topic.message_thread_id)
    assert await agent.topics() == []
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await running.bot.send_message(
            group["id"], "late", message_thread_id=topic.message_thread_id
        )


async def test_an_agent_answers_in_a_topic_and_the_bot_reads_it(running: Running) -> None:
    group = await running.sandbox.group("Support")
    agent = await running.sandbox.agent(group, "Olga")
    topic = await running.bot.create_forum_topic(group["id"], "Bob")
    thread = topic.message_thread_id
    await running.bot.send_message(group["id"], "Bob asks for help", message_thread_id=thread)
    asked = await agent.messages(thread)
    assert [m.text for m in asked if m.kind == "text"] == ["Bob asks for help"]
    await agent.send("We are on it", thread_id=thread)
    await agent.send_photo(thread_id=thread)
    messages = [u.message for u in await running.bot.get_updates(timeout=0) if u.message]
    assert (messages[0].text, messages[0].message_thread_id) == ("We are on it", thread)
    assert messages[1].photo is not None


async def test_a_closed_topic_refuses_agents(running: Running) -> None:
    group = await running.sandbox.group("Support")
    agent = await running.sandbox.agent(group, status="member")
    topic = await running.bot.create_forum_topic(group["id"], "Closed")
    await running.bot.close_forum_topic(group["id"], topic.message_thread_id)
    with pytest.raises(Exception, match="TOPIC_CLOSED"):
        await agent.send("hello?", thread_id=topic.message_thread_id)


async def test_topics_need_a_forum(running: Running) -> None:
    group = await running.sandbox.group("Plain", is_forum=False)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await running.bot.create_forum_topic(group["id"], "x")


async def test_an_agent_replies_to_the_bots_message(running: Running) -> None:
    group = await running.sandbox.group("Support")
    agent = await running.sandbox.agent(group, "Olga")
    topic = await running.bot.create_forum_topic(group["id"], "Carol")
    thread = topic.message_thread_id
    question = await running.bot.send_message(group["id"], "Carol: help", message_thread_id=thread)
    await agent.send("Hello Carol", thread_id=thread, reply_to=question.message_id)
    message = (await running.bot.get_updates(timeout=0))[-1].message
    assert message is not None
    assert message.reply_to_message is not None
    assert message.reply_to_message.text == "Carol: help"
