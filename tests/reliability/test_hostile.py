"""SPEC §3, hostile input: whatever a Telegram client can send — forged and stale buttons, every
kind of message, edits, forwards, other chats — gets a short answer or is ignored on purpose;
never a traceback, never an effect it should not have.
"""

from __future__ import annotations

from sandbox.client import Sandbox
from tests.conversation.browser import Browser
from tests.conversation.conftest import browser, sandbox, sign_in, stack

__all__ = ["browser", "sandbox", "stack"]  # the conversation fixtures, used here too

STALE = "no longer active"


async def test_a_forged_button_is_refused_and_changes_nothing(
    sandbox: Sandbox, browser: Browser
) -> None:
    """`m:signout` on a message that has no such button (issue #10): the person stays signed in."""
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await ivan.send("/language")
    languages = await ivan.wait_for("Choose the language")

    await ivan.press_data(languages, "m:signout")
    answer = await ivan.wait_for_answer()

    assert STALE in (answer["text"] or "")
    await ivan.send("/me")
    card = await ivan.wait_for("Your account")
    assert "Sign out" in [button.text for row in card.buttons for button in row]


async def test_a_forged_button_on_ones_own_message_and_a_stale_one_are_refused(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    card = await ivan.wait_for("Your account")
    own = await ivan.send("hello")
    await ivan.wait_for("did not understand")

    await ivan.press_data(own, "m:signout")
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")
    await ivan.press_data(card, "m:signout", stale=True)  # too old: Telegram hides the message
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")
    await ivan.press_data(card, "m:nonsense")  # data no button of the card has
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")

    await ivan.send("/me")
    await ivan.wait_for("Your account")


async def test_a_real_button_still_works(sandbox: Sandbox, browser: Browser) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    card = await ivan.wait_for("Your account")
    await ivan.press_data(card, "m:signout")  # exactly the data the card's button carries
    await ivan.wait_for("You are signed out")
