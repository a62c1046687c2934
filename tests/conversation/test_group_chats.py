"""PRODUCT §3: the bot works only in private chats, and in the support chat only as a relay."""

from __future__ import annotations

from sandbox.client import Sandbox


async def test_the_bot_stays_silent_in_an_ordinary_group(sandbox: Sandbox) -> None:
    friends = await sandbox.group("Friends", is_forum=False)
    olga = await sandbox.agent(friends, "Olga", status="member")

    await olga.send("/start")
    await olga.send("/me")
    await olga.send("ivan@example.com")
    await olga.settled()  # the bot has handled all three: had it meant to answer, it has

    assert [m.text for m in await olga.messages() if m.from_bot] == []
