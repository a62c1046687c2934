"""Support handoff (PRODUCT §1.8) through the sandbox: entry points, the card, relay and return."""

from __future__ import annotations

import pytest

from sandbox.client import Agent, Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import sign_in

HANDED_OVER = "passed our conversation to a person from support"


async def desk_agent(sandbox: Sandbox, stack: SandboxStack) -> Agent:
    """The sandbox's own support agent (made with the support group at start-up)."""
    group_id = stack.services.settings.support_chat_id
    assert group_id is not None
    groups = await sandbox.call("GET", "groups")
    group = next(g for g in groups if g["id"] == group_id)
    member = next(m["user"] for m in group["members"] if not m["user"]["is_bot"])
    return Agent(sandbox, member, group_id)


@pytest.fixture
async def agent(sandbox: Sandbox, stack: SandboxStack) -> Agent:
    return await desk_agent(sandbox, stack)


async def topic_of(agent: Agent, person: Person) -> int:
    """The thread of the person's topic, waiting for its card when it is not there yet."""
    for topic in await agent.topics():
        if topic["name"].endswith(str(person.id)):
            return int(topic["message_thread_id"])
    card = await agent.wait_for(f"Telegram id {person.id}")
    assert card.thread_id is not None
    return card.thread_id


async def signed_in(sandbox: Sandbox, browser: Browser, name: str = "Ivan") -> Person:
    person = await sandbox.person(name)
    await sign_in(person, browser, name=f"{name} Petrov")
    return person


async def test_the_support_button_hands_the_chat_to_a_person_with_a_card(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.press("Support")
    told = await ivan.wait_for(HANDED_OVER)
    assert "/end" in (told.text or "")
    card = await agent.wait_for("Support request")
    assert f"Telegram id {ivan.id}" in (card.text or "")
    assert "Account id:" in (card.text or "") and "Dev ID" in (card.text or "")
    assert "Language: en" in (card.text or "") and "Reason: the person asked" in (card.text or "")
    assert card.thread_id == await topic_of(agent, ivan)


async def test_the_command_and_the_deep_link_open_a_handoff_too(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser, "Ivan")
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    olga = await signed_in(sandbox, browser, "Olga")
    await olga.start("support")
    await olga.wait_for(HANDED_OVER)
    await agent.wait_for("Support request", thread_id=await topic_of(agent, olga))
    await agent.wait_for("Support request", thread_id=await topic_of(agent, ivan))


async def test_text_photo_and_document_go_both_ways(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    await agent.wait_for("Support request")
    thread = await topic_of(agent, ivan)
    await ivan.send("My letter never came")
    await agent.wait_for("My letter never came", thread_id=thread)
    await ivan.send_photo(caption="the screen")
    await agent.wait_for(lambda m: m.kind == "photo", thread_id=thread)
    await ivan.send_document("log line", "log.txt")
    await agent.wait_for(lambda m: m.kind == "document", thread_id=thread)
    await agent.send("Let me check", thread_id=thread)
    answer = await ivan.wait_for("Let me check")
    assert "Sam" not in (answer.text or "")  # agents stay anonymous unless settings say otherwise
    await agent.send_photo(thread_id=thread)
    await ivan.wait_for(lambda m: m.kind == "photo")
    await agent.send_document(thread_id=thread, content="steps")
    await ivan.wait_for(lambda m: m.kind == "document")
