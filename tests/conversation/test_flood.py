"""Telegram's flood limits on (PRODUCT §3): people at a person's and at a machine's pace, and a
backlog at start-up; every answer arrives, in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.pacing import pacer_of
from sandbox.botapi import SandboxState, people
from sandbox.botapi.views import person_to_view
from sandbox.client import Person, Sandbox
from sandbox.stack import SANDBOX_BOT, SANDBOX_TOKEN, SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import STORAGE_PAIRS, code_in, running_stack, sign_in

UNAVAILABLE = "temporarily unavailable"


class FloodClock:
    """Real time plus an offset: the person's pauses and the bot's waits move it, not sleeps.

    Both sides read it: the sandbox's flood windows and the bot's pacer.
    """

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def seconds(self) -> float:
        return self.now().timestamp()

    def pass_(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.pass_(seconds)
        await asyncio.sleep(0)


def on_flood_clock(stack: SandboxStack) -> FloodClock:
    clock = FloodClock()
    stack.state.clock = clock
    pacer = pacer_of(stack.bot)
    assert pacer is not None
    pacer.clock, pacer.sleep = clock.seconds, clock.sleep
    return clock


async def bot_texts(person: Person) -> list[str]:
    """What the bot said in the chat, in order."""
    return [m.text or "" for m in await person.messages() if m.from_bot and not m.deleted]


def in_order(said: list[str], expected: list[str]) -> bool:
    """Each expected text appears in a message of its own, after the one before."""
    position = 0
    for text in expected:
        while position < len(said) and text not in said[position]:
            position += 1
        if position == len(said):
            return False
        position += 1
    return True


BINDING = [
    "Your account",
    "Send the email address",
    "Create a password",
    "I deleted your message with the password",
    "I sent a letter to olga@example.com",
    "Email bound",
]


@pytest.mark.parametrize("pair", STORAGE_PAIRS)
@pytest.mark.parametrize("pace", [1.0, 0.6, 0.0], ids=["human-1s", "human-0.6s", "machine"])
async def test_a_person_answering_quickly_hears_every_answer_in_order(
    pair: str, pace: float, tmp_path: Path, browser: Browser
) -> None:
    async with (
        running_stack(pair, tmp_path / "sandbox", flood_limits=True) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        clock = on_flood_clock(stack)
        olga = await sandbox.person("Olga", language_code="en")
        await sign_in(olga, browser, name="Olga Smirnova")

        async def then(text: str) -> None:
            await olga.wait_for(text, timeout=30)
            clock.pass_(pace)  # the person reads it and answers

        await then("Your account")
        await olga.press("Bind email")
        await then("Send the email address")
        await olga.send("olga@example.com")
        await then("Create a password")
        await olga.send("kettle under the violet moon")
        await olga.wait_for("I deleted your message with the password", timeout=30)
        await then("I sent a letter to olga@example.com")
        letter = stack.mailbox.letters(to="olga@example.com")[0]
        await olga.send(code_in(letter.text))
        await olga.wait_for("Email bound", timeout=30)

        said = await bot_texts(olga)
        assert in_order(said, BINDING), said
        assert not any(UNAVAILABLE in text for text in said), said
        assert stack.state.flood.refused == 0  # paced: Telegram never had to say "wait"


BACKLOG = ["/start", "/help", "/language", "/start", "/help", "/language", "/start", "/help"]
ANSWERS = ["Hello, Vera!", "/cancel", "Choose the language", "Hello, Vera!", "/cancel"]
ANSWERS += ["Choose the language", "Hello, Vera!", "/cancel"]


@pytest.mark.parametrize("pair", STORAGE_PAIRS)
async def test_a_backlog_at_start_up_is_answered_whole_and_in_order(
    pair: str, tmp_path: Path
) -> None:
    state = SandboxState(flood_limits=True)
    bot = state.add_bot(SANDBOX_TOKEN, username=SANDBOX_BOT, first_name="Account assistant")
    vera = state.add_person("Vera", language_code="en")
    for text in BACKLOG:  # written while the bot was not running
        people.post(state, bot, vera, state.chats[vera.id], **people.text_fields(text))

    async with (
        running_stack(pair, tmp_path / "sandbox", flood_limits=True, state=state) as stack,
        Sandbox(stack.url) as sandbox,
    ):
        person = Person(sandbox, person_to_view(vera))
        said = await answers(person, sandbox, len(ANSWERS))

        assert in_order(said, ANSWERS), said
        assert len(said) == len(ANSWERS), said
        assert stack.state.flood.refused == 0


async def answers(person: Person, sandbox: Sandbox, count: int) -> list[str]:
    """The bot's messages once there are `count` of them (a generous deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        chat = await person.chat()
        said = await bot_texts(person)
        left = deadline - loop.time()
        if len(said) >= count or left <= 0:
            return said
        await sandbox.wait_event(chat["version"], min(left, 5.0))
