"""After a SIGKILL in the middle of an update, that update is handled, and the chat answers
within 5 s of the restart (SPEC §3): no update lost to an early offset, no chat stranded by the
dead process's lock."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sandbox.client import Person, Sandbox
from tests.conversation.browser import Browser
from tests.reliability.standin import BotProcess, World, bot_and_world

log = logging.getLogger(__name__)
ANSWER_WITHIN = 5.0


async def sign_in(person: Person, browser: Browser) -> None:
    await person.start()
    await person.wait_for("sign in with the network", timeout=30)
    url = await person.press("Sign in with Dev ID")
    assert url is not None
    await browser.open(url)
    await browser.submit(name="Ivan Petrov", email="", email_verified=False)
    await browser.submit(button="confirm")
    await person.wait_for("Your account", timeout=30)


async def kill_in_the_middle(bot: BotProcess, world: World, person: Person, text: str) -> None:
    """The person writes; the bot is killed while it is answering (holding the chat's lock)."""
    world.held.clear()
    world.hold_next_send = True
    await person.send(text)
    await asyncio.wait_for(world.held.wait(), 30)
    await bot.kill()
    world.release.set()


async def test_the_update_being_handled_at_a_kill_is_handled_after_the_restart(
    tmp_path: Path,
) -> None:
    async with bot_and_world(tmp_path / "bot") as (bot, world), Sandbox(world.url) as sandbox:
        await bot.start()
        await bot.ready()
        ivan = await sandbox.person("Ivan", language_code="en")
        browser = Browser()
        try:
            await sign_in(ivan, browser)
            await kill_in_the_middle(bot, world, ivan, "/me")

            world.release.clear()
            loop = asyncio.get_running_loop()
            spawned = loop.time()
            await bot.start()
            await bot.ready()
            restarted = loop.time()
            # The /me the dead process was answering comes back and is answered...
            await ivan.wait_for("Your account", timeout=ANSWER_WITHIN)
            interrupted = loop.time() - restarted
            # ...and the chat answers what comes next at once.
            await ivan.send("/help")
            await ivan.wait_for("/cancel", timeout=ANSWER_WITHIN)
            answered = loop.time() - restarted
            log.warning(
                "the bot polled %.2f s after it was started again; from then the interrupted "
                "update was answered in %.2f s, the next one in %.2f s",
                restarted - spawned,
                interrupted,
                answered,
            )
            assert answered < ANSWER_WITHIN
        finally:
            await browser.close()
