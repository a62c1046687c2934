"""People, groups and chats survive a restart when the sandbox keeps them in a file."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sandbox.botapi import SandboxState, register_botapi, restore
from tests.conftest import FakeClock
from tests.sandbox.conftest import TOKEN, Running


async def test_a_restart_keeps_people_groups_and_chats(
    running: Running, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "telegram.json"
    restore(running.state, path)
    alice = await running.started_person("Alice")
    sent = await running.bot.send_message(alice.id, "<b>Welcome</b>", parse_mode="HTML")
    await running.bot.delete_message(alice.id, sent.message_id)
    await alice.send("still here")
    group = await running.sandbox.group("Support")
    topic = await running.bot.create_forum_topic(group["id"], "Alice")
    await running.sandbox.agent(group, "Olga")

    app = web.Application()
    register_botapi(app, running.state)
    app.freeze()
    await app.startup()
    await app.cleanup()  # what stopping the sandbox does: the file is written
    assert path.exists()

    again = SandboxState(clock=clock)
    bot = again.add_bot(TOKEN, username="sandbox_test_bot")
    restore(again, path)
    assert [p.first_name for p in again.people()] == ["Alice", "Olga"]
    dialog = again.dialog(bot, again.chats[alice.id])
    assert dialog.started
    assert [(m.text, m.deleted) for m in dialog.messages.values()] == [
        ("/start", False),
        ("Welcome", True),
        ("still here", False),
    ]
    forum = again.chats[group["id"]]
    assert forum.topics[topic.message_thread_id].name == "Alice"
    newcomer = again.add_person("Bob")
    assert newcomer.id > max(p.id for p in again.people() if p is not newcomer)
    assert again.add_group("Other").id != group["id"]


def test_no_file_yet_is_a_fresh_start(tmp_path: Path) -> None:
    state = SandboxState()
    restore(state, tmp_path / "missing.json")
    assert state.people() == []
    assert state.storage_path == tmp_path / "missing.json"
