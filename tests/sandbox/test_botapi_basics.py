"""getMe, the token check, unknown methods, chats, commands, menu button and members."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramUnauthorizedError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, MenuButtonWebApp, WebAppInfo

from tests.sandbox.conftest import Running, sandbox_bot


async def test_get_me_describes_the_registered_bot(running: Running) -> None:
    me = await running.bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "sandbox_test_bot", True)


async def test_a_wrong_token_is_unauthorized(running: Running) -> None:
    stranger = sandbox_bot("123456789:wrong-secret", running.base_url)
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_an_unknown_method_is_not_found_in_telegrams_shape(running: Running) -> None:
    url = f"{running.base_url}/bot{running.bot.token}/sendTelepathy"
    async with aiohttp.ClientSession() as http, http.post(url, json={}) as response:
        body = await response.json()
    assert response.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_form_encoded_calls_work_like_json_ones(running: Running) -> None:
    person = await running.started_person()
    url = f"{running.base_url}/bot{running.bot.token}/sendMessage"
    form = {"chat_id": str(person.id), "text": "form"}
    async with aiohttp.ClientSession() as http, http.post(url, data=form) as response:
        assert (await response.json())["ok"] is True
    assert (await person.last_message()).text == "form"  # type: ignore[union-attr]


async def test_get_chat_tells_a_private_chat_from_a_forum(running: Running) -> None:
    person = await running.started_person("Dana")
    group = await running.sandbox.group("Support desk")
    private = await running.bot.get_chat(person.id)
    forum = await running.bot.get_chat(group["id"])
    assert (private.type, private.first_name) == ("private", "Dana")
    assert (forum.type, forum.title, forum.is_forum) == ("supergroup", "Support desk", True)


async def test_an_unknown_chat_is_not_found(running: Running) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await running.bot.get_chat(42)


async def test_commands_are_kept_per_scope_and_language(running: Running) -> None:
    scope = BotCommandScopeAllPrivateChats()
    russian = [BotCommand(command="start", description="Начать")]
    await running.bot.set_my_commands(russian, scope=scope, language_code="ru")
    await running.bot.set_my_commands([BotCommand(command="help", description="Help")])
    kept = await running.bot.get_my_commands(scope=scope, language_code="ru")
    assert [(c.command, c.description) for c in kept] == [("start", "Начать")]
    assert [c.command for c in await running.bot.get_my_commands()] == ["help"]
    assert await running.bot.get_my_commands(language_code="de") == []


async def test_a_malformed_command_is_refused(running: Running) -> None:
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await running.bot.set_my_commands([BotCommand(command="Start Now", description="x")])


async def test_the_menu_button_is_accepted_and_shown(running: Running) -> None:
    button = MenuButtonWebApp(text="Open", web_app=WebAppInfo(url="https://example.org/app"))
    assert await running.bot.set_chat_menu_button(menu_button=button) is True
    person = await running.sandbox.person()
    assert (await person.chat())["menu_button"]["text"] == "Open"


async def test_chat_action_shows_until_the_bot_writes(running: Running) -> None:
    person = await running.started_person()
    await running.bot.send_chat_action(person.id, "typing")
    assert (await person.chat())["action"] == "typing"
    await running.bot.send_message(person.id, "done")
    assert (await person.chat())["action"] is None


async def test_chat_member_status_follows_group_membership(running: Running) -> None:
    group = await running.sandbox.group()
    agent = await running.sandbox.agent(group, "Olga", status="administrator")
    member = await running.sandbox.agent(group, "Max", status="member")
    outsider = await running.sandbox.person("Eve")
    status = [
        (await running.bot.get_chat_member(group["id"], user_id)).status
        for user_id in (agent.id, member.id, outsider.id, running.bot.id)
    ]
    assert status == ["administrator", "member", "left", "administrator"]


async def test_the_bots_description_and_name_are_kept_per_language(running: Running) -> None:
    await running.bot.set_my_description("Adds a password to your account", language_code="en")
    await running.bot.set_my_short_description("Account assistant")
    assert (await running.bot.get_my_description(language_code="en")).description == (
        "Adds a password to your account"
    )
    assert (await running.bot.get_my_short_description()).short_description == "Account assistant"
    assert (await running.bot.get_my_name()).name == "Test Bot"


async def test_group_administrators_are_listed(running: Running) -> None:
    group = await running.sandbox.group()
    await running.sandbox.agent(group, "Olga", status="administrator")
    await running.sandbox.agent(group, "Max", status="member")
    admins = await running.bot.get_chat_administrators(group["id"])
    assert sorted(a.user.first_name for a in admins) == ["Olga", "Test Bot"]
