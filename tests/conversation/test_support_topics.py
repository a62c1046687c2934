"""Agents' commands in a topic of the support chat that is nobody's conversation (PRODUCT §1.8)."""

from __future__ import annotations

from sandbox.client import Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.test_support_handoff import desk_agent

NOBODY = "This topic is not a person's conversation."


async def test_close_whois_and_reopen_where_there_is_nobody_say_so(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    agent = await desk_agent(sandbox, stack)
    topic = await stack.bot.create_forum_topic(agent.group_id, "Notes")
    thread = topic.message_thread_id

    for command in ("/close", "/whois", "/reopen"):
        await agent.send(command, thread_id=thread)
    await agent.settled()

    said = [m.text for m in await agent.messages(thread) if m.from_bot]
    assert said.count(NOBODY) == 3
