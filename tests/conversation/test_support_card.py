"""What agents see (PRODUCT §1.8), in their language (DEFAULT_LOCALE): the card says the step
and the reason in words, not the bot's internal names, and is not the person's own card; the
person's ordinary words reach them as written, while a typed password does not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.client import Agent, Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import running_stack
from tests.conversation.test_support_handoff import desk_agent, topic_of
from tests.conversation.test_support_offer import (
    LANGUAGES,
    has_button,
    signed_in,
    to_sms_code,
    words,
)

ORDINARY = {
    "en": "Unfortunately, I cannot bind my phone. Thanks!",
    "ru": "Здравствуйте, не получается привязать телефон. Спасибо!",
}
STILL = {
    "en": "Hello, world. Everything else works, honestly.",
    "ru": "Здравствуйте, остальное работает, честно. Спасибо!",
}
PASSWORD = "Kettle-9!moon"
TYPED = {"en": f"my password is {PASSWORD}", "ru": f"мой пароль {PASSWORD}"}
STEP = "binding a phone — waiting for the SMS code"


@dataclass
class Scene:
    """Ivan, signed in, and an agent, both speaking `language` (DEFAULT_LOCALE for agents)."""

    language: str
    t: Callable[[str], str]
    stack: SandboxStack
    agent: Agent
    ivan: Person

    async def card(self) -> tuple[int, str]:
        """Ivan's topic and the text of the card at its top, once it is there."""
        thread = await topic_of(self.agent, self.ivan)
        card = await self.agent.wait_for(self.t("<b>Support request</b>"), thread_id=thread)
        return thread, card.text or ""


@pytest.fixture(params=LANGUAGES)
async def scene(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock, browser: Browser
) -> AsyncIterator[Scene]:
    language = request.param
    folder = tmp_path / "sandbox"
    async with running_stack("sqlite+memory", folder, clock=clock, default_locale=language) as s:
        async with Sandbox(s.url) as sandbox:
            agent = await desk_agent(sandbox, s)
            ivan = await signed_in(sandbox, browser, language)
            yield Scene(language, words(language), s, agent, ivan)


async def test_the_card_says_the_step_and_the_reason_in_words(scene: Scene) -> None:
    t, ivan = scene.t, scene.ivan
    await to_sms_code(ivan, t)
    for wrong in ("000001", "000002", "000003"):
        await ivan.send(wrong)
    await ivan.wait_for(has_button(t("Yes, write to support")))
    await ivan.press(t("Yes, write to support"))

    thread, text = await scene.card()
    assert t("Step: {state}").format(state=t(STEP)) in text
    assert t("Reason: {reason}").format(reason=t("repeated trouble with the SMS code")) in text
    assert "BindPhone" not in text and "sms_code" not in text
    assert t("<b>Your account</b>") not in text
    assert "Dev ID" in text and "+44 *** ***" in text  # the account, masked
    assert "› [hidden]" in text and "000001" not in text  # the codes typed

    await scene.agent.send("/close", thread_id=thread)
    back = t("Closed. The person is back at: {step}.")
    await scene.agent.wait_for(back.format(step=t(STEP)), thread_id=thread)


async def test_ordinary_words_reach_agents_as_written_and_a_password_does_not(
    scene: Scene,
) -> None:
    t, ivan, agent, language = scene.t, scene.ivan, scene.agent, scene.language
    await ivan.send(ORDINARY[language])  # at the card: the log keeps it for the agents
    await ivan.settled()
    await ivan.press(t("Support"))

    thread, text = await scene.card()
    assert f"› {ORDINARY[language]}" in text
    await ivan.send(STILL[language])
    relayed = await agent.wait_for(STILL[language], thread_id=thread)
    assert relayed.text == STILL[language]
    await ivan.send(TYPED[language])
    await agent.wait_for("[hidden]", thread_id=thread)
    await agent.settled()
    assert not any(PASSWORD in (m.text or "") for m in await agent.messages(thread))
