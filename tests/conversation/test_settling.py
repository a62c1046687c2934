"""The settle barrier with the real bot: a test knows the bot has handled everything it was sent."""

from __future__ import annotations

import pytest

from core.errors import Unavailable
from sandbox.client import Sandbox
from sandbox.client.messages import NoAnswer
from sandbox.stack import SandboxStack


async def bot_texts(person: object) -> list[str]:
    return [m.text or "" for m in await person.messages() if m.from_bot]  # type: ignore[attr-defined]


async def test_settled_returns_once_the_answers_were_sent(sandbox: Sandbox) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")

    await ivan.start()
    await ivan.send("/help")
    await ivan.settled()

    texts = await bot_texts(ivan)
    assert any("Hello, Ivan!" in text for text in texts)
    assert len(texts) >= 2


async def test_an_error_answer_is_part_of_the_handling(
    sandbox: Sandbox, stack: SandboxStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer aiogram's error middleware gives is sent before the barrier opens."""

    async def down(*_: object) -> None:
        raise Unavailable()

    monkeypatch.setattr(type(stack.services.account), "person", down)  # a frozen flow
    ivan = await sandbox.person("Ivan", language_code="en")

    await ivan.start()
    await ivan.settled()

    assert any("temporarily unavailable" in text for text in await bot_texts(ivan))


async def test_waiting_for_what_the_bot_does_not_say_fails_once_it_has_answered(
    sandbox: Sandbox,
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await ivan.start()

    with pytest.raises(NoAnswer, match="no message matched 'Goodbye'"):
        await ivan.wait_for("Goodbye")
    assert any("Hello, Ivan!" in text for text in await bot_texts(ivan))
