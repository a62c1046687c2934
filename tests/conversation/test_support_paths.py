"""Support handoff paths: secrets never reach agents, the step comes back, topics, outsiders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sandbox.client import Agent, Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import code_in, running_stack
from tests.conversation.test_support_handoff import (
    HANDED_OVER,
    desk_agent,
    signed_in,
    topic_of,
)

PASSWORD = "kettle under the violet moon"


@pytest.fixture
async def agent(sandbox: Sandbox, stack: SandboxStack) -> Agent:
    return await desk_agent(sandbox, stack)


async def waiting_for_code(ivan: Person, stack: SandboxStack) -> str:
    """Ivan binds ivan@example.com up to the letter's code; the code he was sent."""
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send("ivan@example.com")
    await ivan.wait_for("Create a password")
    await ivan.send(PASSWORD)
    await ivan.wait_for("I sent a letter to ivan@example.com")
    return code_in(stack.mailbox.letters(to="ivan@example.com")[0].text)


async def support_chat_texts(agent: Agent) -> list[str]:
    """What people can read of every message the sandbox recorded in the support chat."""
    fields = ("text", "html", "caption", "file_name", "forum_topic_created")
    return [
        json.dumps([m.raw.get(name) for name in fields], ensure_ascii=False)
        for m in await agent.messages()
    ]


def shows(secret: str, text: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(secret)}(?!\d)", text) is not None


async def test_close_resumes_the_code_step_and_no_secret_reaches_the_support_chat(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    code = await waiting_for_code(ivan, stack)
    await ivan.send("000000")
    await ivan.wait_for("code")
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    thread = await topic_of(agent, ivan)
    card = await agent.wait_for("Support request", thread_id=thread)
    assert "Step: binding an email — waiting for the code from the letter" in (card.text or "")
    assert "Email: i***@example.com, waiting for confirmation" in (card.text or "")  # masked
    await ivan.send(f"The code {code} does not work")
    await agent.wait_for("does not work", thread_id=thread)

    await agent.send("/close", thread_id=thread)
    back = await ivan.wait_for("Support has closed the conversation")
    assert "6-digit code" in (back.text or "")
    await agent.wait_for("Closed", thread_id=thread)
    await ivan.send(code)
    await ivan.wait_for("Email bound")

    for text in await support_chat_texts(agent):
        assert not shows(code, text) and not shows("000000", text) and PASSWORD not in text


async def test_the_offer_after_wrong_codes_opens_a_handoff_with_the_reason(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await waiting_for_code(ivan, stack)
    for wrong in ("000001", "000002", "000003"):
        await ivan.send(wrong)
    await ivan.wait_for("Would you like to write to support?")
    await ivan.press("Yes, write to support")
    await ivan.wait_for(HANDED_OVER)
    card = await agent.wait_for("Support request", thread_id=await topic_of(agent, ivan))
    assert "Reason: repeated trouble with the code from the letter" in (card.text or "")
    assert "000001" not in (card.text or "") and "[hidden]" in (card.text or "")


async def test_declining_the_offer_keeps_the_step(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack
) -> None:
    ivan = await signed_in(sandbox, browser)
    code = await waiting_for_code(ivan, stack)
    for wrong in ("000001", "000002", "000003"):
        await ivan.send(wrong)
    await ivan.wait_for("Would you like to write to support?")
    await ivan.press("No, thanks")
    await ivan.wait_for("6-digit code")
    await ivan.send(code)
    await ivan.wait_for("Email bound")


async def test_a_second_handoff_reuses_the_topic(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    thread = await topic_of(agent, ivan)
    await agent.send("/close", thread_id=thread)
    await ivan.wait_for("Support has closed the conversation")
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    await ivan.send("Me again")
    await agent.wait_for("Me again", thread_id=thread)
    assert len(await agent.topics()) == 1
    cards = [m for m in await agent.messages(thread) if "Support request" in (m.text or "")]
    assert len(cards) == 2


async def test_a_deleted_topic_is_made_again_with_the_card(
    sandbox: Sandbox, browser: Browser, stack: SandboxStack, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    thread = await topic_of(agent, ivan)
    await stack.bot.delete_forum_topic(agent.group_id, thread)  # as an agent would, in Telegram
    await ivan.send("Is anyone there?")
    message = await agent.wait_for("Is anyone there?")
    assert message.thread_id != thread
    fresh = await agent.messages(message.thread_id)
    assert any("Support request" in (m.text or "") for m in fresh)


async def test_another_chat_and_close_by_the_person_change_nothing(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    """The sandbox, like Telegram, refuses posts from non-members of the support chat itself;
    what the bot also sees is other groups, where the same words must do nothing."""
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    thread = await topic_of(agent, ivan)
    elsewhere = await sandbox.group("Elsewhere")
    eve = await sandbox.agent(elsewhere, "Eve")
    await eve.send("/close")
    await eve.send("Send me your code")
    await ivan.send("/close")
    await agent.wait_for("/close", thread_id=thread)
    await agent.send("Still here", thread_id=thread)
    await ivan.wait_for("Still here")
    await ivan.send("Good")
    await agent.wait_for("Good", thread_id=thread)
    await ivan.settled()  # Eve's messages in the other group were handled too
    texts = [m.text or "" for m in await ivan.messages()]
    assert not any("Send me your code" in t or "closed the conversation" in t for t in texts)


async def test_whois_shows_the_card_and_reopen_lets_agents_write_again(
    sandbox: Sandbox, browser: Browser, agent: Agent
) -> None:
    ivan = await signed_in(sandbox, browser)
    await ivan.send("/support")
    await ivan.wait_for(HANDED_OVER)
    thread = await topic_of(agent, ivan)
    await agent.send("/whois", thread_id=thread)
    await agent.wait_for("Support request", thread_id=thread)
    await agent.send("/close", thread_id=thread)
    await ivan.wait_for("Support has closed the conversation")
    await agent.send("/reopen", thread_id=thread)
    await ivan.wait_for("Support has reopened the conversation")
    await agent.send("One more thing", thread_id=thread)
    await ivan.wait_for("One more thing")
    await ivan.send("/end")
    await ivan.wait_for("You have left the conversation with support")
    await agent.wait_for("The person ended the conversation", thread_id=thread)


async def test_without_a_support_chat_support_says_how_to_reach_people(
    tmp_path: Path, browser: Browser
) -> None:
    contact = "Write to help@example.org, we answer within a day."
    async with running_stack(
        "sqlite+memory", tmp_path / "sandbox", support_chat_id=None, support_contact_text=contact
    ) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser)
            await ivan.send("/support")
            await ivan.wait_for("help@example.org")
            await ivan.send("/me")
            await ivan.wait_for("Your account")


async def test_agents_names_are_shown_when_settings_say_so(
    tmp_path: Path, browser: Browser
) -> None:
    folder = tmp_path / "sandbox"
    async with running_stack("sqlite+memory", folder, support_show_agent_names=True) as stack:
        async with Sandbox(stack.url) as sandbox:
            ivan = await signed_in(sandbox, browser)
            await ivan.send("/support")
            await ivan.wait_for(HANDED_OVER)
            agent = await desk_agent(sandbox, stack)
            await agent.send("Hello", thread_id=await topic_of(agent, ivan))
            answer = await ivan.wait_for("Hello")
            assert (answer.text or "").startswith("Sam Support: ")
