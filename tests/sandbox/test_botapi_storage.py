"""People, groups and chats survive a restart when the sandbox keeps them in a file."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sandbox.botapi import BotAccount, SandboxState, register_botapi, restore, save
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


def _continued(path: Path, clock: FakeClock) -> tuple[SandboxState, BotAccount]:
    state = SandboxState(clock=clock)
    bot = state.add_bot(TOKEN, username="sandbox_test_bot")
    restore(state, path)
    return state, bot


def test_update_ids_go_on_after_a_clean_restart(tmp_path: Path, clock: FakeClock) -> None:
    """A bot takes an update id it has seen for a duplicate: the sandbox never repeats one."""
    path = tmp_path / "telegram.json"
    state, bot = _continued(path, clock)
    person = state.add_person("Alice")
    for text in ("one", "two", "three"):
        state.push_update(bot, "message", {"text": text, "chat": {"id": person.id}})
    used = [u["update_id"] for u in bot.updates]
    save(state, path)

    again, bot_again = _continued(path, clock)
    again.push_update(bot_again, "message", {"text": "four"})

    assert bot_again.updates[0]["update_id"] == max(used) + 1


def test_update_and_person_ids_are_not_handed_out_again_after_a_kill(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "telegram.json"
    state, bot = _continued(path, clock)
    people = [state.add_person(f"P{n}").id for n in range(3)]
    for n in range(5):
        state.push_update(bot, "message", {"text": str(n)})
    used = [u["update_id"] for u in bot.updates]
    # Killed: nothing saved at a stop, only what was written as the ids were handed out.

    again, bot_again = _continued(path, clock)
    again.push_update(bot_again, "message", {"text": "after"})
    newcomer = again.add_person("New")

    assert bot_again.updates[0]["update_id"] > max(used)
    assert newcomer.id > max(people)


async def test_every_answered_change_is_kept_without_a_clean_stop(
    running: Running, tmp_path: Path, clock: FakeClock
) -> None:
    """No save at a stop (as after kill -9): the journal has every change the sandbox answered;
    a line a kill cut short is skipped."""
    path = tmp_path / "telegram.json"
    restore(running.state, path)
    alice = await running.started_person("Alice")
    sent = await running.bot.send_message(alice.id, "*Welcome*", parse_mode="MarkdownV2")
    await running.bot.edit_message_text(
        "Welcome back", chat_id=alice.id, message_id=sent.message_id
    )
    await alice.send("hello")
    with (tmp_path / "telegram.journal").open("a", encoding="utf-8") as journal:
        journal.write('{"format": 1, "people": [{"id": 7')  # a write cut short

    again, bot = _continued(path, clock)
    assert [p.first_name for p in again.people()] == ["Alice"]
    dialog = again.dialog(bot, again.chats[alice.id])
    assert [m.text for m in dialog.messages.values()] == ["/start", "Welcome back", "hello"]
    assert dialog.messages[sent.message_id].history == ["Welcome"]
    assert again.add_person("Bob").id > alice.id
